// Google Benchmark for loading a snapshot: the whole store read into memory, as the service does at
// start-up and after every change. Targets: 1,000,000 recipients load in under 5 s and take under 400 MB.
//
// For each N a SQLite store with N mailboxes (shaped as New-Mailbox makes them) is written once, through
// the store API, into a temporary directory that is deleted at exit. Only store->load() is timed.
// Counters:
//   load_s      seconds per load (the same as the reported time, in seconds)
//   rss_mb      growth of the process's resident set across one load, the snapshot still alive (the
//               largest over the iterations; freed memory is returned with malloc_trim before each)
//   model_mb    Organization::approximateMemoryBytes() of the loaded snapshot
//   store_mb    the size of the SQLite file
//   recipients  the recipients in the loaded snapshot (a check)
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/organization.hpp"
#include "model/schema.hpp"
#include "store/store.hpp"

using namespace autodisc;
using namespace autodisc::model;

namespace {

std::filesystem::path& tempDir() {
  static std::filesystem::path dir;
  return dir;
}

// Resident set size of this process, in bytes (the second field of /proc/self/statm is in pages).
std::size_t residentBytes() {
  std::ifstream f("/proc/self/statm");
  std::size_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

Guid guidFor(std::uint64_t i) { return Guid::fromRandom(0x9e3779b97f4a7c15ULL * (i + 1), i ^ 0x5bd1e995ULL); }

[[noreturn]] void die(const std::string& why) {
  std::cerr << "snapshot_bench: " << why << '\n';
  std::error_code ec;
  if (!tempDir().empty()) std::filesystem::remove_all(tempDir(), ec);
  std::exit(1);
}

// Writes a store with the minimal organisation (what Session::open creates, plus an accepted domain,
// a server and a database) and `n` mailboxes, in commits of at most 100,000 recipients.
std::string buildStore(std::size_t n) {
  auto path = tempDir() / ("store-" + std::to_string(n) + ".db");
  auto store = store::openStore("sqlite:" + path.string());
  if (!store) die(store.error().message);
  Organization org;
  std::uint64_t version = 0;
  auto save = [&] {
    auto changes = org.commit();
    auto v = (*store)->apply(org, changes, version);
    if (!v) die(v.error().message);
    version = *v;
  };

  org.begin();
  OrganizationConfig c = org.config();
  c.guid = guidFor(0);
  org.setConfig(c);
  org.put(AdSite{org.allocateId(Kind::AdSite), "Default-First-Site-Name"});
  for (auto& p : defaultOutlookProviders()) org.put(p);
  org.put(AcceptedDomain{org.allocateId(Kind::AcceptedDomain), "contoso.com", "contoso.com",
                         DomainType::Authoritative, true, {}});
  ExchangeServer server;
  server.id = org.allocateId(Kind::ExchangeServer);
  server.name = "EX01";
  server.fqdn = "ex01.contoso.local";
  server.site = 1;
  server.autoDiscoverServiceInternalUri = defaultAutoDiscoverServiceInternalUri(server);
  org.put(server);
  for (auto& v : defaultVirtualDirectories(server)) {
    v.id = org.allocateId(Kind::VirtualDirectory);
    org.put(v);
  }
  auto oa = defaultOutlookAnywhere(server);
  oa.id = org.allocateId(Kind::OutlookAnywhere);
  org.put(oa);
  MailboxDatabase db;
  db.id = org.allocateId(Kind::MailboxDatabase);
  db.name = "DB01";
  db.server = server.id;
  db.rpcClientAccessServer = server.fqdn;
  db.guid = guidFor(1);
  org.put(db);
  save();

  constexpr std::size_t kChunk = 100000;
  for (std::size_t first = 1; first <= n; first += kChunk) {
    org.begin();
    for (std::size_t i = first; i < first + kChunk && i <= n; ++i) {
      Recipient r;
      r.id = org.allocateId(Kind::Recipient);
      r.type = RecipientType::Mailbox;
      std::string name = "User " + std::to_string(i);
      std::string alias = "user" + std::to_string(i);
      std::string display = "Test User " + std::to_string(i);
      std::string dn = deriveLegacyExchangeDn(org, alias, guidFor(2 * i));
      std::string addr = "SMTP:" + alias + "@contoso.com";
      const std::string_view fields[Recipient::kFieldCount] = {name, alias, display, dn, "", "", addr};
      r.setFields(fields);
      r.database = db.id;
      r.exchangeGuid = guidFor(2 * i + 1);
      org.put(std::move(r));
    }
    save();
  }
  return path.string();
}

const std::string& storeFor(std::size_t n) {
  static std::map<std::size_t, std::string> built;
  auto it = built.find(n);
  if (it == built.end()) it = built.emplace(n, buildStore(n)).first;
  return it->second;
}

void BM_SnapshotLoad(benchmark::State& state) {
  auto n = static_cast<std::size_t>(state.range(0));
  const std::string& path = storeFor(n);
  auto store = store::openStore("sqlite:" + path);
  if (!store) {
    state.SkipWithError(store.error().message.c_str());
    return;
  }
  double seconds = 0;
  std::size_t maxGrowth = 0, modelBytes = 0, recipients = 0;
  for (auto _ : state) {
    malloc_trim(0);
    std::size_t before = residentBytes();
    auto t0 = std::chrono::steady_clock::now();
    auto snap = (*store)->load();
    auto t1 = std::chrono::steady_clock::now();
    if (!snap) {
      state.SkipWithError(snap.error().message.c_str());
      return;
    }
    std::size_t after = residentBytes();  // the snapshot is still alive here
    double s = std::chrono::duration<double>(t1 - t0).count();
    state.SetIterationTime(s);
    seconds += s;
    if (after > before && after - before > maxGrowth) maxGrowth = after - before;
    modelBytes = snap->org->approximateMemoryBytes();
    recipients = snap->org->recipientCount();
    benchmark::DoNotOptimize(snap);
  }  // the snapshot is released here, outside the timed region (manual time)
  constexpr double kMB = 1024.0 * 1024.0;
  state.counters["load_s"] = seconds / static_cast<double>(state.iterations());
  state.counters["rss_mb"] = static_cast<double>(maxGrowth) / kMB;
  state.counters["model_mb"] = static_cast<double>(modelBytes) / kMB;
  state.counters["store_mb"] = static_cast<double>(std::filesystem::file_size(path)) / kMB;
  state.counters["recipients"] = static_cast<double>(recipients);
}
BENCHMARK(BM_SnapshotLoad)->Arg(100000)->Iterations(5)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SnapshotLoad)->Arg(1000000)->Iterations(2)->UseManualTime()->Unit(benchmark::kMillisecond);

// One change applied to a loaded snapshot, as a service with a change stream would do it: a new
// Organization from the current one, one virtual directory's ExternalUrl and one mailbox's display
// name changed, committed. Target: under 10 ms at 1,000,000 recipients.
void BM_ApplyOneChange(benchmark::State& state) {
  auto n = static_cast<std::size_t>(state.range(0));
  auto store = store::openStore("sqlite:" + storeFor(n));
  if (!store) {
    state.SkipWithError(store.error().message.c_str());
    return;
  }
  auto snap = (*store)->load();
  if (!snap) {
    state.SkipWithError(snap.error().message.c_str());
    return;
  }
  std::shared_ptr<const Organization> current = snap->org;
  std::size_t round = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    auto next = std::make_shared<Organization>(*current);
    next->begin();
    VirtualDirectory v = next->all<VirtualDirectory>().begin()->second;
    v.externalUrl = "https://mail" + std::to_string(++round) + ".contoso.com/owa";
    next->put(v);
    Recipient r = *next->recipient(static_cast<Id>(1 + round % n));
    std::string display = "Changed " + std::to_string(round);
    r.setField(Recipient::DisplayName, display);
    next->put(std::move(r));
    next->commit();
    std::shared_ptr<const Organization> published = next;
    auto t1 = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
    current = std::move(published);  // the previous snapshot is freed outside the timed region
  }
  state.counters["recipients"] = static_cast<double>(current->recipientCount());
}
BENCHMARK(BM_ApplyOneChange)->Arg(100000)->Iterations(20)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ApplyOneChange)->Arg(1000000)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  std::string pattern = (std::filesystem::temp_directory_path() / "autodisc-snapshot-bench-XXXXXX").string();
  if (!mkdtemp(pattern.data())) die("cannot create a temporary directory");
  tempDir() = pattern;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    std::filesystem::remove_all(tempDir());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  std::filesystem::remove_all(tempDir(), ec);
  return 0;
}
