// clang-format off
#include <utility>  // Boost 1.74's Asio uses std::exchange without including it
// clang-format on
#include "server/tls_stream.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <chrono>
#include <future>
#include <string>
#include <thread>

namespace autodisc::server {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

// A server context with a throwaway self-signed certificate made in memory.
struct ServerContext {
  SSL_CTX* ctx = nullptr;
  ServerContext() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_use_certificate(ctx, cert);
    SSL_CTX_use_PrivateKey(ctx, key);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  ~ServerContext() { SSL_CTX_free(ctx); }
};

// What the server side saw.
struct Seen {
  error_code handshake, read, write;
  std::string request;
};

enum class Script { Echo, WriteLarge, ReadUntilError, CloseWhileReading };

constexpr std::size_t kLarge = 4 * 1024 * 1024;

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 97) % 26);
  return s;
}

net::awaitable<void> serveOne(tcp::acceptor& acceptor, SSL_CTX* ctx, Script script, std::promise<Seen>& done) {
  Seen seen;
  auto socket = co_await acceptor.async_accept(net::use_awaitable);
  // A small send buffer: a large answer must wait for the reader, through the stream's own queue.
  socket.set_option(net::socket_base::send_buffer_size(4096));
  TlsStream tls(std::move(socket), ctx);
  seen.handshake = co_await tls.handshake();
  // As the connection's deadline does: the socket is closed while a read waits.
  net::steady_timer deadline(co_await net::this_coro::executor, std::chrono::milliseconds(100));
  if (script == Script::CloseWhileReading)
    deadline.async_wait([&](error_code ec) {
      if (!ec) tls.socket().close();
    });
  if (!seen.handshake) {
    char buf[1024];
    for (;;) {
      std::size_t n = co_await tls.readSome(net::buffer(buf), seen.read);
      if (seen.read) break;
      seen.request.append(buf, n);
      if (script != Script::ReadUntilError && seen.request.find('\n') != std::string::npos) break;
    }
    if (script == Script::CloseWhileReading) {
      error_code again;
      co_await tls.readSome(net::buffer(buf), again);
      seen.write = again;  // what a later read says once the socket is gone
    }
    if (script == Script::Echo) seen.write = co_await tls.writeAll(net::buffer(seen.request));
    if (script == Script::WriteLarge) {
      std::string large = pattern(kLarge);
      seen.write = co_await tls.writeAll(net::buffer(large));
    }
    tls.shutdown();
  }
  done.set_value(seen);
}

class TlsStreamTest : public ::testing::Test {
 protected:
  void start(Script script) {
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(net::ip::address_v4::loopback(), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    net::co_spawn(ioc_, serveOne(acceptor_, server_.ctx, script, done_), net::detached);
    thread_ = std::thread([this] { ioc_.run_for(std::chrono::seconds(30)); });
  }
  void TearDown() override {
    if (client_) SSL_free(client_);
    if (cctx_) SSL_CTX_free(cctx_);
    if (fd_ >= 0) ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  int connectRaw() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  bool connectTls() {
    if (connectRaw() != 0) return false;
    cctx_ = SSL_CTX_new(TLS_client_method());
    client_ = SSL_new(cctx_);
    SSL_set_fd(client_, fd_);
    return SSL_connect(client_) == 1;
  }
  Seen result() {
    auto f = done_.get_future();
    EXPECT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
    return f.get();
  }
  ServerContext server_;
  net::io_context ioc_;
  tcp::acceptor acceptor_{ioc_};
  std::uint16_t port_ = 0;
  std::promise<Seen> done_;
  std::thread thread_;
  int fd_ = -1;
  SSL_CTX* cctx_ = nullptr;
  SSL* client_ = nullptr;
};

TEST_F(TlsStreamTest, HandshakesReadsWritesAndSendsCloseNotify) {
  start(Script::Echo);
  ASSERT_TRUE(connectTls());
  std::string hello = "hello over TLS\n";
  ASSERT_EQ(SSL_write(client_, hello.data(), static_cast<int>(hello.size())), static_cast<int>(hello.size()));
  std::string got(hello.size(), '\0');
  int n = 0;
  for (std::size_t at = 0; at < got.size(); at += static_cast<std::size_t>(n)) {
    n = SSL_read(client_, got.data() + at, static_cast<int>(got.size() - at));
    ASSERT_GT(n, 0);
  }
  EXPECT_EQ(got, hello);
  char c;
  EXPECT_EQ(SSL_read(client_, &c, 1), 0);
  EXPECT_EQ(SSL_get_error(client_, 0), SSL_ERROR_ZERO_RETURN) << "the server should end with close_notify";
  auto seen = result();
  EXPECT_FALSE(seen.handshake) << seen.handshake.message();
  EXPECT_FALSE(seen.write) << seen.write.message();
  EXPECT_EQ(seen.request, hello);
}

// 4 MiB through a 4 KiB send buffer to a reader that starts late: the stream keeps what the socket
// does not take and writes it as the reader makes room; every byte arrives, in order.
TEST_F(TlsStreamTest, ALargeWriteToASlowReaderArrivesWhole) {
  start(Script::WriteLarge);
  ASSERT_TRUE(connectTls());
  ASSERT_EQ(SSL_write(client_, "go\n", 3), 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string got;
  char buf[16384];
  for (;;) {
    int n = SSL_read(client_, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  auto seen = result();
  EXPECT_FALSE(seen.write) << seen.write.message();
  ASSERT_EQ(got.size(), kLarge);
  EXPECT_TRUE(got == pattern(kLarge));
}

TEST_F(TlsStreamTest, APeerThatIsNotTlsFailsTheHandshake) {
  start(Script::Echo);
  ASSERT_EQ(connectRaw(), 0);
  std::string junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd_, junk.data(), junk.size(), MSG_NOSIGNAL), static_cast<ssize_t>(junk.size()));
  auto seen = result();
  EXPECT_TRUE(seen.handshake);
  EXPECT_EQ(ERR_peek_error(), 0u) << "the thread's error queue is left empty";
}

TEST_F(TlsStreamTest, APeerGoneWithoutCloseNotifyIsAnErrorNotACrash) {
  start(Script::ReadUntilError);
  ASSERT_TRUE(connectTls());
  ASSERT_EQ(SSL_write(client_, "partial", 7), 7);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::shutdown(fd_, SHUT_RDWR);
  auto seen = result();
  EXPECT_FALSE(seen.handshake);
  EXPECT_EQ(seen.request, "partial");
  EXPECT_TRUE(seen.read);
}

TEST_F(TlsStreamTest, ASocketClosedByTheDeadlineEndsTheReadAndNothingTouchesItAfter) {
  start(Script::CloseWhileReading);
  ASSERT_TRUE(connectTls());
  auto seen = result();
  EXPECT_TRUE(seen.read);
  EXPECT_EQ(seen.write, net::error::bad_descriptor) << seen.write.message();
}

}  // namespace
}  // namespace autodisc::server
