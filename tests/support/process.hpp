#pragma once
// Runs a program with arguments and standard input, bounded in time, and captures what it prints.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace autodisc::testing {

struct ProcessResult {
  int exitCode = -1;  // -1 if killed
  std::string out;
  std::string err;
};

inline ProcessResult runProcess(const std::vector<std::string>& argv, const std::string& input = {},
                                std::chrono::seconds timeout = std::chrono::seconds(120)) {
  int inPipe[2], outPipe[2], errPipe[2];
  if (pipe(inPipe) || pipe(outPipe) || pipe(errPipe)) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, inPipe[0], 0);
  posix_spawn_file_actions_adddup2(&fa, outPipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, errPipe[1], 2);
  for (int fd : {inPipe[0], inPipe[1], outPipe[0], outPipe[1], errPipe[0], errPipe[1]})
    posix_spawn_file_actions_addclose(&fa, fd);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(inPipe[0]);
  close(outPipe[1]);
  close(errPipe[1]);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  signal(SIGPIPE, SIG_IGN);
  std::size_t written = 0;
  if (input.empty()) close(inPipe[1]);
  ProcessResult r;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool outOpen = true, errOpen = true, inOpen = !input.empty();
  while (outOpen || errOpen) {
    std::vector<pollfd> fds;
    if (outOpen) fds.push_back({outPipe[0], POLLIN, 0});
    if (errOpen) fds.push_back({errPipe[0], POLLIN, 0});
    if (inOpen) fds.push_back({inPipe[1], POLLOUT, 0});
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      break;
    }
    if (poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0) break;
    for (auto& p : fds) {
      if (!(p.revents & (POLLIN | POLLHUP | POLLOUT | POLLERR))) continue;
      if (p.fd == inPipe[1]) {
        ssize_t n = write(inPipe[1], input.data() + written, input.size() - written);
        if (n > 0) written += static_cast<std::size_t>(n);
        if (n <= 0 || written == input.size()) {
          close(inPipe[1]);
          inOpen = false;
        }
        continue;
      }
      char buf[65536];
      ssize_t n = read(p.fd, buf, sizeof buf);
      if (n <= 0) {
        (p.fd == outPipe[0] ? outOpen : errOpen) = false;
        continue;
      }
      (p.fd == outPipe[0] ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
    }
  }
  if (inOpen) close(inPipe[1]);
  close(outPipe[0]);
  close(errPipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// AUTODISC_BIN, AUTODISC_SOURCE_DIR, AUTODISC_SEED: from the environment, else as the build set them.
inline std::string env(const char* name) {
  if (const char* v = std::getenv(name); v && *v) return v;
  std::string n = name;
#ifdef AUTODISC_BIN
  if (n == "AUTODISC_BIN") return AUTODISC_BIN;
#endif
#ifdef AUTODISC_SOURCE_DIR
  if (n == "AUTODISC_SOURCE_DIR") return AUTODISC_SOURCE_DIR;
#endif
#ifdef AUTODISC_SEED
  if (n == "AUTODISC_SEED") return AUTODISC_SEED;
#endif
  throw std::runtime_error("environment variable " + n + " is not set");
}

// Waits until something (a DNS server just started) holds a UDP port on 127.0.0.1: ready to answer.
inline bool waitForUdpPort(int port, int tries = 100) {
  for (int i = 0; i < tries; ++i) {
    int probe = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool taken = bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno == EADDRINUSE;
    close(probe);
    if (taken) return true;
    usleep(50000);
  }
  return false;
}

// Starts a program in the background, what it prints going to these files; returns its PID.
inline pid_t startProcess(std::vector<std::string> args, const std::string& outFile, const std::string& errFile) {
  pid_t pid = fork();
  if (pid == 0) {
    freopen(outFile.c_str(), "w", stdout);
    freopen(errFile.c_str(), "w", stderr);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// A DNS view for a test: dnsmasq on 127.0.0.1 and a port that was free, answering only from
// `records` (dnsmasq options such as --address=/host/addr); stopped by its PID at the end of the scope.
class DnsView {
 public:
  explicit DnsView(std::vector<std::string> records) {
    // A port below the ephemeral range (where other tests' connections come from), free for UDP and
    // TCP (dnsmasq takes both); if dnsmasq still cannot have it, another.
    static int started = 0;
    for (int attempt = 0; attempt < 8; ++attempt) {
      port_ = 20000 + static_cast<int>((getpid() * 7 + ++started * 131 + attempt * 977) % 12000);
      if (!portFree(SOCK_DGRAM) || !portFree(SOCK_STREAM)) continue;
      std::vector<std::string> args = {"/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                                       "--conf-file=/dev/null", "--listen-address=127.0.0.1", "--bind-interfaces",
                                       "--port=" + std::to_string(port_), "--pid-file="};
      args.insert(args.end(), records.begin(), records.end());
      pid_ = startProcess(args, "/dev/null", "/dev/null");
      for (int i = 0; i < 100; ++i) {
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) {  // it could not listen there
          pid_ = -1;
          break;
        }
        if (!portFree(SOCK_DGRAM)) return;  // ready once it holds the port
        usleep(20000);
      }
      stop();
    }
  }
  ~DnsView() { stop(); }
  DnsView(const DnsView&) = delete;
  DnsView& operator=(const DnsView&) = delete;
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  bool portFree(int type) const {
    int probe = socket(AF_INET, type, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(probe);
    return ok;
  }
  pid_t pid_ = -1;
  int port_ = 0;
};

// `autodisc serve ARGS...` in the background, what it prints in OUT_PREFIX.out and .err, the ports
// of its listeners read from its "listening NAME ADDR:PORT" lines; killed by its PID at the end of
// the scope.
class ServeProcess {
 public:
  ServeProcess(const std::string& binary, const std::string& outPrefix, std::vector<std::string> args) : out_(outPrefix) {
    args.insert(args.begin(), {binary, "serve"});
    pid_ = startProcess(args, out_ + ".out", out_ + ".err");
    // Up to 10 s for the first listener; the others are printed right after it.
    for (int i = 0; i < 200 && ports_.empty(); ++i) {
      usleep(50000);
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      if (!readPorts().empty()) {
        usleep(100000);
        ports_ = readPorts();
      }
    }
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;
  // The port of the listener ("https", "http", "admin"); empty when it did not start.
  std::string port(const std::string& listener) const {
    for (auto& [n, p] : ports_)
      if (n == listener) return p;
    return {};
  }

 private:
  std::vector<std::pair<std::string, std::string>> readPorts() const {
    std::vector<std::pair<std::string, std::string>> found;
    FILE* f = fopen((out_ + ".out").c_str(), "r");
    if (!f) return found;
    char name[32], where[128];
    while (fscanf(f, "listening %31s %127s\n", name, where) == 2) {
      std::string w = where;
      found.emplace_back(name, w.substr(w.rfind(':') + 1));
    }
    fclose(f);
    return found;
  }
  std::string out_;
  pid_t pid_ = -1;
  std::vector<std::pair<std::string, std::string>> ports_;
};

// A TCP connection to 127.0.0.1:PORT; the descriptor, or -1 when it could not be made.
inline int connectLoopback(const std::string& port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(port)));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (s >= 0) close(s);
    return -1;
  }
  return s;
}

// A fresh temporary directory, removed with its contents at the end of the scope.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/autodisc-test-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() { runProcess({"/bin/rm", "-rf", path_}); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace autodisc::testing
