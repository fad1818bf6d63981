#pragma once
// The protocol blocks of an Outlook settings answer depend on the mailbox's database, the domain of
// its address and what the client said it can handle, plus one personal value: the mailbox GUID in
// Exchange 2013's personalised server name and MAPI/HTTP URLs. PoxCache keeps the blocks rendered
// once (by resolve() and the POX codec themselves) for each such key, with the GUID cut out, and
// answers a later mailbox with its own User element, the blocks and its own GUID: the same bytes
// renderPox(resolve()) writes (a test compares them), for a fraction of the work.
//
// One cache per thread; it keeps the snapshot its entries were made from alive, and starts again
// when given another. Its size is bounded by databases x domains x 16 client flag combinations.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "autodiscover/resolve.hpp"

namespace autodisc::protocol {

class PoxCache {
 public:
  // For a mailbox's Outlook settings answer: appends to `out` what
  // renderPox(resolve(*org, q), q.schema, {}) would write and returns true. For anything else
  // (MobileSync, unknown addresses, mail users, explain) writes nothing and returns false.
  bool render(const std::shared_ptr<const model::Organization>& org, const autodiscover::Query& q, std::string& out);
  // Lets go of the entries and the snapshot unless `org` is the one they were made from.
  void keepOnly(const std::shared_ptr<const model::Organization>& org);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string text;                  // the blocks, with the GUID cut out
    std::vector<std::uint32_t> cuts;   // where the GUID goes, ascending
  };
  std::shared_ptr<const model::Organization> org_;
  std::unordered_map<std::string, Entry> entries_;
  std::string key_;  // reused
};

}  // namespace autodisc::protocol
