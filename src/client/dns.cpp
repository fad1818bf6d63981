#include "client/dns.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/select.h>

#include <memory>
#include <mutex>

namespace autodisc::client {

namespace {

// One c-ares channel for one question, run to its end.
class Channel {
 public:
  explicit Channel(const DnsOptions& o) {
    static std::once_flag once;
    std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
    ares_options opts{};
    opts.timeout = o.timeoutMs;
    opts.tries = 2;
    ok_ = ares_init_options(&channel_, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) == ARES_SUCCESS;
    if (ok_ && !o.server.empty()) ok_ = ares_set_servers_ports_csv(channel_, o.server.c_str()) == ARES_SUCCESS;
  }
  ~Channel() {
    if (channel_) ares_destroy(channel_);
  }
  bool ok() const { return ok_; }
  ares_channel get() { return channel_; }
  void run() {
    for (;;) {
      fd_set readers, writers;
      FD_ZERO(&readers);
      FD_ZERO(&writers);
      int n = ares_fds(channel_, &readers, &writers);
      if (n == 0) break;
      timeval tv{}, *wait = ares_timeout(channel_, nullptr, &tv);
      select(n, &readers, &writers, nullptr, wait);
      ares_process(channel_, &readers, &writers);
    }
  }

 private:
  ares_channel channel_ = nullptr;
  bool ok_ = false;
};

}  // namespace

SrvAnswer lookupSrv(const std::string& name, const DnsOptions& o) {
  SrvAnswer a;
  Channel ch(o);
  if (!ch.ok()) {
    a.error = "the DNS resolver could not be set up" + (o.server.empty() ? std::string() : " for " + o.server);
    return a;
  }
  ares_query(
      ch.get(), name.c_str(), 1 /* IN */, 33 /* SRV */,
      [](void* arg, int status, int, unsigned char* buf, int len) {
        auto* out = static_cast<SrvAnswer*>(arg);
        if (status != ARES_SUCCESS) {
          out->error = ares_strerror(status);
          return;
        }
        ares_srv_reply* reply = nullptr;
        if (int rc = ares_parse_srv_reply(buf, len, &reply); rc != ARES_SUCCESS) {
          out->error = ares_strerror(rc);
          return;
        }
        for (auto* r = reply; r; r = r->next) {
          std::string target = r->host ? r->host : "";
          if (!target.empty() && target.back() == '.') target.pop_back();
          out->records.push_back({r->priority, r->weight, r->port, target});
        }
        ares_free_data(reply);
      },
      &a);
  ch.run();
  return a;
}

AddressAnswer lookupAddresses(const std::string& host, const DnsOptions& o) {
  AddressAnswer a;
  Channel ch(o);
  if (!ch.ok()) {
    a.error = "the DNS resolver could not be set up" + (o.server.empty() ? std::string() : " for " + o.server);
    return a;
  }
  for (int family : {AF_INET, AF_INET6}) {
    ares_gethostbyname(
        ch.get(), host.c_str(), family,
        [](void* arg, int status, int, hostent* h) {
          auto* out = static_cast<AddressAnswer*>(arg);
          if (status != ARES_SUCCESS || !h) {
            if (out->error.empty()) out->error = ares_strerror(status);
            return;
          }
          char text[INET6_ADDRSTRLEN];
          for (char** p = h->h_addr_list; p && *p; ++p)
            if (inet_ntop(h->h_addrtype, *p, text, sizeof text)) out->addresses.emplace_back(text);
        },
        &a);
  }
  ch.run();
  if (!a.addresses.empty()) a.error.clear();
  return a;
}

}  // namespace autodisc::client
