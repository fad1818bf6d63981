// Validators and small value types (model/validate.hpp), and the case-insensitive indexes of
// the organisation (FlatIndex) with transactions.
#include "model/validate.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "model/flat_index.hpp"
#include "model/organization.hpp"

using namespace autodisc;
using namespace autodisc::model;
using ::testing::HasSubstr;

// --- URLs --------------------------------------------------------------------------------------------

TEST(ParseUrl, SplitsAnAbsoluteHttpsUrl) {
  auto u = parseUrl("https://mail.contoso.com/owa");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "mail.contoso.com");
  EXPECT_FALSE(u->port.has_value());
  EXPECT_EQ(u->pathAndQuery, "/owa");
}

TEST(ParseUrl, SchemeIsLowerCasedHostKeptAsWritten) {
  auto u = parseUrl("HTTP://Mail.Contoso.COM:8080/EWS/Exchange.asmx?x=1&y=2");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "Mail.Contoso.COM");
  ASSERT_TRUE(u->port.has_value());
  EXPECT_EQ(*u->port, 8080);
  EXPECT_EQ(u->pathAndQuery, "/EWS/Exchange.asmx?x=1&y=2");
}

TEST(ParseUrl, MissingPathBecomesSlash) {
  EXPECT_EQ(parseUrl("https://mail.contoso.com")->pathAndQuery, "/");
  EXPECT_EQ(parseUrl("https://mail.contoso.com?a=b")->pathAndQuery, "/?a=b");
  EXPECT_EQ(parseUrl("https://mail.contoso.com:443")->port, std::optional<std::uint16_t>(443));
}

TEST(ParseUrl, IpAddressHosts) {
  auto v4 = parseUrl("https://10.0.0.1/owa");
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(v4->host, "10.0.0.1");
  auto v6 = parseUrl("https://[2001:db8::1]:8443/ews");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_EQ(v6->port, std::optional<std::uint16_t>(8443));
  EXPECT_EQ(v6->pathAndQuery, "/ews");
  EXPECT_TRUE(parseUrl("https://[::1]/"));
}

TEST(ParseUrl, PortLimits) {
  EXPECT_TRUE(parseUrl("https://h.example:1/"));
  EXPECT_TRUE(parseUrl("https://h.example:65535/"));
  for (auto bad : {"https://h.example:0/", "https://h.example:65536/", "https://h.example:abc/", "https://h.example:/",
                   "https://h.example:-1/", "https://[::1]:99999/"}) {
    auto u = parseUrl(bad);
    EXPECT_FALSE(u) << bad;
    if (!u) { EXPECT_THAT(u.error().message, HasSubstr("port")) << bad; }
  }
}

TEST(ParseUrl, RefusalsSayWhy) {
  struct Case {
    const char* url;
    const char* why;
  };
  for (auto [url, why] : {Case{"", "empty"},
                          Case{"mail.contoso.com/owa", "not absolute"},
                          Case{"ftp://mail.contoso.com/owa", "scheme must be http or https"},
                          Case{"https://user@mail.contoso.com/", "user names"},
                          Case{"https:///owa", "no host"},
                          Case{"https://mail contoso.com/", "space"},
                          Case{"https://mail.contoso.com/o wa", "space"},
                          Case{"https://mail.contoso.com/owa#top", "fragments"},
                          Case{"https://-mail.contoso.com/", "not a valid host name"},
                          Case{"https://mail..contoso.com/", "not a valid host name"},
                          Case{"https://mail_1.contoso.com/", "not a valid host name"},
                          Case{"https://[2001:db8::1/", "unclosed"},
                          Case{"https://[zz::1]/", "not an IPv6 address"},
                          Case{"https://[::1]x/", "unexpected text after the host"}}) {
    auto u = parseUrl(url);
    EXPECT_FALSE(u) << "'" << url << "' was accepted";
    if (!u) { EXPECT_THAT(u.error().message, HasSubstr(why)) << url; }
  }
}

TEST(ParseUrl, ErrorQuotesTheUrl) {
  auto u = parseUrl("ftp://x.example/");
  ASSERT_FALSE(u);
  EXPECT_THAT(u.error().message, HasSubstr("'ftp://x.example/'"));
}

TEST(ParseUrl, BracketsAreForIpv6Only) {
  auto u = parseUrl("https://[10.0.0.1]/owa");
  ASSERT_FALSE(u);
  EXPECT_THAT(u.error().message, HasSubstr("IPv6"));
}

// --- host names ----------------------------------------------------------------------------------

TEST(CheckFqdn, AcceptsHostNames) {
  for (auto ok : {"ex01.contoso.local", "EX01", "a", "mail-1.contoso.com", "1.2.example", "xn--bcher-kva.example"})
    EXPECT_TRUE(checkFqdn(ok)) << ok;
  EXPECT_TRUE(checkFqdn(std::string(63, 'a') + ".com"));
  std::string max253 = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                       std::string(61, 'd');
  ASSERT_EQ(max253.size(), 253u);
  EXPECT_TRUE(checkFqdn(max253));
}

TEST(CheckFqdn, RefusesWhatIsNotAHostName) {
  auto e = checkFqdn("");
  ASSERT_FALSE(e);
  EXPECT_THAT(e.error().message, HasSubstr("empty"));
  for (auto bad : {"ex01 .contoso.local", "-ex01.contoso.local", "ex01-.contoso.local", "ex01..contoso.local",
                   ".contoso.local", "contoso.local.", "ex_01.contoso.local", "ex01.contoso.local/owa",
                   "https://ex01.contoso.local", "m\xC3\xBCnchen.de"}) {
    auto r = checkFqdn(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) { EXPECT_THAT(r.error().message, HasSubstr("'" + std::string(bad) + "'")); }
  }
  EXPECT_FALSE(checkFqdn(std::string(64, 'a') + ".com"));
  std::string tooLong = std::string(63, 'a') + "." + std::string(63, 'b') + "." + std::string(63, 'c') + "." +
                        std::string(62, 'd');
  ASSERT_EQ(tooLong.size(), 254u);
  auto r = checkFqdn(tooLong);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("longer than 253"));
}

TEST(IsIpAddress, Literals) {
  EXPECT_TRUE(isIpAddress("192.168.1.1"));
  EXPECT_TRUE(isIpAddress("::1"));
  EXPECT_TRUE(isIpAddress("2001:db8::abcd"));
  EXPECT_FALSE(isIpAddress("256.1.1.1"));
  EXPECT_FALSE(isIpAddress("mail.contoso.com"));
  EXPECT_FALSE(isIpAddress("1.2.3"));
  EXPECT_FALSE(isIpAddress(""));
}

// --- SMTP addresses ----------------------------------------------------------------------------------

TEST(CheckSmtpAddress, AcceptsDotAtomAddresses) {
  for (auto ok : {"alice@contoso.com", "Alice.Smith@Contoso.COM", "a+tag@x.example", "o'brien@contoso.com",
                  "x_y-z@sub.contoso.com", "a@b", "!#$%&'*+-/=?^_`{|}~@contoso.com"})
    EXPECT_TRUE(checkSmtpAddress(ok)) << ok;
  EXPECT_TRUE(checkSmtpAddress(std::string(64, 'a') + "@contoso.com"));
}

TEST(CheckSmtpAddress, RefusesMalformedAddresses) {
  for (auto bad : {"", "alice", "@contoso.com", "alice@", "alice@@contoso.com", "a@b@contoso.com", ".alice@contoso.com",
                   "alice.@contoso.com", "al..ice@contoso.com", "al ice@contoso.com", "alice@contoso..com",
                   "alice@-contoso.com", "alice@contoso_com", "\"alice\"@contoso.com", "alice@contoso.com "}) {
    auto r = checkSmtpAddress(bad);
    EXPECT_FALSE(r) << "'" << bad << "' was accepted";
  }
  auto r = checkSmtpAddress(std::string(65, 'a') + "@contoso.com");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("longer than 64"));
  auto d = checkSmtpAddress("alice@contoso..com");
  ASSERT_FALSE(d);
  EXPECT_THAT(d.error().message, HasSubstr("'alice@contoso..com'"));
}

TEST(DomainOf, TakesTextAfterTheLastAt) {
  EXPECT_EQ(domainOf("alice@contoso.com"), "contoso.com");
  EXPECT_EQ(domainOf("alice"), "");
  EXPECT_EQ(domainOf("a@b@c.com"), "c.com");
}

// --- CIDR ----------------------------------------------------------------------------------------------

TEST(ParseCidr, Ipv4) {
  auto c = parseCidr("10.1.0.0/16");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->v6);
  EXPECT_EQ(c->prefix, 16);
  EXPECT_EQ(c->str(), "10.1.0.0/16");
  EXPECT_TRUE(c->contains(*parseIpAddress("10.1.0.0")));
  EXPECT_TRUE(c->contains(*parseIpAddress("10.1.255.255")));
  EXPECT_FALSE(c->contains(*parseIpAddress("10.2.0.0")));
  EXPECT_FALSE(c->contains(*parseIpAddress("10.0.255.255")));
  EXPECT_FALSE(c->contains(*parseIpAddress("::ffff:10.1.0.1")));  // a v6 address is never in a v4 range
}

TEST(ParseCidr, OddPrefixLengths) {
  auto c = parseCidr("192.168.1.128/25");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->contains(*parseIpAddress("192.168.1.200")));
  EXPECT_FALSE(c->contains(*parseIpAddress("192.168.1.127")));
  auto host = parseCidr("192.168.1.7/32");
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->contains(*parseIpAddress("192.168.1.7")));
  EXPECT_FALSE(host->contains(*parseIpAddress("192.168.1.6")));
  auto all = parseCidr("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains(*parseIpAddress("203.0.113.9")));
}

TEST(ParseCidr, Ipv6) {
  auto c = parseCidr("2001:DB8::/32");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->v6);
  EXPECT_EQ(c->str(), "2001:db8::/32");
  EXPECT_TRUE(c->contains(*parseIpAddress("2001:db8:ffff::1")));
  EXPECT_FALSE(c->contains(*parseIpAddress("2001:db9::1")));
  EXPECT_FALSE(c->contains(*parseIpAddress("10.0.0.1")));
  auto odd = parseCidr("fe80::/10");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(*parseIpAddress("febf::1")));
  EXPECT_FALSE(odd->contains(*parseIpAddress("fec0::1")));
}

TEST(ParseCidr, Refusals) {
  auto hostBits = parseCidr("10.1.2.3/16");
  ASSERT_FALSE(hostBits);
  EXPECT_THAT(hostBits.error().message, HasSubstr("host bits"));
  EXPECT_THAT(hostBits.error().message, HasSubstr("did you mean 10.1.0.0/16?"));
  auto v6bits = parseCidr("2001:db8::1/32");
  ASSERT_FALSE(v6bits);
  EXPECT_THAT(v6bits.error().message, HasSubstr("2001:db8::/32"));
  for (auto bad : {"10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/x", "10.0.0/8", "::/129",
                   "mail.contoso.com/24", "/24", ""}) {
    EXPECT_FALSE(parseCidr(bad)) << "'" << bad << "' was accepted";
  }
}

TEST(ParseIpAddress, IsAFullLengthPrefix) {
  auto a = parseIpAddress("192.0.2.1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->prefix, 32);
  EXPECT_EQ(a->str(), "192.0.2.1/32");
  auto b = parseIpAddress("2001:db8::1");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->prefix, 128);
  EXPECT_FALSE(parseIpAddress("192.0.2.1/32"));
}

// --- GUIDs ---------------------------------------------------------------------------------------------

TEST(Guid, ParseAndPrintRoundTrip) {
  const std::string text = "0a1b2c3d-4e5f-6789-abcd-ef0123456789";
  auto g = parseGuid(text);
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->str(), text);
  EXPECT_EQ(g->bytes[0], 0x0a);
  EXPECT_EQ(g->bytes[15], 0x89);
  EXPECT_FALSE(g->isNull());
  // Upper case and braces are accepted; printing is lower case without braces.
  auto upper = parseGuid("{0A1B2C3D-4E5F-6789-ABCD-EF0123456789}");
  ASSERT_TRUE(upper);
  EXPECT_EQ(*upper, *g);
  EXPECT_EQ(upper->str(), text);
}

TEST(Guid, NullGuid) {
  Guid g;
  EXPECT_TRUE(g.isNull());
  EXPECT_EQ(g.str(), "00000000-0000-0000-0000-000000000000");
  auto p = parseGuid("00000000-0000-0000-0000-000000000000");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->isNull());
}

TEST(Guid, Refusals) {
  for (auto bad : {"", "0a1b2c3d4e5f6789abcdef0123456789", "0a1b2c3d-4e5f-6789-abcd-ef012345678",
                   "0a1b2c3d-4e5f-6789-abcd-ef01234567890", "0a1b2c3d-4e5f-6789-abcd-ef012345678g",
                   "0a1b2c3d-4e5f-6789-abcd_ef0123456789", "0a1b2c3d4-e5f-6789-abcd-ef0123456789",
                   "{0a1b2c3d-4e5f-6789-abcd-ef0123456789", " 0a1b2c3d-4e5f-6789-abcd-ef012345678"}) {
    auto g = parseGuid(bad);
    EXPECT_FALSE(g) << "'" << bad << "' was accepted";
    if (!g) { EXPECT_THAT(g.error().message, HasSubstr("not a GUID")); }
  }
}

TEST(Guid, FromRandomIsVersion4AndDeterministic) {
  auto a = Guid::fromRandom(0xffffffffffffffffull, 0xffffffffffffffffull);
  EXPECT_EQ(a.str(), "ffffffff-ffff-4fff-bfff-ffffffffffff");
  auto b = Guid::fromRandom(0, 0);
  EXPECT_EQ(b.str(), "00000000-0000-4000-8000-000000000000");
  auto c = Guid::fromRandom(0x0123456789abcdefull, 0xfedcba9876543210ull);
  EXPECT_EQ(c.str(), "01234567-89ab-4def-bedc-ba9876543210");
  EXPECT_EQ(c, Guid::fromRandom(0x0123456789abcdefull, 0xfedcba9876543210ull));
  EXPECT_EQ(*parseGuid(c.str()), c);
}

// --- server versions ----------------------------------------------------------------------------------

TEST(ServerVersion, EncodingMatchesTheProtocolSpec) {
  struct Case {
    int major, minor, build;
    std::uint32_t encoded;
  };
  for (auto [major, minor, build, encoded] : {Case{14, 1, 218, 0x738180DAu}, Case{15, 0, 516, 0x73C08204u},
                                              Case{15, 1, 2507, 0x73C189CBu}, Case{15, 2, 1118, 0x73C2845Eu}}) {
    ServerVersion v{major, minor, build, 0};
    EXPECT_EQ(v.encoded(), encoded) << major << "." << minor << "." << build;
  }
}

TEST(ServerVersion, RevisionDoesNotChangeTheEncoding) {
  ServerVersion a{15, 1, 2507, 6}, b{15, 1, 2507, 0};
  EXPECT_EQ(a.encoded(), b.encoded());
}

TEST(ServerVersion, ParsesBothFormsAndPrintsExchangeForm) {
  auto a = parseServerVersion("Version 15.1 (Build 2507.6)");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->major, 15);
  EXPECT_EQ(a->minor, 1);
  EXPECT_EQ(a->build, 2507);
  EXPECT_EQ(a->revision, 6);
  EXPECT_EQ(a->str(), "Version 15.1 (Build 2507.6)");
  EXPECT_EQ(a->encoded(), 0x73C189CBu);
  auto b = parseServerVersion("14.1.218.15");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->str(), "Version 14.1 (Build 218.15)");
  EXPECT_EQ(b->encoded(), 0x738180DAu);
  auto c = parseServerVersion("15.2.1118");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->revision, 0);
  EXPECT_EQ(c->encoded(), 0x73C2845Eu);
  EXPECT_TRUE(parseServerVersion("version 15.0 (Build 516.32)"));
}

TEST(ServerVersion, Refusals) {
  for (auto bad : {"", "Version x", "15", "15.1", "Version 15.1", "5.5.1", "64.0.1", "15.64.1", "15.1.32768",
                   "15.-1.2", "fifteen"}) {
    auto v = parseServerVersion(bad);
    EXPECT_FALSE(v) << "'" << bad << "' was accepted";
    if (!v) { EXPECT_THAT(v.error().message, HasSubstr("not an Exchange version")); }
  }
}

// --- FlatIndex, directly --------------------------------------------------------------------------------

namespace {

// Keys live in a vector; an entry is its index + 1.
struct Keys {
  std::vector<std::string> keys;
  FlatIndex index{nullptr};
  Keys() {
    index.setKeyOf([this](FlatIndex::Entry e) { return std::string_view(keys[e - 1]); });
  }
  FlatIndex::Entry add(std::string k) {
    keys.push_back(std::move(k));
    return keys.size();
  }
};

}  // namespace

TEST(FlatIndex, InsertFindEraseWithoutCase) {
  Keys k;
  auto a = k.add("Alice@Contoso.com");
  auto b = k.add("bob@contoso.com");
  EXPECT_EQ(k.index.find("x"), 0u);  // empty
  EXPECT_TRUE(k.index.insert(a));
  EXPECT_TRUE(k.index.insert(b));
  EXPECT_EQ(k.index.size(), 2u);
  EXPECT_EQ(k.index.find("alice@contoso.com"), a);
  EXPECT_EQ(k.index.find("ALICE@CONTOSO.COM"), a);
  EXPECT_EQ(k.index.find("Bob@Contoso.Com"), b);
  EXPECT_EQ(k.index.find("carol@contoso.com"), 0u);
  // An equal key (any case) is refused and changes nothing.
  auto a2 = k.add("ALICE@contoso.COM");
  EXPECT_FALSE(k.index.insert(a2));
  EXPECT_EQ(k.index.size(), 2u);
  EXPECT_EQ(k.index.find("alice@contoso.com"), a);
  k.index.erase(a);
  EXPECT_EQ(k.index.size(), 1u);
  EXPECT_EQ(k.index.find("alice@contoso.com"), 0u);
  EXPECT_EQ(k.index.find("bob@contoso.com"), b);
  k.index.erase(a);  // absent: nothing happens
  EXPECT_EQ(k.index.size(), 1u);
  EXPECT_TRUE(k.index.insert(a2));
  EXPECT_EQ(k.index.find("alice@contoso.com"), a2);
}

TEST(FlatIndex, EraseOnlyRemovesThatExactEntry) {
  Keys k;
  auto a = k.add("same");
  auto b = k.add("SAME");
  ASSERT_TRUE(k.index.insert(a));
  k.index.erase(b);  // an equal key, but not the entry in the index
  EXPECT_EQ(k.index.find("same"), a);
  EXPECT_EQ(k.index.size(), 1u);
}

TEST(FlatIndex, ManyInsertsAndErasesKeepEveryKeyFindable) {
  // Enough keys to grow the table several times and to make long probe chains, then erase in an
  // order that exercises the backward shift across wrapped chains.
  Keys k;
  const int n = 2000;
  for (int i = 0; i < n; ++i) k.add("user" + std::to_string(i) + "@contoso.com");
  for (int i = 1; i <= n; ++i) ASSERT_TRUE(k.index.insert(static_cast<FlatIndex::Entry>(i)));
  EXPECT_EQ(k.index.size(), static_cast<std::size_t>(n));
  EXPECT_LE(k.index.size() * 2, k.index.memoryBytes() / sizeof(FlatIndex::Entry));  // load factor <= 1/2
  std::set<int> erased;
  for (int i = 0; i < n; i += 3) {
    k.index.erase(static_cast<FlatIndex::Entry>(i + 1));
    erased.insert(i);
  }
  for (int i = n - 1; i >= 0; i -= 7)
    if (erased.insert(i).second) k.index.erase(static_cast<FlatIndex::Entry>(i + 1));
  EXPECT_EQ(k.index.size(), static_cast<std::size_t>(n) - erased.size());
  for (int i = 0; i < n; ++i) {
    auto key = "USER" + std::to_string(i) + "@CONTOSO.COM";
    if (erased.count(i)) { EXPECT_EQ(k.index.find(key), 0u) << key; }
    else EXPECT_EQ(k.index.find(key), static_cast<FlatIndex::Entry>(i + 1)) << key;
  }
  // Re-inserting the erased ones works and finds them again.
  for (int i : erased) ASSERT_TRUE(k.index.insert(static_cast<FlatIndex::Entry>(i + 1)));
  EXPECT_EQ(k.index.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(k.index.find("user" + std::to_string(i) + "@contoso.com"), static_cast<FlatIndex::Entry>(i + 1));
}

TEST(FlatIndex, ReserveKeepsContents) {
  Keys k;
  for (int i = 0; i < 20; ++i) k.add("k" + std::to_string(i));
  for (int i = 1; i <= 10; ++i) k.index.insert(static_cast<FlatIndex::Entry>(i));
  k.index.reserve(1000);
  EXPECT_GE(k.index.memoryBytes(), 2000 * sizeof(FlatIndex::Entry));
  for (int i = 1; i <= 10; ++i) EXPECT_EQ(k.index.find("K" + std::to_string(i - 1)), static_cast<FlatIndex::Entry>(i));
  for (int i = 11; i <= 20; ++i) EXPECT_TRUE(k.index.insert(static_cast<FlatIndex::Entry>(i)));
  EXPECT_EQ(k.index.size(), 20u);
}

// --- the organisation's recipient indexes and transactions ------------------------------------------------

namespace {

Recipient mailbox(Organization& org, std::string_view name, std::string_view alias,
                  std::vector<std::string> addresses) {
  Recipient r;
  r.id = org.allocateId(Kind::Recipient);
  r.type = RecipientType::Mailbox;
  r.database = 1;
  r.setField(Recipient::Name, name);
  r.setField(Recipient::Alias, alias);
  r.setField(Recipient::DisplayName, name);
  r.setField(Recipient::LegacyExchangeDn, "/o=Org/cn=Recipients/cn=" + std::string(alias));
  r.setEmailAddresses(addresses);
  return r;
}

}  // namespace

TEST(OrganizationIndexes, LookupsIgnoreCase) {
  Organization org;
  org.put(mailbox(org, "Alice Smith", "asmith", {"SMTP:alice@contoso.com", "smtp:a.smith@contoso.com", "X500:/o=x"}));
  auto* r = org.recipientByName("alice smith");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->alias(), "asmith");
  EXPECT_EQ(org.recipientByAlias("ASMITH"), r);
  EXPECT_EQ(org.recipientByAddress("ALICE@contoso.com"), r);
  EXPECT_EQ(org.recipientByAddress("A.Smith@Contoso.com"), r);
  EXPECT_EQ(org.recipientByLegacyDn("/O=ORG/CN=RECIPIENTS/CN=ASMITH"), r);
  EXPECT_EQ(org.recipientByAddress("/o=x"), nullptr);  // only SMTP proxies are addresses
  EXPECT_EQ(org.recipientByAddress("nobody@contoso.com"), nullptr);
  EXPECT_EQ(org.recipientCount(), 1u);
  EXPECT_EQ(r->primarySmtpAddress(), "alice@contoso.com");
}

TEST(OrganizationIndexes, ReplacingARecipientReindexesIt) {
  Organization org;
  auto r = mailbox(org, "alice", "alice", {"SMTP:alice@contoso.com"});
  auto id = r.id;
  org.put(r);
  Recipient changed = *org.recipient(id);
  changed.setField(Recipient::Alias, "asmith");
  changed.setEmailAddresses({"SMTP:asmith@contoso.com"});
  org.put(changed);
  EXPECT_EQ(org.recipientByAlias("alice"), nullptr);
  EXPECT_EQ(org.recipientByAddress("alice@contoso.com"), nullptr);
  ASSERT_TRUE(org.recipientByAlias("asmith"));
  EXPECT_EQ(org.recipientByAlias("asmith")->id, id);
  EXPECT_EQ(org.recipientByAddress("ASMITH@contoso.com")->id, id);
  EXPECT_EQ(org.recipientCount(), 1u);
}

TEST(OrganizationIndexes, EraseRemovesFromEveryIndex) {
  Organization org;
  auto a = mailbox(org, "alice", "alice", {"SMTP:alice@contoso.com"});
  org.put(a);
  auto b = mailbox(org, "bob", "bob", {"SMTP:bob@contoso.com"});
  org.put(b);
  org.erase<Recipient>(a.id);
  EXPECT_EQ(org.recipient(a.id), nullptr);
  EXPECT_EQ(org.recipientByName("alice"), nullptr);
  EXPECT_EQ(org.recipientByAlias("alice"), nullptr);
  EXPECT_EQ(org.recipientByAddress("alice@contoso.com"), nullptr);
  EXPECT_EQ(org.recipientCount(), 1u);
  ASSERT_TRUE(org.recipientByName("BOB"));
  int seen = 0;
  org.forEachRecipient([&](const Recipient&) { ++seen; });
  EXPECT_EQ(seen, 1);
}

TEST(OrganizationTransactions, CommitReportsWhatChanged) {
  Organization org;
  org.begin();
  EXPECT_TRUE(org.inTransaction());
  auto r = mailbox(org, "alice", "alice", {"SMTP:alice@contoso.com"});
  org.put(r);
  org.put(AdSite{org.allocateId(Kind::AdSite), "Paris"});
  org.put(r);  // twice: reported once
  auto pending = org.pendingChanges();
  EXPECT_EQ(pending.size(), 2u);
  auto changed = org.commit();
  EXPECT_FALSE(org.inTransaction());
  EXPECT_EQ(changed, pending);
  EXPECT_TRUE(std::is_sorted(changed.begin(), changed.end()));
  EXPECT_TRUE(org.recipientByName("alice"));
}

TEST(OrganizationTransactions, RollbackRestoresObjectsAndIndexes) {
  Organization org;
  auto a = mailbox(org, "alice", "alice", {"SMTP:alice@contoso.com", "smtp:al@contoso.com"});
  org.put(a);
  auto b = mailbox(org, "bob", "bob", {"SMTP:bob@contoso.com"});
  org.put(b);
  AdSite paris{org.allocateId(Kind::AdSite), "Paris"};
  org.put(paris);
  AcceptedDomain d{org.allocateId(Kind::AcceptedDomain), "contoso", "contoso.com", DomainType::Authoritative, true, {}};
  org.put(d);
  OrganizationConfig cfg = org.config();

  org.begin();
  // Change alice's addresses, erase bob, add carol, rename the site, change the domain and config.
  Recipient a2 = *org.recipient(a.id);
  a2.setField(Recipient::Alias, "asmith");
  a2.setEmailAddresses({"SMTP:asmith@contoso.com"});
  org.put(a2);
  org.erase<Recipient>(b.id);
  auto c = mailbox(org, "carol", "carol", {"SMTP:carol@contoso.com"});
  org.put(c);
  org.put(AdSite{paris.id, "Lyon"});
  org.put(AcceptedDomain{d.id, "contoso", "contoso.org", DomainType::Authoritative, true, {}});
  OrganizationConfig cfg2 = cfg;
  cfg2.name = "Changed";
  cfg2.mapiHttpEnabled = true;
  org.setConfig(cfg2);
  org.rollback();

  EXPECT_FALSE(org.inTransaction());
  EXPECT_TRUE(org.pendingChanges().empty());
  ASSERT_TRUE(org.recipientByAlias("ALICE"));
  EXPECT_EQ(org.recipientByAlias("alice")->id, a.id);
  EXPECT_EQ(org.recipientByAddress("al@contoso.com")->id, a.id);
  EXPECT_EQ(org.recipientByAddress("alice@contoso.com")->id, a.id);
  EXPECT_EQ(org.recipientByAlias("asmith"), nullptr);
  EXPECT_EQ(org.recipientByAddress("asmith@contoso.com"), nullptr);
  ASSERT_TRUE(org.recipientByName("bob"));
  EXPECT_EQ(org.recipientByName("bob")->id, b.id);
  EXPECT_EQ(org.recipientByAddress("BOB@contoso.com")->id, b.id);
  EXPECT_EQ(org.recipientByName("carol"), nullptr);
  EXPECT_EQ(org.recipientByAddress("carol@contoso.com"), nullptr);
  EXPECT_EQ(org.recipient(c.id), nullptr);
  EXPECT_EQ(org.recipientCount(), 2u);
  EXPECT_EQ(org.find<AdSite>(paris.id)->name, "Paris");
  EXPECT_TRUE(org.acceptedDomainFor("contoso.com"));
  EXPECT_FALSE(org.acceptedDomainFor("contoso.org"));
  EXPECT_EQ(org.config().name, cfg.name);
  EXPECT_FALSE(org.config().mapiHttpEnabled);
  // Ids handed out inside the rolled-back transaction are handed out again.
  EXPECT_EQ(org.allocateId(Kind::Recipient), c.id);
}

TEST(OrganizationTransactions, RollbackOfManyChangesToTheSameRecipient) {
  Organization org;
  auto a = mailbox(org, "alice", "alice", {"SMTP:alice@contoso.com"});
  org.put(a);
  org.begin();
  for (int i = 0; i < 50; ++i) {
    Recipient x = *org.recipient(a.id);
    x.setField(Recipient::Alias, "alias" + std::to_string(i));
    x.setEmailAddresses({"SMTP:a" + std::to_string(i) + "@contoso.com"});
    org.put(x);
  }
  org.erase<Recipient>(a.id);
  org.rollback();
  ASSERT_TRUE(org.recipientByAlias("alice"));
  EXPECT_EQ(org.recipientByAddress("alice@contoso.com")->id, a.id);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(org.recipientByAlias("alias" + std::to_string(i)), nullptr);
    EXPECT_EQ(org.recipientByAddress("a" + std::to_string(i) + "@contoso.com"), nullptr);
  }
  EXPECT_EQ(org.recipientCount(), 1u);
}

TEST(OrganizationTransactions, RollbackOfManyRecipients) {
  Organization org;
  std::vector<Id> kept;
  for (int i = 0; i < 300; ++i) {
    auto r = mailbox(org, "keep" + std::to_string(i), "keep" + std::to_string(i),
                     {"SMTP:keep" + std::to_string(i) + "@contoso.com"});
    kept.push_back(r.id);
    org.put(r);
  }
  org.begin();
  for (int i = 0; i < 300; i += 2) org.erase<Recipient>(kept[static_cast<std::size_t>(i)]);
  for (int i = 0; i < 500; ++i)
    org.put(mailbox(org, "temp" + std::to_string(i), "temp" + std::to_string(i),
                    {"SMTP:temp" + std::to_string(i) + "@contoso.com"}));
  org.rollback();
  EXPECT_EQ(org.recipientCount(), 300u);
  for (int i = 0; i < 300; ++i) {
    auto n = "KEEP" + std::to_string(i);
    ASSERT_TRUE(org.recipientByName(n)) << n;
    EXPECT_EQ(org.recipientByName(n)->id, kept[static_cast<std::size_t>(i)]);
    EXPECT_EQ(org.recipientByAddress("keep" + std::to_string(i) + "@contoso.com")->id, kept[static_cast<std::size_t>(i)]);
  }
  for (int i = 0; i < 500; ++i) EXPECT_EQ(org.recipientByName("temp" + std::to_string(i)), nullptr);
}

TEST(OrganizationCopies, ACopyHasItsOwnIndexes) {
  Organization org;
  auto a = mailbox(org, "alice", "alice", {"SMTP:alice@contoso.com"});
  org.put(a);
  Organization copy(org);
  org.erase<Recipient>(a.id);
  org.put(mailbox(org, "bob", "bob", {"SMTP:bob@contoso.com"}));
  ASSERT_TRUE(copy.recipientByName("alice"));
  EXPECT_EQ(copy.recipientByAddress("alice@contoso.com")->id, a.id);
  EXPECT_EQ(copy.recipientByName("bob"), nullptr);
  EXPECT_EQ(org.recipientByName("alice"), nullptr);
  Organization assigned;
  assigned = copy;
  EXPECT_TRUE(assigned.recipientByAlias("ALICE"));
  Organization moved(std::move(assigned));
  EXPECT_TRUE(moved.recipientByAlias("alice"));
  EXPECT_EQ(moved.recipientCount(), 1u);
  Organization moveAssigned;
  moveAssigned = std::move(moved);
  EXPECT_EQ(moveAssigned.recipientByAddress("Alice@Contoso.com")->id, a.id);
}
