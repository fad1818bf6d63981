// clang-format off
#include <utility>  // Boost 1.74's Asio uses std::exchange without including it
// clang-format on
#include "server/tls_stream.hpp"

#include <openssl/err.h>

#include <boost/asio/error.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <climits>

namespace autodisc::server {

namespace net = boost::asio;
using boost::system::error_code;

TlsStream::TlsStream(Socket socket, SSL_CTX* ctx) : socket_(std::move(socket)) {
  error_code ec;
  socket_.non_blocking(true, ec);
  ssl_ = SSL_new(ctx);
  if (!ssl_ || ec) return;  // every operation then fails
  // Release the record buffers of an idle connection (nginx does the same); a write may be
  // partial and is then continued from where it stopped.
  SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_fd(ssl_, static_cast<int>(socket_.native_handle()));
  SSL_set_accept_state(ssl_);
}

TlsStream::~TlsStream() {
  if (ssl_) SSL_free(ssl_);
}

TlsStream::Next TlsStream::classify(int result, error_code& ec) {
  if (result > 0) return Next::Done;
  int saved = errno;
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ: return Next::WaitRead;
    case SSL_ERROR_WANT_WRITE: return Next::WaitWrite;
    case SSL_ERROR_ZERO_RETURN: ec = net::error::eof; break;
    case SSL_ERROR_SYSCALL:
      ec = saved ? error_code(saved, boost::system::system_category()) : error_code(net::error::eof);
      break;
    case SSL_ERROR_SSL: {
      unsigned long e = ERR_peek_last_error();
      if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) ec = net::ssl::error::stream_truncated;
      else ec = error_code(static_cast<int>(e), net::error::get_ssl_category());
      break;
    }
    default: ec = net::error::fault; break;
  }
  if (ec != net::error::eof) broken_ = true;
  // Leave the thread's error queue empty: the next SSL call on this thread reads its own result.
  ERR_clear_error();
  return Next::Failed;
}

// Not a coroutine itself: the wait is awaited in the caller's frame.
net::awaitable<void> TlsStream::waitFor(Next next, error_code& ec) {
  return socket_.async_wait(next == Next::WaitRead ? Socket::wait_read : Socket::wait_write,
                            net::redirect_error(net::use_awaitable, ec));
}

net::awaitable<error_code> TlsStream::handshake() {
  for (;;) {
    if (!ssl_ || !socket_.is_open()) co_return net::error::bad_descriptor;
    error_code ec;
    auto next = classify(SSL_do_handshake(ssl_), ec);
    if (next == Next::Done) co_return error_code{};
    if (next == Next::Failed) co_return ec;
    co_await waitFor(next, ec);
    if (ec) co_return ec;
  }
}

net::awaitable<std::size_t> TlsStream::readSome(net::mutable_buffer into, error_code& ec) {
  ec = {};
  int len = static_cast<int>(std::min<std::size_t>(into.size(), INT_MAX));
  for (;;) {
    if (!ssl_ || !socket_.is_open()) {
      ec = net::error::bad_descriptor;
      co_return 0;
    }
    int n = SSL_read(ssl_, into.data(), len);
    auto next = classify(n, ec);
    if (next == Next::Done) co_return static_cast<std::size_t>(n);
    if (next == Next::Failed) co_return 0;
    co_await waitFor(next, ec);
    if (ec) co_return 0;
  }
}

net::awaitable<error_code> TlsStream::writeAll(net::const_buffer data) {
  auto* p = static_cast<const char*>(data.data());
  std::size_t left = data.size();
  while (left > 0) {
    if (!ssl_ || !socket_.is_open()) co_return net::error::bad_descriptor;
    error_code ec;
    int n = SSL_write(ssl_, p, static_cast<int>(std::min<std::size_t>(left, INT_MAX)));
    auto next = classify(n, ec);
    if (next == Next::Failed) co_return ec;
    if (next == Next::Done) {
      p += n;
      left -= static_cast<std::size_t>(n);
      continue;
    }
    co_await waitFor(next, ec);
    if (ec) co_return ec;
  }
  co_return error_code{};
}

void TlsStream::shutdown() {
  if (!ssl_ || broken_ || !socket_.is_open() || !SSL_is_init_finished(ssl_)) return;
  if (SSL_shutdown(ssl_) < 0) ERR_clear_error();
}

}  // namespace autodisc::server
