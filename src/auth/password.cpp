#include "auth/password.hpp"

#include <sodium.h>

#include <cstdint>

namespace autodisc::auth {

namespace {
constexpr unsigned long long kOps = 3;
constexpr std::size_t kMem = 16u << 20;

bool ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}
}  // namespace

Result<std::string> hashPassword(std::string_view password) {
  if (!ready()) return fail("the password library could not start");
  if (password.empty()) return fail("a password cannot be empty");
  if (password.size() > 256) return fail("a password can have at most 256 characters");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kOps, kMem, crypto_pwhash_ALG_ARGON2ID13) != 0)
    return fail("hashing the password ran out of memory");
  return std::string(out);
}

bool verifyPassword(std::string_view encodedHash, std::string_view password) {
  if (!ready() || encodedHash.empty() || encodedHash.size() >= crypto_pwhash_STRBYTES) return false;
  std::string h(encodedHash);
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

std::string credentialDigest(std::string_view user, std::string_view password, std::string_view encodedHash) {
  ready();
  static unsigned char key[crypto_generichash_KEYBYTES];
  static const bool keyed = (randombytes_buf(key, sizeof key), true);
  (void)keyed;
  crypto_generichash_state st;
  crypto_generichash_init(&st, key, sizeof key, 32);
  auto feed = [&](std::string_view s) {
    std::uint64_t n = s.size();
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(&n), sizeof n);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(s.data()), s.size());
  };
  feed(user);
  feed(password);
  feed(encodedHash);
  unsigned char out[32];
  crypto_generichash_final(&st, out, sizeof out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

}  // namespace autodisc::auth
