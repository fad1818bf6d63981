#pragma once
// The service's TOML configuration file: every key of Options, unknown keys refused with file, line
// and key. docs/config.md lists the keys and their defaults.
#include <string>

#include "model/error.hpp"
#include "server/server.hpp"

namespace autodisc::server {

// Reads FILE into `options` (keys not in the file keep their current values).
Result<void> loadConfig(const std::string& file, Options& options);

// Checks what `serve` would refuse at start: addresses, the certificate and key, the store, networks.
Result<void> checkOptions(const Options& options);

}  // namespace autodisc::server
