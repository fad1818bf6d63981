// autodisc: an Exchange-compatible Autodiscover system. main parses arguments and wires parts together.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "cli/repl.hpp"
#include "server/config.hpp"
#include "server/server.hpp"
#include "shell/help.hpp"
#include "shell/session.hpp"
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
                    "the store: sqlite:PATH (default $AUTODISC_STORE, else sqlite:autodisc.db)");
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
  flag(serve->add_option("--internal-network", flags.internalNetworks,
                         "a CIDR range of internal clients (repeatable), or ad-sites for every AD site subnet;\n"
                         "clients outside are not told internal host names. Default: every client is internal"),
       [&](auto& o) { o.internalNetworks = flags.internalNetworks; });

  auto* docs = app.add_subcommand("docs", "Print generated reference documentation (docs/cmdlets.md).");
  docs->add_subcommand("cmdlets", "Every cmdlet with its parameters and an example, as Markdown.");
  docs->require_subcommand(1);

  CLI11_PARSE(app, argc, argv);
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
  if (docs->parsed()) {
    std::cout << autodisc::shell::cmdletReferenceMarkdown();
    return 0;
  }
  return 0;
}
