// Google Benchmark for the core: recipient lookups must cost the same at any organisation size.
#include <benchmark/benchmark.h>

#include <string>

#include "model/organization.hpp"
#include "model/schema.hpp"
#include "protocol/pox.hpp"

using namespace autodisc::model;

namespace {

Organization makeOrg(std::size_t n) {
  Organization org;
  org.put(AcceptedDomain{1, "contoso.com", "contoso.com", DomainType::Authoritative, true, {}});
  org.reserveRecipients(n);
  for (std::size_t i = 1; i <= n; ++i) {
    Recipient r;
    r.id = static_cast<Id>(i);
    r.type = RecipientType::Mailbox;
    std::string alias = "user" + std::to_string(i);
    std::string addr = "SMTP:" + alias + "@contoso.com";
    std::string dn = "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=" + alias;
    const std::string_view fields[Recipient::kFieldCount] = {alias, alias, alias, dn, "", "", addr};
    r.setFields(fields);
    r.database = 1;
    org.put(std::move(r));
  }
  return org;
}

void BM_RecipientByAddress(benchmark::State& state) {
  auto n = static_cast<std::size_t>(state.range(0));
  Organization org = makeOrg(n);
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < 1024; ++i) keys.push_back("USER" + std::to_string(1 + (i * 7919) % n) + "@Contoso.com");
  std::size_t k = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(org.recipientByAddress(keys[k++ & 1023]));
  }
}
BENCHMARK(BM_RecipientByAddress)->Arg(10)->Arg(1000)->Arg(100000)->Arg(1000000);

}  // namespace

// Reading an Outlook POX request as clients send it: the one-pass reading, and pugixml's.
const std::string kPoxBody =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/"
    "autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>user50000@contoso.com</EMailAddress>"
    "<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
    "</AcceptableResponseSchema></Request></Autodiscover>";

void BM_ParsePox(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(autodisc::protocol::parsePoxRequest(kPoxBody));
}
BENCHMARK(BM_ParsePox);

void BM_ParsePoxTree(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(autodisc::protocol::parsePoxRequestTree(kPoxBody));
}
BENCHMARK(BM_ParsePoxTree);

BENCHMARK_MAIN();
