// Several directory URLs in one store URI (replicas of one directory): they must agree.
#include <gtest/gtest.h>

#include "store/store.hpp"

namespace {

TEST(LdapStoreUri, ReplicasMustNameTheSameBaseDn) {
  auto r = autodisc::store::openStore("ldap://127.0.0.1:1/DC=e2010,DC=test ldap://127.0.0.1:2/DC=other,DC=test");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("every URL must name the same base DN"), std::string::npos) << r.error().message;
  auto bad = autodisc::store::openStore("ldap://127.0.0.1:1/DC=e2010,DC=test ldap://");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("names no"), std::string::npos) << bad.error().message;
  auto tls = autodisc::store::openStore("ldap://127.0.0.1:1/DC=e2010,DC=test????starttls ldap://127.0.0.1:2/DC=e2010,DC=test");
  ASSERT_FALSE(tls);
  EXPECT_NE(tls.error().message.find("StartTLS"), std::string::npos) << tls.error().message;
}

}  // namespace
