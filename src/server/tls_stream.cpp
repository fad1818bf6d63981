// clang-format off
#include <utility>  // Boost 1.74's Asio uses std::exchange without including it
// clang-format on
#include "server/tls_stream.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <climits>
#include <cstring>

namespace autodisc::server {

namespace net = boost::asio;
using boost::system::error_code;

BIO_METHOD* TlsStream::bioMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "autodisc connection");
    BIO_meth_set_write(m, &TlsStream::bioWrite);
    BIO_meth_set_read(m, &TlsStream::bioRead);
    BIO_meth_set_ctrl(m, &TlsStream::bioCtrl);
    return m;
  }();
  return method;
}

// Straight to the socket when nothing is waiting before it; the rest is kept for flush(). Never
// "retry": OpenSSL's record is taken whole, so SSL_write never asks to wait for the socket.
int TlsStream::bioWrite(BIO* bio, const char* data, int len) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (self->sendErrno_ || !self->socket_.is_open()) return -1;
  std::size_t size = static_cast<std::size_t>(len), sent = 0;
  if (self->pending_.empty()) {
    for (;;) {
      ssize_t n = ::send(self->socket_.native_handle(), data, size, MSG_NOSIGNAL);
      if (n >= 0) {
        sent = static_cast<std::size_t>(n);
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      self->sendErrno_ = errno;
      return -1;
    }
  }
  self->pending_.append(data + sent, size - sent);
  return len;
}

int TlsStream::bioRead(BIO* bio, char* data, int len) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  std::size_t have = self->rawEnd_ - self->rawBegin_;
  if (have == 0) {
    BIO_set_retry_read(bio);
    return -1;
  }
  std::size_t n = std::min(have, static_cast<std::size_t>(len));
  std::memcpy(data, self->raw_.get() + self->rawBegin_, n);
  self->rawBegin_ += n;
  return static_cast<int>(n);
}

long TlsStream::bioCtrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // writes are never held back inside OpenSSL's view
}

TlsStream::TlsStream(Socket socket, SSL_CTX* ctx) : socket_(std::move(socket)) {
  error_code ec;
  socket_.non_blocking(true, ec);
  ssl_ = SSL_new(ctx);
  BIO* bio = ssl_ && !ec ? BIO_new(bioMethod()) : nullptr;
  if (!bio) {  // every operation then fails
    if (ssl_) SSL_free(ssl_);
    ssl_ = nullptr;
    return;
  }
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);  // one reference, for both directions
  // Release the record buffers of an idle connection, as nginx does.
  SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS);
  // Take whatever has arrived at once, rather than a record's header and then its body.
  SSL_set_read_ahead(ssl_, 1);
  SSL_set_accept_state(ssl_);
}

TlsStream::~TlsStream() {
  if (ssl_) SSL_free(ssl_);
}

TlsStream::Next TlsStream::classify(int result, error_code& ec) {
  if (result > 0) return Next::Done;
  int saved = errno;
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ: return Next::WantRead;
    case SSL_ERROR_ZERO_RETURN: ec = net::error::eof; break;
    case SSL_ERROR_SYSCALL:
      if (sendErrno_) saved = sendErrno_;
      ec = saved ? error_code(saved, boost::system::system_category()) : error_code(net::error::eof);
      break;
    case SSL_ERROR_SSL: {
      unsigned long e = ERR_peek_last_error();
      if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) ec = net::ssl::error::stream_truncated;
      else ec = error_code(static_cast<int>(e), net::error::get_ssl_category());
      break;
    }
    default: ec = net::error::fault; break;  // WANT_WRITE cannot come from our BIO
  }
  if (ec != net::error::eof) broken_ = true;
  // Leave the thread's error queue empty: the next SSL call on this thread reads its own result.
  ERR_clear_error();
  return Next::Failed;
}

net::awaitable<error_code> TlsStream::fill() {
  error_code ec;
  if (!raw_) {
    // The buffer is taken when the client first sends something: a connection that never does (one
    // of many idle ones) holds none.
    co_await socket_.async_wait(Socket::wait_read, net::redirect_error(net::use_awaitable, ec));
    if (ec) co_return ec;
    raw_.reset(new char[kRawSize]);
  }
  std::size_t have = rawEnd_ - rawBegin_;  // none: OpenSSL asks for more when it has taken all
  if (have > 0) std::memmove(raw_.get(), raw_.get() + rawBegin_, have);
  rawBegin_ = 0;
  rawEnd_ = have;
  std::size_t n = co_await socket_.async_read_some(net::buffer(raw_.get() + have, kRawSize - have),
                                                   net::redirect_error(net::use_awaitable, ec));
  rawEnd_ += n;
  if (ec == net::error::eof) broken_ = true;  // the peer is gone: no close_notify to it
  co_return ec;
}

net::awaitable<error_code> TlsStream::flush() {
  error_code ec;
  if (pending_.empty()) co_return ec;
  co_await net::async_write(socket_, net::buffer(pending_), net::redirect_error(net::use_awaitable, ec));
  pending_.clear();
  co_return ec;
}

net::awaitable<error_code> TlsStream::handshake() {
  // Nothing is asked of OpenSSL before the ClientHello is here: it sets up its buffers (some 30 KB)
  // when the handshake starts, which a crowd of silent connections would otherwise hold.
  if (!raw_ && ssl_ && socket_.is_open())
    if (auto ec = co_await fill()) co_return ec;
  for (;;) {
    if (!ssl_ || !socket_.is_open()) co_return net::error::bad_descriptor;
    error_code ec;
    auto next = classify(SSL_do_handshake(ssl_), ec);
    if (next == Next::Failed) co_return ec;
    if ((ec = co_await flush())) co_return ec;
    if (next == Next::Done) co_return ec;
    if ((ec = co_await fill())) co_return ec;
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
    // What OpenSSL wrote while reading (an alert, a key update's answer) goes first.
    if ((ec = co_await flush())) co_return 0;
    if ((ec = co_await fill())) co_return 0;
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
    // A TLS 1.2 renegotiation in the middle of a write wants the peer's answer first.
    if ((ec = co_await flush())) co_return ec;
    if ((ec = co_await fill())) co_return ec;
  }
  co_return co_await flush();
}

void TlsStream::shutdown() {
  if (!ssl_ || broken_ || !socket_.is_open() || !SSL_is_init_finished(ssl_)) return;
  if (SSL_shutdown(ssl_) < 0) ERR_clear_error();
}

}  // namespace autodisc::server
