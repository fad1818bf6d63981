#pragma once
// autodisc serve: the Autodiscover service over HTTPS (and the plain-HTTP redirect), answering from
// an immutable Snapshot that a background thread refreshes from the store.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/error.hpp"
#include "model/organization.hpp"
#include "store/store.hpp"

namespace autodisc::server {

struct Options {
  std::string storeUri;
  std::vector<std::string> https;  // ADDR:PORT, port 0 picks a free one
  std::string http;                // ADDR:PORT for the redirect method; empty: none
  std::string admin = "127.0.0.1:0";
  // Certificate chains and their keys (PEM), in pairs. The first is served by default; another is
  // chosen by SNI when the name the client asks for is one its certificate covers.
  std::vector<std::string> certFiles, keyFiles;
  int threads = 0;                 // 0: one per core
  std::size_t maxBodyBytes = 64 * 1024;
  int ioTimeoutSeconds = 30;
  int maxConnections = 10000;      // connections past this are closed at once
  int pollMilliseconds = 250;      // how often the store's version is checked
  // After SIGTERM: not ready at once (/readyz 503), but still accepting and answering for this long,
  // so that a load balancer's health check takes the node out before it stops accepting.
  int drainSeconds = 0;
  // "anonymous": answer without credentials (anyone can learn which addresses exist and their
  // settings). "basic": as Exchange, a 401 challenge; a mailbox's password; a user is answered only
  // about its own addresses (others get the same "can't be found" as unknown addresses).
  std::string auth = "anonymous";
  // Clients outside these ranges are not told internal host names (no EXCH block, no internal URLs).
  // "ad-sites" stands for every AD site subnet of the organisation. Empty: every client is internal.
  std::vector<std::string> internalNetworks;
  std::string accessLog;           // W3C extended log file; empty: none
  // A directory (ldap://HOST[:PORT]/BASE-DN) to publish the Client Access Servers' Autodiscover SCPs
  // into, at start and after every change (docs/directory.md); empty: none.
  std::string scpDirectory;
  // A local copy of the last snapshot (an SQLite file), written after changes; the service starts
  // from it when its store cannot be reached at start. Empty: none.
  std::string snapshotFile;

  int maxFailures = 5;             // failed logins per client address, and per account, per window
  int failureWindowSeconds = 60;
};

// Runs until SIGTERM or SIGINT; returns the process exit status. Prints "listening NAME ADDR:PORT"
// for each listener once it accepts connections.
// `reload`, if given, reads the configuration again on SIGHUP (the file and the flags, as at start).
int serve(const Options& options, std::function<Result<Options>()> reload = nullptr);

// Whether the certificate chain and key can be served (as at start and on SIGHUP).
Result<void> checkCertificate(const Options& options);

}  // namespace autodisc::server
