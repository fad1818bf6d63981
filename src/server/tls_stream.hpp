#pragma once
// A TLS connection with OpenSSL reading and writing the socket itself (SSL_set_fd), the socket
// non-blocking and Asio's reactor used only to wait for it to be readable or writable.
//
// Asio's ssl::stream puts a memory BIO pair between OpenSSL and the socket: every record is copied
// once more, and every operation runs its state machine and clears OpenSSL's error queue. Here a
// read or a write is one SSL_read or SSL_write, tried at once and waited for only when OpenSSL asks.
//
// Once the socket is closed (by the connection's deadline) nothing more is read or written: the
// descriptor's number may already belong to another connection.

#include <openssl/ssl.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace autodisc::server {

class TlsStream {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  // Takes the socket; `ctx` is the default context (SNI may switch it during the handshake).
  TlsStream(Socket socket, SSL_CTX* ctx);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  Socket& socket() { return socket_; }
  SSL* native() { return ssl_; }

  boost::asio::awaitable<boost::system::error_code> handshake();
  // At least one byte into `into`, or an error (eof when the peer closed the TLS session cleanly).
  boost::asio::awaitable<std::size_t> readSome(boost::asio::mutable_buffer into, boost::system::error_code& ec);
  // All of `data`, or an error.
  boost::asio::awaitable<boost::system::error_code> writeAll(boost::asio::const_buffer data);
  // Sends close_notify once without waiting for the peer's (as most servers do).
  void shutdown();

 private:
  // What the result of an SSL_* call means: done (>0), wait for the socket, or an error in `ec`.
  enum class Next { Done, WaitRead, WaitWrite, Failed };
  Next classify(int result, boost::system::error_code& ec);
  boost::asio::awaitable<void> waitFor(Next next, boost::system::error_code& ec);

  Socket socket_;
  SSL* ssl_ = nullptr;
  bool broken_ = false;  // a fatal error: no close_notify may follow
};

}  // namespace autodisc::server
