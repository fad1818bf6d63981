// bindParameters(): names without regard to case, unambiguous prefixes, -Name:value, switches,
// positional values, and the errors a person sees when a line is wrong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "shell/cmdlets.hpp"
#include "shell/lexer.hpp"
#include "shell/session.hpp"

using namespace autodisc;
using namespace autodisc::shell;
using ::testing::HasSubstr;
using List = std::vector<std::string>;

namespace {

// A cmdlet of our own, so that the parameter table is known exactly.
Cmdlet testCmdlet() {
  Cmdlet c;
  c.name = "Set-Thing";
  c.params = {
      {"Identity", ParamType::String, true, 0, "the thing"},
      {"Name", ParamType::String, false, -1, "its name"},
      {"NameSuffix", ParamType::String, false, -1, "a suffix"},
      {"ExternalUrl", ParamType::String, false, -1, "external"},
      {"ExternalHostname", ParamType::String, false, -1, "external host"},
      {"InternalUrl", ParamType::String, false, -1, "internal"},
      {"Members", ParamType::List, false, -1, "a list"},
      {"Enabled", ParamType::Bool, false, -1, "a Boolean"},
      {"Force", ParamType::Switch, false, -1, "a switch"},
      {"Count", ParamType::Int, false, -1, "a number"},
  };
  return c;
}

Result<Bound> bind(const Cmdlet& c, std::string_view line) {
  auto parsed = parseLine(line);
  if (!parsed) return std::unexpected(parsed.error());
  if (parsed->size() != 1 || parsed->front().size() != 1) return fail("test: expected one command");
  return bindParameters(c, parsed->front().front());
}

Bound ok(const Cmdlet& c, std::string_view line) {
  auto b = bind(c, line);
  EXPECT_TRUE(b.has_value()) << line << ": " << (b ? "" : b.error().message);
  return b ? *b : Bound{};
}

std::string err(const Cmdlet& c, std::string_view line) {
  auto b = bind(c, line);
  EXPECT_FALSE(b.has_value()) << line << " bound, but should not have";
  return b ? std::string() : b.error().message;
}

std::string s(const Bound& b, std::string_view n) {
  auto* v = b.get(n);
  if (!v) return "<unbound>";
  auto* x = std::get_if<std::string>(v);
  return x ? *x : "<not a string>";
}

const Cmdlet& real(std::string_view name) {
  auto* c = findCmdlet(name);
  if (!c) throw std::runtime_error("no cmdlet " + std::string(name));
  return *c;
}

}  // namespace

TEST(Binder, NamesBindWithoutRegardToCase) {
  auto b = ok(testCmdlet(), "Set-Thing -IDENTITY t1 -externalurl https://a.example/x -nAmE n");
  EXPECT_EQ(s(b, "Identity"), "t1");
  EXPECT_EQ(s(b, "ExternalUrl"), "https://a.example/x");
  EXPECT_EQ(s(b, "Name"), "n");
  EXPECT_TRUE(b.has("identity"));  // lookups are case-insensitive too
  EXPECT_EQ((std::vector<std::string>{"Identity", "ExternalUrl", "Name"}), b.order);
}

TEST(Binder, UnambiguousPrefixesBindToTheFullName) {
  auto b = ok(testCmdlet(), "Set-Thing -Id t1 -ExternalU https://a.example/x -ExternalH host.example -Int u -Mem a,b");
  EXPECT_EQ(s(b, "Identity"), "t1");
  EXPECT_EQ(s(b, "ExternalUrl"), "https://a.example/x");
  EXPECT_EQ(s(b, "ExternalHostname"), "host.example");
  EXPECT_EQ(s(b, "InternalUrl"), "u");
  ASSERT_TRUE(b.get("Members"));
  EXPECT_EQ(*b.get("Members"), (model::PropValue{List{"a", "b"}}));
  // The canonical names are recorded, not the prefixes.
  EXPECT_EQ((std::vector<std::string>{"Identity", "ExternalUrl", "ExternalHostname", "InternalUrl", "Members"}), b.order);
}

TEST(Binder, ExactNameWinsOverLongerNamesItPrefixes) {
  auto b = ok(testCmdlet(), "Set-Thing t1 -Name n");
  EXPECT_EQ(s(b, "Name"), "n");
  EXPECT_FALSE(b.has("NameSuffix"));
  auto b2 = ok(testCmdlet(), "Set-Thing t1 -name n");
  EXPECT_EQ(s(b2, "Name"), "n");
}

TEST(Binder, AmbiguousPrefixListsTheMatches) {
  auto e = err(testCmdlet(), "Set-Thing t1 -Ext x");
  EXPECT_THAT(e, HasSubstr("parameter name 'Ext' is ambiguous"));
  EXPECT_THAT(e, HasSubstr("-ExternalUrl"));
  EXPECT_THAT(e, HasSubstr("-ExternalHostname"));
  EXPECT_THAT(e, ::testing::Not(HasSubstr("-InternalUrl")));
}

TEST(Binder, AmbiguousPrefixOnARealCmdlet) {
  auto e = err(real("Set-OwaVirtualDirectory"), "Set-OwaVirtualDirectory EX01 -Ext https://x.example/owa");
  EXPECT_THAT(e, HasSubstr("'Ext' is ambiguous"));
  EXPECT_THAT(e, HasSubstr("-ExternalUrl"));
  EXPECT_THAT(e, HasSubstr("-ExternalAuthenticationMethods"));
}

TEST(Binder, UnknownParameter) {
  auto e = err(real("New-Mailbox"), "New-Mailbox -Name alice -Department Sales");
  EXPECT_THAT(e, HasSubstr("a parameter cannot be found that matches parameter name 'Department'"));
  EXPECT_THAT(e, HasSubstr("Get-Help New-Mailbox"));
}

TEST(Binder, RepeatedParameter) {
  EXPECT_THAT(err(testCmdlet(), "Set-Thing t1 -Name a -Name b"), HasSubstr("the parameter -Name was given more than once"));
  // Also when written differently: a prefix, another case.
  EXPECT_THAT(err(testCmdlet(), "Set-Thing t1 -ExternalUrl a -externalu b"),
              HasSubstr("-ExternalUrl was given more than once"));
  // Positional, then by name.
  EXPECT_THAT(err(testCmdlet(), "Set-Thing t1 -Identity t2"), HasSubstr("-Identity was given more than once"));
}

TEST(Binder, MissingValue) {
  auto e = err(real("Set-OwaVirtualDirectory"), "Set-OwaVirtualDirectory EX01 -ExternalUrl");
  EXPECT_THAT(e, HasSubstr("missing an argument for parameter 'ExternalUrl'"));
  EXPECT_THAT(e, HasSubstr("'String'"));
  // A parameter where the value should be counts as missing too.
  EXPECT_THAT(err(real("Set-OwaVirtualDirectory"), "Set-OwaVirtualDirectory EX01 -ExternalUrl -Confirm"),
              HasSubstr("missing an argument for parameter 'ExternalUrl'"));
  // A prefix is reported under the full name.
  EXPECT_THAT(err(testCmdlet(), "Set-Thing t1 -Mem"), HasSubstr("missing an argument for parameter 'Members'"));
  EXPECT_THAT(err(testCmdlet(), "Set-Thing t1 -Members"), HasSubstr("'String[]'"));
  EXPECT_THAT(err(testCmdlet(), "Set-Thing t1 -Enabled"), HasSubstr("'Boolean'"));
  EXPECT_THAT(err(testCmdlet(), "Set-Thing t1 -Count"), HasSubstr("'Int32'"));
}

TEST(Binder, PositionalIdentity) {
  auto b = ok(real("Set-Mailbox"), "Set-Mailbox alice -Alias asmith");
  EXPECT_EQ(s(b, "Identity"), "alice");
  EXPECT_EQ(s(b, "Alias"), "asmith");
  auto b2 = ok(real("Set-Mailbox"), "Set-Mailbox -Alias asmith 'Alice Smith'");
  EXPECT_EQ(s(b2, "Identity"), "Alice Smith");
}

TEST(Binder, PositionalArticleIdentity) {
  auto b = ok(real("Set-OwaVirtualDirectory"),
              "Set-OwaVirtualDirectory X2007SRV\\OWA (default web site) -ExternalUrl https://mail.x.com/owa");
  EXPECT_EQ(s(b, "Identity"), "X2007SRV\\OWA (default web site)");
  EXPECT_EQ(s(b, "ExternalUrl"), "https://mail.x.com/owa");
}

TEST(Binder, TooManyPositionalValues) {
  auto e = err(testCmdlet(), "Set-Thing t1 t2");
  EXPECT_THAT(e, HasSubstr("a positional parameter cannot be found that accepts argument 't2'"));
}

TEST(Binder, SwitchForms) {
  auto c = testCmdlet();
  EXPECT_EQ(*ok(c, "Set-Thing t1 -Force").get("Force"), model::PropValue{true});
  EXPECT_EQ(*ok(c, "Set-Thing t1 -Force:$true").get("Force"), model::PropValue{true});
  EXPECT_EQ(*ok(c, "Set-Thing t1 -Force:$false").get("Force"), model::PropValue{false});
  EXPECT_EQ(*ok(c, "Set-Thing t1 -Fo:$false").get("Force"), model::PropValue{false});
  // A switch does not take the next word as its value.
  auto b = ok(c, "Set-Thing -Force t1");
  EXPECT_EQ(*b.get("Force"), model::PropValue{true});
  EXPECT_EQ(s(b, "Identity"), "t1");
}

TEST(Binder, ConfirmFalseOnARealCmdlet) {
  auto b = ok(real("Remove-Mailbox"), "Remove-Mailbox alice -Confirm:$false");
  EXPECT_EQ(*b.get("Confirm"), model::PropValue{false});
  EXPECT_EQ(s(b, "Identity"), "alice");
}

TEST(Binder, BooleanValues) {
  auto c = testCmdlet();
  EXPECT_EQ(*ok(c, "Set-Thing t1 -Enabled $true").get("Enabled"), model::PropValue{true});
  EXPECT_EQ(*ok(c, "Set-Thing t1 -Enabled:$false").get("Enabled"), model::PropValue{false});
  EXPECT_EQ(*ok(c, "Set-Thing t1 -Enabled true").get("Enabled"), model::PropValue{true});
  EXPECT_EQ(*ok(c, "Set-Thing t1 -Enabled 0").get("Enabled"), model::PropValue{false});
  auto e = err(c, "Set-Thing t1 -Enabled maybe");
  EXPECT_THAT(e, HasSubstr("-Enabled"));
  EXPECT_THAT(e, HasSubstr("'maybe'"));
  EXPECT_THAT(e, HasSubstr("Boolean"));
}

TEST(Binder, IntegerValues) {
  auto c = testCmdlet();
  EXPECT_EQ(*ok(c, "Set-Thing t1 -Count 42").get("Count"), model::PropValue{std::int64_t{42}});
  EXPECT_EQ(*ok(c, "Set-Thing t1 -Count -1").get("Count"), model::PropValue{std::int64_t{-1}});
  auto e = err(c, "Set-Thing t1 -Count ten");
  EXPECT_THAT(e, HasSubstr("-Count 'ten'"));
  EXPECT_THAT(e, HasSubstr("not a whole number"));
}

TEST(Binder, ListValues) {
  auto c = testCmdlet();
  EXPECT_EQ(*ok(c, "Set-Thing t1 -Members a").get("Members"), (model::PropValue{List{"a"}}));
  EXPECT_EQ(*ok(c, "Set-Thing t1 -Members a,b,c").get("Members"), (model::PropValue{List{"a", "b", "c"}}));
  EXPECT_EQ(*ok(c, "Set-Thing t1 -Members @('a','b')").get("Members"), (model::PropValue{List{"a", "b"}}));
  // $null clears a list.
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*ok(c, "Set-Thing t1 -Members $null").get("Members")));
}

TEST(Binder, StringParameterRefusesAList) {
  auto e = err(testCmdlet(), "Set-Thing t1 -Name a,b");
  EXPECT_THAT(e, HasSubstr("-Name 'a,b'"));
  EXPECT_THAT(e, HasSubstr("takes one value, not a list"));
}

TEST(Binder, StringParameterTakesNullAndBooleansAsText) {
  auto c = testCmdlet();
  EXPECT_TRUE(std::holds_alternative<std::monostate>(*ok(c, "Set-Thing t1 -ExternalUrl $null").get("ExternalUrl")));
  EXPECT_EQ(s(ok(c, "Set-Thing t1 -Name $true"), "Name"), "True");
  EXPECT_EQ(s(ok(c, "Set-Thing t1 -Name @('one')"), "Name"), "one");
}

TEST(Binder, EnDashParameterBinds) {
  auto b = ok(real("Set-Mailbox"), "Set-Mailbox \xE2\x80\x93Identity alice \xE2\x80\x94" "alias asmith");
  EXPECT_EQ(s(b, "Identity"), "alice");
  EXPECT_EQ(s(b, "Alias"), "asmith");
}

TEST(Binder, NoElementsBindsNothing) {
  auto b = ok(real("Get-Mailbox"), "Get-Mailbox");
  EXPECT_TRUE(b.values.empty());
  EXPECT_TRUE(b.order.empty());
  EXPECT_FALSE(b.identityRef.has_value());
}

TEST(Binder, MandatoryParametersAreNotCheckedByTheBinder) {
  // Mandatory parameters may still come from the pipeline; the session checks them later.
  auto b = ok(real("New-Mailbox"), "New-Mailbox -Alias x");
  EXPECT_FALSE(b.has("Name"));
}
