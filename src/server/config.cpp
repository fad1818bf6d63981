#include "server/config.hpp"

#include <toml++/toml.h>

#include <functional>
#include <map>

#include "model/validate.hpp"
#include "store/store.hpp"

namespace autodisc::server {

namespace {

std::string where(const std::string& file, const toml::source_region& r) {
  return file + ":" + std::to_string(r.begin.line);
}

}  // namespace

Result<void> loadConfig(const std::string& file, Options& o) {
  toml::table root;
  try {
    root = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    return fail(file + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  Options next = o;
  using Setter = std::function<Result<void>(const toml::node&)>;
  auto str = [](std::string& out) -> Setter {
    return [&out](const toml::node& n) -> Result<void> {
      auto v = n.value<std::string>();
      if (!v) return fail("a string is expected");
      out = *v;
      return {};
    };
  };
  auto integer = [](auto& out, long long min, long long max) -> Setter {
    return [&out, min, max](const toml::node& n) -> Result<void> {
      auto v = n.value<long long>();
      if (!v) return fail("a whole number is expected");
      if (*v < min || *v > max) return fail("the value must be from " + std::to_string(min) + " to " + std::to_string(max));
      out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
      return {};
    };
  };
  auto list = [](std::vector<std::string>& out) -> Setter {
    return [&out](const toml::node& n) -> Result<void> {
      std::vector<std::string> items;
      if (auto v = n.value<std::string>()) {
        items.push_back(*v);
      } else if (auto* a = n.as_array()) {
        for (auto& e : *a) {
          auto s = e.value<std::string>();
          if (!s) return fail("a list of strings is expected");
          items.push_back(*s);
        }
      } else {
        return fail("a string or a list of strings is expected");
      }
      out = items;
      return {};
    };
  };
  const std::map<std::string, Setter> keys = {
      {"store", str(next.storeUri)},
      {"https", list(next.https)},
      {"http", str(next.http)},
      {"admin", str(next.admin)},
      {"cert", list(next.certFiles)},
      {"key", list(next.keyFiles)},
      {"threads", integer(next.threads, 0, 256)},
      {"auth", str(next.auth)},
      {"internal_networks", list(next.internalNetworks)},
      {"access_log", str(next.accessLog)},
      {"scp_directory", str(next.scpDirectory)},
      {"snapshot_file", str(next.snapshotFile)},
      {"max_body_bytes", integer(next.maxBodyBytes, 1024, 16 << 20)},
      {"io_timeout_seconds", integer(next.ioTimeoutSeconds, 1, 3600)},
      {"max_connections", integer(next.maxConnections, 1, 1000000)},
      {"poll_milliseconds", integer(next.pollMilliseconds, 10, 60000)},
      {"drain_seconds", integer(next.drainSeconds, 0, 300)},
      {"max_failures", integer(next.maxFailures, 1, 1000)},
      {"failure_window_seconds", integer(next.failureWindowSeconds, 1, 86400)},
  };
  for (auto& [k, node] : root) {
    std::string key(k.str());
    auto it = keys.find(key);
    if (it == keys.end()) return fail(where(file, node.source()) + ": unknown key '" + key + "' (see docs/config.md)");
    if (auto r = it->second(node); !r) return fail(where(file, node.source()) + ": " + key + ": " + r.error().message);
  }
  o = next;
  return {};
}

Result<void> checkOptions(const Options& o) {
  if (o.auth != "anonymous" && o.auth != "basic") return fail("auth: '" + o.auth + "' is not anonymous or basic");
  if (o.https.empty() && o.http.empty()) return fail("nothing to listen on: give https (and perhaps http)");
  // cert and key may be left out when the store holds a certificate enabled for IIS: serve checks
  // that at start, once the store is read.
  if (!o.https.empty())
    if (auto r = checkCertificate(o); !r) return r;
  for (auto& n : o.internalNetworks)
    if (n != "ad-sites")
      if (auto c = parseCidr(n); !c) return fail("internal_networks: " + c.error().message);
  auto s = store::openStore(o.storeUri);
  if (!s) return fail("store: " + s.error().message);
  return {};
}

}  // namespace autodisc::server
