// autodisc: an Exchange-compatible Autodiscover system. main parses arguments and wires parts together.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "cli/repl.hpp"
#include "client/test_command.hpp"
#include "server/config.hpp"
#include "server/server.hpp"
#include "shell/help.hpp"
#include "shell/session.hpp"
#include "doctor/report.hpp"
#include "store/ldap_store.hpp"
#include "store/store.hpp"

namespace {

std::function<std::uint64_t()> systemRandom() {
  auto gen = std::make_shared<std::mt19937_64>([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }());
  return [gen] { return (*gen)(); };
}

int runShell(const std::string& storeUri, const std::string& command, const std::string& scriptFile) {
  auto store = autodisc::store::openStore(storeUri);
  if (!store) {
    std::cerr << "autodisc: " << store.error().message << '\n';
    return 1;
  }
  autodisc::shell::Session session(**store, systemRandom());
  if (auto r = session.open(); !r) {
    std::cerr << "autodisc: " << r.error().message << '\n';
    return 1;
  }
  if (!command.empty()) return autodisc::cli::runScript(session, command, "-c", std::cout, std::cerr);
  if (!scriptFile.empty() && scriptFile != "-") {
    std::ifstream f(scriptFile, std::ios::binary);
    if (!f) {
      std::cerr << "autodisc: cannot open the script " << scriptFile << '\n';
      return 1;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    return autodisc::cli::runScript(session, ss.str(), scriptFile, std::cout, std::cerr);
  }
  if (scriptFile.empty() && isatty(STDIN_FILENO)) return autodisc::cli::runInteractive(session, (*store)->describe());
  std::stringstream ss;
  ss << std::cin.rdbuf();
  return autodisc::cli::runScript(session, ss.str(), "stdin", std::cout, std::cerr);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "autodisc: an open, Exchange-compatible Autodiscover system.\n"
      "The organisation model (servers, virtual directories, CAS arrays, databases, recipients) is changed\n"
      "with Exchange Management Shell cmdlets and kept in a store."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "autodisc 0.1.0");

  const char* env = std::getenv("AUTODISC_STORE");
  std::string storeUri = autodisc::store::defaultStoreUri(env);

  auto* shell = app.add_subcommand(
      "shell",
      "Run Exchange Management Shell cmdlets against the store: interactively (a terminal), from a script\n"
      "file, from standard input, or one line with -c. Each line is one transaction. A script stops at the\n"
      "first error with exit status 1.");
  std::string command, scriptFile;
  shell->add_option("--store", storeUri,
                    "the store: sqlite:PATH or ldap://HOST[:PORT]/BASE-DN (default $AUTODISC_STORE, else\n"
                    "sqlite:autodisc.db); for LDAP, AUTODISC_LDAP_BIND_DN and AUTODISC_LDAP_PASSWORD (or\n"
                    "AUTODISC_LDAP_PASSWORD_FILE) give the bind (docs/directory.md)");
  shell->add_option("-c,--command", command, "run these command lines and exit");
  shell->add_option("script", scriptFile, "a file of command lines to run ('-' for standard input)");

  auto* serve = app.add_subcommand(
      "serve",
      "Answer Autodiscover requests over HTTPS from the store: POX for Outlook and ActiveSync\n"
      "(/autodiscover/autodiscover.xml), SOAP for EWS programs (/autodiscover/autodiscover.svc) and\n"
      "v2 JSON (/autodiscover/autodiscover.json); and the plain-HTTP redirect. Changes made with\n"
      "`autodisc shell` are picked up within a second. SIGTERM\n"
      "stops accepting, finishes what is in flight and exits 0; SIGHUP reloads the configuration and\n"
      "certificates. Each listener is printed when it is ready"
      " (\"listening https 127.0.0.1:8443\"); port 0 picks a free port.");
  // Flags go into `flags`; a --config file is read first and every flag given overrides its key.
  autodisc::server::Options flags;
  std::string configFile;
  bool checkOnly = false;
  std::vector<std::pair<CLI::Option*, std::function<void(autodisc::server::Options&)>>> given;
  auto flag = [&](CLI::Option* opt, std::function<void(autodisc::server::Options&)> apply) { given.emplace_back(opt, apply); };
  serve->add_option("--config", configFile, "a TOML configuration file (keys and defaults: docs/config.md)");
  serve->add_flag("--check", checkOnly, "check the configuration (and the certificate, key and store) and exit");
  flag(serve->add_option("--store", storeUri, "the store (as for shell)"), [&](auto& o) { o.storeUri = storeUri; });
  flag(serve->add_option("--https", flags.https, "ADDR:PORT to answer HTTPS on (repeatable), e.g. 0.0.0.0:443"),
       [&](auto& o) { o.https = flags.https; });
  flag(serve->add_option("--http", flags.http, "ADDR:PORT for the plain-HTTP redirect method, e.g. 0.0.0.0:80"),
       [&](auto& o) { o.http = flags.http; });
  flag(serve->add_option("--admin", flags.admin, "ADDR:PORT for /healthz, /readyz and /metrics (default 127.0.0.1:0)"),
       [&](auto& o) { o.admin = flags.admin; });
  flag(serve->add_option("--cert", flags.certFiles,
                         "a certificate chain (PEM); repeat with --key for more, chosen by SNI (the first is the default)"),
       [&](auto& o) { o.certFiles = flags.certFiles; });
  flag(serve->add_option("--key", flags.keyFiles, "the private key of the --cert in the same position (PEM)"),
       [&](auto& o) { o.keyFiles = flags.keyFiles; });
  flag(serve->add_option("--threads", flags.threads, "worker threads (default: one per core)"),
       [&](auto& o) { o.threads = flags.threads; });
  flag(serve->add_option("--auth", flags.auth,
                         "anonymous (default: anyone may ask) or basic (a mailbox's password, set with\n"
                         "New-/Set-Mailbox -Password; a user is told only about its own addresses)")
           ->check(CLI::IsMember({"anonymous", "basic"})),
       [&](auto& o) { o.auth = flags.auth; });
  flag(serve->add_option("--access-log", flags.accessLog,
                         "append a W3C extended access log (as IIS writes it, plus the Autodiscover outcome) to FILE"),
       [&](auto& o) { o.accessLog = flags.accessLog; });
  flag(serve->add_option("--scp-directory", flags.scpDirectory,
                         "publish the Client Access Servers' Autodiscover SCPs into this directory\n"
                         "(ldap://HOST[:PORT]/BASE-DN, bind from AUTODISC_LDAP_BIND_DN/_PASSWORD) at start and\n"
                         "after every change, so that domain-joined Outlook finds this service"),
       [&](auto& o) { o.scpDirectory = flags.scpDirectory; });
  flag(serve->add_option("--drain-seconds", flags.drainSeconds,
                         "after SIGTERM: not ready at once, but go on answering this long (a load balancer\n"
                         "takes the node out meanwhile), then stop accepting and exit (default 0)"),
       [&](auto& o) { o.drainSeconds = flags.drainSeconds; });
  flag(serve->add_option("--snapshot-file", flags.snapshotFile,
                         "keep a local copy of the last snapshot in this SQLite file; when the store cannot be\n"
                         "reached at start, answer from it (not ready) until the store can be"),
       [&](auto& o) { o.snapshotFile = flags.snapshotFile; });
  flag(serve->add_option("--internal-network", flags.internalNetworks,
                         "a CIDR range of internal clients (repeatable), or ad-sites for every AD site subnet;\n"
                         "clients outside are not told internal host names. Default: every client is internal"),
       [&](auto& o) { o.internalNetworks = flags.internalNetworks; });

  auto* test = app.add_subcommand(
      "test",
      "Discover EMAIL's settings the way Outlook does (spec 6.2: the last known good URL, with --ldap the\n"
      "directory's Service Connection Points (ranked by --site, pointers followed), https://<domain>,\n"
      "https://autodiscover.<domain>, the plain-HTTP redirect, DNS SRV; redirects validated and capped at 10)\n"
      "and show each step: DNS, the connection, TLS and the certificate (and whether it covers the host),\n"
      "the HTTP status and the time taken; then the settings found, which URLs a client inside and one\n"
      "outside would use, and a check of each URL (DNS, TLS and the certificate's names, an answer).\n"
      "The password comes from --password-file or AUTODISC_PASSWORD, or a prompt on a terminal; never\n"
      "from the command line, and it is never printed. Without one, requests go without credentials.\n"
      "Exit status: 0 found, 1 found with warnings (e.g. from a host outside the domain), 2 not found,\n"
      "64 usage error.");
  autodisc::client::TestOptions testOpts;
  std::string passwordFile;
  std::vector<std::string> resolveList;
  test->add_option("email", testOpts.email, "the address to discover")->required();
  test->add_option("--protocol", testOpts.protocol,
                   "pox (Outlook, default), mobilesync (ActiveSync), soap (GetUserSettings at autodiscover.svc) "
                   "or json (Autodiscover v2, Protocol=Ews)")
      ->check(CLI::IsMember({"pox", "mobilesync", "soap", "json"}));
  std::string logon;
  test->add_option("--user", logon, "the logon name for Basic authentication (default: the address)");
  test->add_option("--password-file", passwordFile, "a file whose first line is the password");
  test->add_option("--auth", testOpts.http.auth,
                   "basic (default), ntlm, negotiate (Kerberos through GSS-API), or any: the strongest the server offers")
      ->check(CLI::IsMember({"basic", "ntlm", "negotiate", "any"}));
  test->add_option("--ca", testOpts.http.caFile, "trust these CA certificates (PEM) instead of the system's");
  test->add_option("--resolve", resolveList, "HOST:PORT:ADDR, as curl has it (repeatable)");
  test->add_option("--dns", testOpts.dns.server, "ask this DNS server (ADDR:PORT) instead of the system's");
  test->add_option("--https-port", testOpts.http.httpsPort, "connect here for port 443 (labs, tests)");
  test->add_option("--http-port", testOpts.http.httpPort, "connect here for port 80");
  test->add_option("--last-known-good", testOpts.lastKnownGood, "an Autodiscover URL that worked before: tried first");
  test->add_option("--ldap", testOpts.ldapUrl,
                   "look up Autodiscover SCPs in this directory first: ldap://HOST[:PORT][/BASE], or auto for\n"
                   "the domain controllers of _ldap._tcp.dc._msdcs.<domain> (the bind from\n"
                   "AUTODISC_LDAP_BIND_DN and AUTODISC_LDAP_PASSWORD or _FILE; none: anonymous)");
  test->add_option("--site", testOpts.site,
                   "the client's AD site, to rank the SCPs (spec 6.3); default: the site whose subnet holds\n"
                   "this machine's address, from the directory");
  test->add_option("--network", testOpts.network,
                   "which client's URLs to show from the answer: internal, external or both (default)")
      ->check(CLI::IsMember({"internal", "external", "both"}));
  test->add_option("--ad-domain", testOpts.adDomain, "with --ldap auto: the AD domain whose DCs to find (default: the address's)");
  std::string cacheFile;
  bool noCache = false;
  test->add_option("--cache", cacheFile,
                   "the last-known-good cache (default $XDG_CACHE_HOME/autodisc/last-known-good, else\n"
                   "~/.cache/autodisc/last-known-good): the URL that worked for a domain is tried first next time");
  test->add_flag("--no-cache", noCache, "neither read nor write the last-known-good cache");
  test->add_option("--timeout", testOpts.http.timeoutMs, "milliseconds for each request (default 10000)");
  test->add_flag("--json", testOpts.json, "print one JSON report instead of text");
  test->add_flag("--watch", testOpts.watch,
                 "run again when the answer's TTL says (1 hour by default; 5 minutes after a failure), "
                 "printing what changed");
  test->add_option("--watch-interval", testOpts.watchIntervalSeconds, "labs and tests: seconds between runs instead");
  test->add_option("--watch-rounds", testOpts.watchRounds, "stop after this many runs (default: never)");
  bool noFollowUp = false;
  test->add_flag("--no-follow-up", noFollowUp, "do not check each URL of the answer afterwards");

  auto* storeCmd = app.add_subcommand("store", "Work on stores as a whole.");
  auto* copy = storeCmd->add_subcommand(
      "copy", "Copy the whole organisation from one store into another, empty one (SQLite to a directory or back).");
  std::string copyFrom, copyTo;
  copy->add_option("--from", copyFrom, "the store to read (sqlite:PATH or ldap://HOST[:PORT]/BASE-DN)")->required();
  copy->add_option("--to", copyTo, "the empty store to write")->required();
  storeCmd->require_subcommand(1);

  auto* scpCmd = app.add_subcommand("scp", "Service Connection Points in a directory.");
  auto* publish = scpCmd->add_subcommand(
      "publish",
      "Make a directory's Autodiscover SCPs those of the store's Client Access Servers (spec 7.1): written\n"
      "where Exchange puts them, those of servers no longer there removed. For a directory that does not\n"
      "hold the organisation, e.g. an existing Active Directory whose domain clients should find autodisc.");
  std::string publishTo;
  publish->add_option("--store", storeUri, "the store to read (as for shell)");
  publish->add_option("--to", publishTo, "the directory: ldap://HOST[:PORT]/BASE-DN (the forest root's DN)")->required();
  scpCmd->require_subcommand(1);

  auto* doctorCmd = app.add_subcommand(
      "doctor",
      "Check the organisation against the certificate the service presents, as the article's checklist\n"
      "does: every name clients are handed covered by it, no names public CAs no longer certify, no URLs\n"
      "on the Autodiscover directory, databases sent to their site's CAS array, the certificate's chain, key,\n"
      "signature, expiry and principal name, http and ActiveSync\n"
      "URLs. Each finding comes with its fix. Exit status: 0 clean, 1 warnings, 2 errors, 3 could not check.");
  autodisc::doctor::DoctorOptions doctorOpts;
  auto* doctorStore = doctorCmd->add_option("--store", storeUri, "the store (as for shell)");
  std::string doctorConfig;
  doctorCmd->add_option("--config", doctorConfig,
                        "the service's configuration file: its store (unless --store) and its first certificate "
                        "(unless --cert or --service)");
  doctorCmd->add_option("--cert", doctorOpts.certFile,
                        "the certificate chain the service presents (PEM); default: the store's certificate enabled "
                        "for IIS");
  doctorCmd->add_option("--service", doctorOpts.service, "HOST:PORT of a running service: check the chain it presents");
  doctorCmd->add_option("--sni", doctorOpts.sni, "with --service: the host name to ask for (SNI)");
  doctorCmd->add_option("--ca", doctorOpts.caFile, "verify the chain against these CAs (PEM) instead of the system's");
  doctorCmd->add_option("--internal-dns", doctorOpts.internalDns,
                        "the DNS server clients inside ask (ADDR:PORT, or system): checks split DNS and array names");
  doctorCmd->add_option("--external-dns", doctorOpts.externalDns,
                        "the DNS server clients outside ask (ADDR:PORT, or system)");
  doctorCmd->add_flag("--json", doctorOpts.json, "print one JSON report");
  doctorCmd->add_flag("--fix-script", doctorOpts.fixScript, "print only the cmdlets that fix what cmdlets can fix (never run)");
  doctorCmd->add_option("--graph", doctorOpts.graphFile,
                        "draw the topology (clients, DNS views, names, servers, arrays, virtual directories) with the "
                        "findings marked: FILE.svg, .png or .pdf through Graphviz's dot, or FILE.dot");

  auto* docs = app.add_subcommand("docs", "Print generated reference documentation (docs/cmdlets.md).");
  docs->add_subcommand("cmdlets", "Every cmdlet with its parameters and an example, as Markdown.");
  docs->require_subcommand(1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // `autodisc test` documents its exit statuses: a bad command line is 64 (EX_USAGE).
    if (rc != 0 && argc > 1 && std::string_view(argv[1]) == "test") return autodisc::client::kUsage;
    return rc;
  }
  if (shell->parsed()) return runShell(storeUri, command, scriptFile);
  if (serve->parsed()) {
    // The file first, then every flag given: at start and again on SIGHUP.
    auto configure = [&]() -> autodisc::Result<autodisc::server::Options> {
      autodisc::server::Options opts;
      opts.storeUri = autodisc::store::defaultStoreUri(std::getenv("AUTODISC_STORE"));
      if (!configFile.empty())
        if (auto r = autodisc::server::loadConfig(configFile, opts); !r) return std::unexpected(r.error());
      for (auto& [opt, apply] : given)
        if (opt->count() > 0) apply(opts);
      return opts;
    };
    auto configured = configure();
    if (!configured) {
      std::cerr << "autodisc serve: " << configured.error().message << '\n';
      return 1;
    }
    auto& opts = *configured;
    if (checkOnly) {
      if (auto r = autodisc::server::checkOptions(opts); !r) {
        std::cerr << "autodisc serve: " << r.error().message << '\n';
        return 1;
      }
      std::cout << "configuration OK\n";
      return 0;
    }
    return autodisc::server::serve(opts, configure);
  }
  if (test->parsed()) {
    testOpts.http.resolve = resolveList;
    if (!noCache) {
      if (!cacheFile.empty()) testOpts.cacheFile = cacheFile;
      else if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        testOpts.cacheFile = std::string(xdg) + "/autodisc/last-known-good";
      else if (const char* home = std::getenv("HOME"); home && *home)
        testOpts.cacheFile = std::string(home) + "/.cache/autodisc/last-known-good";
    }
    if (const char* dn = std::getenv("AUTODISC_LDAP_BIND_DN")) testOpts.ldapBindDn = dn;
    if (const char* pw = std::getenv("AUTODISC_LDAP_PASSWORD")) testOpts.ldapPassword = pw;
    else if (const char* file = std::getenv("AUTODISC_LDAP_PASSWORD_FILE")) {
      std::ifstream f(file);
      std::getline(f, testOpts.ldapPassword);
    }
    testOpts.followUp = !noFollowUp;
    testOpts.http.user = logon.empty() ? testOpts.email : logon;
    std::string password;
    if (!passwordFile.empty()) {
      std::ifstream f(passwordFile);
      if (!f) {
        std::cerr << "autodisc test: cannot read --password-file " << passwordFile << '\n';
        return autodisc::client::kUsage;
      }
      std::getline(f, password);
    } else if (const char* fromEnv = std::getenv("AUTODISC_PASSWORD")) {
      password = fromEnv;
    } else if (isatty(0)) {
      if (const char* typed = getpass(("Password for " + testOpts.email + " (empty: none): ").c_str())) password = typed;
    }
    if (password.empty()) testOpts.http.user.clear();
    testOpts.http.password = password;
    if (testOpts.email.find('@') == std::string::npos) {
      std::cerr << "autodisc test: '" << testOpts.email << "' is not an e-mail address\n";
      return autodisc::client::kUsage;
    }
    return autodisc::client::runTest(testOpts, std::cout);
  }
  if (doctorCmd->parsed()) {
    doctorOpts.storeUri = storeUri;
    if (!doctorConfig.empty()) {
      autodisc::server::Options service;
      service.storeUri = storeUri;
      if (auto r = autodisc::server::loadConfig(doctorConfig, service); !r) {
        std::cerr << "autodisc doctor: " << r.error().message << '\n';
        return autodisc::doctor::kCannotCheck;
      }
      if (doctorStore->count() == 0) doctorOpts.storeUri = service.storeUri;
      if (doctorOpts.certFile.empty() && doctorOpts.service.empty() && !service.certFiles.empty())
        doctorOpts.certFile = service.certFiles.front();
    }
    doctorOpts.checkDns = !doctorOpts.internalDns.empty() || !doctorOpts.externalDns.empty();
    if (doctorOpts.checkDns) {
      if (doctorOpts.internalDns.empty()) doctorOpts.internalDns = "system";
      if (doctorOpts.externalDns.empty()) doctorOpts.externalDns = "system";
    }
    return autodisc::doctor::runDoctor(doctorOpts, std::cout, std::cerr);
  }
  if (publish->parsed()) {
    auto from = autodisc::store::openStore(storeUri);
    if (!from) {
      std::cerr << "autodisc scp publish: " << from.error().message << '\n';
      return 1;
    }
    auto org = (*from)->read();
    if (!org) {
      std::cerr << "autodisc scp publish: " << org.error().message << '\n';
      return 1;
    }
    auto to = autodisc::store::LdapStore::connectOnly(publishTo);
    if (!to) {
      std::cerr << "autodisc scp publish: " << to.error().message << '\n';
      return 1;
    }
    auto r = (*to)->publishScps(*org->org);
    if (!r) {
      std::cerr << "autodisc scp publish: " << r.error().message << '\n';
      return 1;
    }
    for (auto& u : r->urls) std::cout << "published " << u << '\n';
    std::cout << r->written << " SCP(s) written, " << r->removed << " removed\n";
    return 0;
  }
  if (copy->parsed()) {
    auto from = autodisc::store::openStore(copyFrom);
    if (!from) {
      std::cerr << "autodisc store copy: " << from.error().message << '\n';
      return 1;
    }
    auto to = autodisc::store::openStore(copyTo);
    if (!to) {
      std::cerr << "autodisc store copy: " << to.error().message << '\n';
      return 1;
    }
    auto n = autodisc::store::copyOrganization(**from, **to);
    if (!n) {
      std::cerr << "autodisc store copy: " << n.error().message << '\n';
      return 1;
    }
    std::cout << "copied " << *n << " objects from " << (*from)->describe() << " to " << (*to)->describe() << '\n';
    return 0;
  }
  if (docs->parsed()) {
    std::cout << autodisc::shell::cmdletReferenceMarkdown();
    return 0;
  }
  return 0;
}
