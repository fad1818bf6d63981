#include "auth/password.hpp"

#include <gtest/gtest.h>

#include "shell/lexer.hpp"

using namespace autodisc;

TEST(Password, HashesWithArgon2idAndVerifies) {
  auto h = auth::hashPassword("P@ss w0rd");
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_TRUE(h->starts_with("$argon2id$v=19$m=16384,t=3,p=1$")) << *h;
  EXPECT_TRUE(auth::verifyPassword(*h, "P@ss w0rd"));
  EXPECT_FALSE(auth::verifyPassword(*h, "P@ss w0rD"));
  EXPECT_FALSE(auth::verifyPassword("", "P@ss w0rd"));
  EXPECT_FALSE(auth::verifyPassword("garbage", "P@ss w0rd"));
  auto again = auth::hashPassword("P@ss w0rd");
  ASSERT_TRUE(again);
  EXPECT_NE(*h, *again) << "each hash has its own salt";
  EXPECT_FALSE(auth::hashPassword(""));
  EXPECT_FALSE(auth::hashPassword(std::string(300, 'x')));
}

TEST(Password, CredentialDigestsDependOnEveryPart) {
  auto a = auth::credentialDigest("alice", "pw", "$h1");
  EXPECT_EQ(a, auth::credentialDigest("alice", "pw", "$h1"));
  EXPECT_NE(a, auth::credentialDigest("alice", "pw2", "$h1"));
  EXPECT_NE(a, auth::credentialDigest("alice", "pw", "$h2"));
  EXPECT_NE(auth::credentialDigest("ab", "c", "$h"), auth::credentialDigest("a", "bc", "$h"));
}

TEST(Lexer, ConvertToSecureStringGivesThePlainString) {
  auto p = shell::parseLine("New-Mailbox -Name a -Password (ConvertTo-SecureString -String 'x y)z' -AsPlainText -Force)");
  ASSERT_TRUE(p) << p.error().message;
  auto& els = p->front().front().elements;
  ASSERT_EQ(els.size(), 4u);
  EXPECT_EQ(std::get<std::string>(els[3].value), "x y)z");
  EXPECT_FALSE(shell::parseLine("New-Mailbox -Name a -Password (Get-Content pw.txt)"));
}
