#include "model/text.hpp"

#include <gtest/gtest.h>

using namespace autodisc;

TEST(Text, ComparesWithoutCase) {
  EXPECT_TRUE(text::iequals("X2007SRV", "x2007srv"));
  EXPECT_FALSE(text::iequals("a", "ab"));
  EXPECT_EQ(text::ihash("Alice@Contoso.com"), text::ihash("alice@contoso.COM"));
}
