// docs/cmdlets.md is generated from the cmdlet tables; it must match what the code does.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "shell/help.hpp"
#include "shell/session.hpp"
#include "support/process.hpp"

TEST(CmdletReference, DocsMatchTheCmdletTables) {
  std::ifstream f(autodisc::testing::env("AUTODISC_SOURCE_DIR") + "/docs/cmdlets.md");
  ASSERT_TRUE(f) << "docs/cmdlets.md is missing";
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), autodisc::shell::cmdletReferenceMarkdown())
      << "docs/cmdlets.md is stale: regenerate it with `build/autodisc docs cmdlets > docs/cmdlets.md`";
}

TEST(CmdletReference, EveryExampleParsesAndBinds) {
  using namespace autodisc::shell;
  for (auto& c : cmdlets()) {
    EXPECT_FALSE(c.synopsis.empty()) << c.name;
    auto parsed = parseLine(c.example);
    ASSERT_TRUE(parsed) << c.name << ": " << parsed.error().message;
    ASSERT_FALSE(parsed->empty()) << c.name << " has no example";
    bool mentionsItself = false;
    for (auto& pipeline : *parsed)
      for (auto& command : pipeline) {
        auto* used = findCmdlet(command.name);
        ASSERT_NE(used, nullptr) << c.name << ": example uses unknown " << command.name;
        mentionsItself |= used == &c;
        auto bound = bindParameters(*used, command);
        EXPECT_TRUE(bound) << c.name << ": " << (bound ? "" : bound.error().message);
      }
    EXPECT_TRUE(mentionsItself) << c.name << "'s example does not use it";
  }
}
