#pragma once
// Mailbox passwords: stored as argon2id hashes (libsodium's encoded form), checked in constant time.
#include <string>
#include <string_view>

#include "model/error.hpp"

namespace autodisc::auth {

// Cost of one hash: argon2id with 3 passes over 16 MiB (about 30 ms on a current core). Enough to make
// offline guessing slow; small enough for a service that checks Basic credentials. The parameters are
// part of each stored hash, so they can be raised later without touching existing ones.
Result<std::string> hashPassword(std::string_view password);
bool verifyPassword(std::string_view encodedHash, std::string_view password);

// A keyed digest of (user, password, stored hash) for remembering a successful check without keeping
// the password: equal inputs give equal keys; the key changes when the stored hash does.
std::string credentialDigest(std::string_view user, std::string_view password, std::string_view encodedHash);

}  // namespace autodisc::auth
