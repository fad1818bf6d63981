// parseLine(): the PowerShell subset that pasted Exchange Management Shell lines use.
#include "shell/lexer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace autodisc;
using namespace autodisc::shell;
using ::testing::HasSubstr;
using List = std::vector<std::string>;

namespace {

// Parses a line that must hold exactly one pipeline of one command.
Command one(std::string_view line) {
  auto r = parseLine(line);
  EXPECT_TRUE(r.has_value()) << line << ": " << (r ? "" : r.error().message);
  if (!r || r->size() != 1 || r->front().size() != 1) {
    ADD_FAILURE() << line << ": expected one pipeline of one command";
    return {};
  }
  return r->front().front();
}

std::string errorOf(std::string_view line) {
  auto r = parseLine(line);
  EXPECT_FALSE(r.has_value()) << line << " parsed, but should not have";
  return r ? std::string() : r.error().message;
}

bool isParam(const Element& e, std::string_view name) {
  return e.type == Element::Type::Parameter && e.name == name;
}

std::string str(const Element& e) {
  auto* s = std::get_if<std::string>(&e.value);
  return s ? *s : "<not a string>";
}

}  // namespace

TEST(Lexer, EmptyLinesAndCommentsHaveNoPipelines) {
  for (auto line : {"", "   ", "\t", "# only a comment", "   # indented comment", ";", " ; ; "}) {
    auto r = parseLine(line);
    ASSERT_TRUE(r) << "'" << line << "': " << r.error().message;
    EXPECT_TRUE(r->empty()) << "'" << line << "'";
  }
}

TEST(Lexer, CommandNameAlone) {
  auto c = one("Get-Mailbox");
  EXPECT_EQ(c.name, "Get-Mailbox");
  EXPECT_TRUE(c.elements.empty());
}

TEST(Lexer, ParameterAndValue) {
  auto c = one("Set-Mailbox -Identity alice -Alias asmith");
  EXPECT_EQ(c.name, "Set-Mailbox");
  ASSERT_EQ(c.elements.size(), 4u);
  EXPECT_TRUE(isParam(c.elements[0], "Identity"));
  EXPECT_FALSE(c.elements[0].colonValue);
  EXPECT_EQ(c.elements[1].type, Element::Type::Value);
  EXPECT_EQ(str(c.elements[1]), "alice");
  EXPECT_TRUE(isParam(c.elements[2], "Alias"));
  EXPECT_EQ(str(c.elements[3]), "asmith");
}

TEST(Lexer, ParameterNameKeepsItsCaseAsWritten) {
  auto c = one("Get-Mailbox -iDeNtItY x");
  ASSERT_EQ(c.elements.size(), 2u);
  EXPECT_TRUE(isParam(c.elements[0], "iDeNtItY"));
}

TEST(Lexer, SingleQuotedValueKeepsSpacesAndSpecialCharacters) {
  auto c = one("Set-X -Name 'a b | c ; d # e, f'");
  ASSERT_EQ(c.elements.size(), 2u);
  EXPECT_EQ(str(c.elements[1]), "a b | c ; d # e, f");
  EXPECT_EQ(c.elements[1].text, "'a b | c ; d # e, f'");
}

TEST(Lexer, DoubleQuotedValue) {
  auto c = one("Set-OwaVirtualDirectory -Identity \"EX01\\owa (Default Web Site)\"");
  ASSERT_EQ(c.elements.size(), 2u);
  EXPECT_EQ(str(c.elements[1]), "EX01\\owa (Default Web Site)");
}

TEST(Lexer, DoubledQuotesStandForOneQuote) {
  EXPECT_EQ(str(one("Set-X -Name 'O''Brien'").elements[1]), "O'Brien");
  EXPECT_EQ(str(one("Set-X -Name \"say \"\"hi\"\"\"").elements[1]), "say \"hi\"");
  EXPECT_EQ(str(one("Set-X -Name ''").elements[1]), "");
  EXPECT_EQ(str(one("Set-X -Name ''''").elements[1]), "'");
}

TEST(Lexer, OtherQuoteKindInsideQuotesIsLiteral) {
  EXPECT_EQ(str(one("Set-X -Name \"it's\"").elements[1]), "it's");
  EXPECT_EQ(str(one("Set-X -Name 'say \"x\"'").elements[1]), "say \"x\"");
}

TEST(Lexer, BacktickEscapesInDoubleQuotes) {
  EXPECT_EQ(str(one("Set-X -Name \"a`tb`nc`\"d\"").elements[1]), "a\tb\nc\"d");
  // No escapes inside single quotes.
  EXPECT_EQ(str(one("Set-X -Name 'a`tb'").elements[1]), "a`tb");
}

TEST(Lexer, TypographicDoubleQuotes) {
  // “EX01\owa (Default Web Site)” as a word processor writes it.
  auto c = one("Set-OwaVirtualDirectory -Identity \xE2\x80\x9C" "EX01\\owa (Default Web Site)\xE2\x80\x9D -ExternalUrl x");
  ASSERT_EQ(c.elements.size(), 4u);
  EXPECT_EQ(str(c.elements[1]), "EX01\\owa (Default Web Site)");
  EXPECT_TRUE(isParam(c.elements[2], "ExternalUrl"));
}

TEST(Lexer, TypographicSingleQuotes) {
  auto c = one("Set-X -Name \xE2\x80\x98" "a b\xE2\x80\x99 -Other y");
  ASSERT_EQ(c.elements.size(), 4u);
  EXPECT_EQ(str(c.elements[1]), "a b");
  EXPECT_TRUE(isParam(c.elements[2], "Other"));
}

TEST(Lexer, MixedStraightAndTypographicQuotesClose) {
  EXPECT_EQ(str(one("Set-X -Name \xE2\x80\x9C" "abc\"").elements[1]), "abc");
  EXPECT_EQ(str(one("Set-X -Name 'abc\xE2\x80\x99").elements[1]), "abc");
}

TEST(Lexer, EnDashAndEmDashBeforeParameterNames) {
  auto c = one("Set-Mailbox \xE2\x80\x93Identity alice \xE2\x80\x94" "Alias asmith");
  ASSERT_EQ(c.elements.size(), 4u);
  EXPECT_TRUE(isParam(c.elements[0], "Identity"));
  EXPECT_EQ(str(c.elements[1]), "alice");
  EXPECT_TRUE(isParam(c.elements[2], "Alias"));
  EXPECT_EQ(str(c.elements[3]), "asmith");
}

TEST(Lexer, EnDashWithColonValue) {
  auto c = one("Set-X \xE2\x80\x93" "Confirm:$false");
  ASSERT_EQ(c.elements.size(), 1u);
  EXPECT_TRUE(isParam(c.elements[0], "Confirm"));
  EXPECT_TRUE(c.elements[0].colonValue);
  EXPECT_EQ(c.elements[0].value, model::PropValue{false});
}

TEST(Lexer, NoBreakSpaceSeparatesLikeASpace) {
  auto c = one("Set-Mailbox\xC2\xA0-Identity\xC2\xA0" "alice");
  ASSERT_EQ(c.elements.size(), 2u);
  EXPECT_EQ(c.name, "Set-Mailbox");
  EXPECT_TRUE(isParam(c.elements[0], "Identity"));
  EXPECT_EQ(str(c.elements[1]), "alice");
}

TEST(Lexer, ColonValueForms) {
  auto c = one("Set-X -ExternalUrl:https://mail.contoso.com/owa -Name:'a b' -Flag: $true");
  ASSERT_EQ(c.elements.size(), 3u);
  EXPECT_TRUE(isParam(c.elements[0], "ExternalUrl"));
  EXPECT_TRUE(c.elements[0].colonValue);
  EXPECT_EQ(str(c.elements[0]), "https://mail.contoso.com/owa");
  EXPECT_EQ(c.elements[0].text, "-ExternalUrl:https://mail.contoso.com/owa");
  EXPECT_EQ(str(c.elements[1]), "a b");
  EXPECT_TRUE(c.elements[1].colonValue);
  EXPECT_TRUE(isParam(c.elements[2], "Flag"));
  EXPECT_EQ(c.elements[2].value, model::PropValue{true});
}

TEST(Lexer, ColonValueCanBeAList) {
  auto c = one("Set-X -EmailAddresses:a@x.com,b@x.com");
  ASSERT_EQ(c.elements.size(), 1u);
  EXPECT_EQ(c.elements[0].value, (model::PropValue{List{"a@x.com", "b@x.com"}}));
}

TEST(Lexer, SwitchesAreParametersWithoutValues) {
  auto c = one("Set-AcceptedDomain contoso.com -MakeDefault -Confirm");
  ASSERT_EQ(c.elements.size(), 3u);
  EXPECT_EQ(c.elements[0].type, Element::Type::Value);
  EXPECT_TRUE(isParam(c.elements[1], "MakeDefault"));
  EXPECT_FALSE(c.elements[1].colonValue);
  EXPECT_TRUE(isParam(c.elements[2], "Confirm"));
}

TEST(Lexer, TrueFalseNullAnyCase) {
  auto c = one("Set-X -A $true -B $FALSE -C $Null -D:$TRUE");
  ASSERT_EQ(c.elements.size(), 7u);
  EXPECT_EQ(c.elements[1].value, model::PropValue{true});
  EXPECT_EQ(c.elements[3].value, model::PropValue{false});
  EXPECT_TRUE(std::holds_alternative<std::monostate>(c.elements[5].value));
  EXPECT_EQ(c.elements[5].text, "$Null");
  EXPECT_EQ(c.elements[6].value, model::PropValue{true});
}

TEST(Lexer, QuotedDollarTrueIsAString) {
  auto c = one("Set-X -A '$true'");
  EXPECT_EQ(c.elements[1].value, model::PropValue{std::string("$true")});
}

TEST(Lexer, VariablesAreRefused) {
  EXPECT_THAT(errorOf("Set-Mailbox -Identity $x"), HasSubstr("variables are not supported: '$x'"));
  EXPECT_THAT(errorOf("Get-Mailbox | Set-Mailbox -Alias $_.Name"), HasSubstr("variables are not supported"));
}

TEST(Lexer, CommaLists) {
  auto c = one("Set-Mailbox -EmailAddresses SMTP:a@contoso.com,smtp:b@contoso.com");
  ASSERT_EQ(c.elements.size(), 2u);
  EXPECT_EQ(c.elements[1].value, (model::PropValue{List{"SMTP:a@contoso.com", "smtp:b@contoso.com"}}));
}

TEST(Lexer, CommaListsWithSpacesAndQuotes) {
  auto c = one("Set-X -L a , 'b c',\"d\" -Next 1");
  ASSERT_EQ(c.elements.size(), 4u);
  EXPECT_EQ(c.elements[1].value, (model::PropValue{List{"a", "b c", "d"}}));
  EXPECT_EQ(c.elements[1].text, "a , 'b c',\"d\"");
  EXPECT_TRUE(isParam(c.elements[2], "Next"));
}

TEST(Lexer, CommaListOfBooleansBecomesStrings) {
  auto c = one("Set-X -L $true,$false");
  EXPECT_EQ(c.elements[1].value, (model::PropValue{List{"True", "False"}}));
}

TEST(Lexer, CommaListEndingWithCommaIsAnError) {
  EXPECT_THAT(errorOf("Set-X -L a,"), HasSubstr("ends with ','"));
}

TEST(Lexer, ArraySubexpression) {
  auto c = one("Set-X -L @('a','b') -M @(\"c d\", e) -N @()");
  ASSERT_EQ(c.elements.size(), 6u);
  EXPECT_EQ(c.elements[1].value, (model::PropValue{List{"a", "b"}}));
  EXPECT_EQ(c.elements[1].text, "@('a','b')");
  EXPECT_EQ(c.elements[3].value, (model::PropValue{List{"c d", "e"}}));
  EXPECT_EQ(c.elements[5].value, (model::PropValue{List{}}));
}

TEST(Lexer, UnterminatedArraySubexpression) {
  EXPECT_THAT(errorOf("Set-X -L @('a','b'"), HasSubstr("unterminated @("));
}

TEST(Lexer, Pipelines) {
  auto r = parseLine("Get-MailboxDatabase | Set-MailboxDatabase -RpcClientAccessServer outlook.contoso.local");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  auto& p = r->front();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].name, "Get-MailboxDatabase");
  EXPECT_TRUE(p[0].elements.empty());
  EXPECT_EQ(p[1].name, "Set-MailboxDatabase");
  ASSERT_EQ(p[1].elements.size(), 2u);
  EXPECT_EQ(str(p[1].elements[1]), "outlook.contoso.local");
}

TEST(Lexer, PipeWithoutSpaces) {
  auto r = parseLine("Get-Mailbox|fl Name");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  ASSERT_EQ(r->front().size(), 2u);
  EXPECT_EQ(r->front()[1].name, "fl");
}

TEST(Lexer, SemicolonSeparatesPipelines) {
  auto r = parseLine("New-ADReplicationSite -Name A; New-ADReplicationSite -Name B | fl ;Get-ADReplicationSite");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].size(), 1u);
  EXPECT_EQ((*r)[1].size(), 2u);
  EXPECT_EQ((*r)[2].size(), 1u);
  EXPECT_EQ((*r)[2][0].name, "Get-ADReplicationSite");
  EXPECT_EQ(str((*r)[0][0].elements[1]), "A");
}

TEST(Lexer, SemicolonInsideQuotesIsText) {
  auto c = one("Set-X -Name 'a;b'");
  EXPECT_EQ(str(c.elements[1]), "a;b");
}

TEST(Lexer, CommentEndsTheLine) {
  auto r = parseLine("Get-Mailbox -Identity alice # | Remove-Mailbox");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  ASSERT_EQ(r->front().size(), 1u);
  EXPECT_EQ(r->front()[0].elements.size(), 2u);
}

TEST(Lexer, HashInsideAWordIsText) {
  auto c = one("Set-X -Name a#b");
  EXPECT_EQ(str(c.elements[1]), "a#b");
}

TEST(Lexer, ArticleIdentityWithoutQuotesIsOneValue) {
  // As the article prints it: Set-OwaVirtualDirectory -Identity X2007SRV\OWA (default web site) ...
  auto c = one("Set-OwaVirtualDirectory -Identity X2007SRV\\OWA (default web site) -ExternalUrl https://mail.x.com/owa");
  ASSERT_EQ(c.elements.size(), 4u);
  EXPECT_EQ(str(c.elements[1]), "X2007SRV\\OWA (default web site)");
  EXPECT_EQ(c.elements[1].text, "X2007SRV\\OWA (default web site)");
  EXPECT_TRUE(isParam(c.elements[2], "ExternalUrl"));
  EXPECT_EQ(str(c.elements[3]), "https://mail.x.com/owa");
}

TEST(Lexer, ArticleIdentityPositionalThenPipe) {
  auto r = parseLine("Get-OwaVirtualDirectory X2007SRV\\OWA (default web site) | fl");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->front().size(), 2u);
  auto& els = r->front()[0].elements;
  ASSERT_EQ(els.size(), 1u);
  EXPECT_EQ(str(els[0]), "X2007SRV\\OWA (default web site)");
}

TEST(Lexer, ParenthesisedExpressionsAndScriptBlocksAreRefused) {
  EXPECT_THAT(errorOf("Set-X -Name (Get-Date)"), HasSubstr("expressions in parentheses are not supported"));
  EXPECT_THAT(errorOf("Get-Mailbox | Where-Object { $_.Name }"), HasSubstr("script blocks are not supported"));
}

TEST(Lexer, NegativeNumberIsAValueNotAParameter) {
  auto c = one("Set-OutlookProvider EXCH -TTL -1");
  ASSERT_EQ(c.elements.size(), 3u);
  EXPECT_EQ(c.elements[2].type, Element::Type::Value);
  EXPECT_EQ(str(c.elements[2]), "-1");
}

TEST(Lexer, UnterminatedQuotes) {
  EXPECT_THAT(errorOf("Set-X -Name 'abc"), HasSubstr("unterminated single-quoted string"));
  EXPECT_THAT(errorOf("Set-X -Name \"abc"), HasSubstr("unterminated double-quoted string"));
  EXPECT_THAT(errorOf("Set-X -Name \xE2\x80\x9C" "abc"), HasSubstr("unterminated double-quoted string"));
  EXPECT_THAT(errorOf("Set-X -Name 'it''s"), HasSubstr("unterminated single-quoted string"));
}

TEST(Lexer, TrailingPipeIsAnError) {
  EXPECT_THAT(errorOf("Get-Mailbox |"), HasSubstr("ends with '|'"));
  EXPECT_THAT(errorOf("Get-Mailbox |   # comment"), HasSubstr("ends with '|'"));
}

TEST(Lexer, EmptyPipelineElementsAreErrors) {
  EXPECT_THAT(errorOf("| Get-Mailbox"), HasSubstr("empty pipeline element"));
  EXPECT_THAT(errorOf("Get-Mailbox | | fl"), HasSubstr("empty pipeline element"));
  EXPECT_FALSE(parseLine("Get-Mailbox | ; Get-Mailbox").has_value());
}

TEST(Lexer, ColonWithoutValueIsAnError) {
  EXPECT_THAT(errorOf("Set-X -Name:"), HasSubstr("missing an argument for parameter 'Name'"));
  EXPECT_THAT(errorOf("Set-X -Name: | fl"), HasSubstr("missing an argument for parameter 'Name'"));
}

TEST(Lexer, GarbageAfterParameterNameIsAnError) {
  EXPECT_THAT(errorOf("Set-X -Name'abc'"), HasSubstr("unexpected character after parameter -Name"));
}

TEST(Lexer, BadCommandNames) {
  EXPECT_THAT(errorOf("'Get-Mailbox'"), HasSubstr("expected a cmdlet name"));
  EXPECT_THAT(errorOf("& foo"), HasSubstr("is not a cmdlet name"));
  EXPECT_THAT(errorOf("Get-Mailbox | $x"), HasSubstr("is not a cmdlet name"));
}
