#pragma once
// A TLS connection whose records go between OpenSSL and the socket through a BIO of our own.
//
// Asio's ssl::stream puts a memory BIO pair between OpenSSL and the socket: every record is copied
// in and out of it, and every operation runs a state machine and clears OpenSSL's error queue.
// Here OpenSSL's writes go straight to the socket with send(2) from inside the BIO (what the socket
// does not take at once is kept and written when the operation ends), and its reads come from a
// buffer that Asio's ordinary read fills: Asio tries that read at once and otherwise waits on the
// descriptor it registered with epoll when the connection was accepted. (Waiting with async_wait
// would re-arm epoll with a system call on every wait.)
//
// Once the socket is closed (by the connection's deadline) nothing more is read or written.

#include <openssl/ssl.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <string>

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
  // Sends close_notify if the socket takes it at once, without waiting for the peer's (as most servers do).
  void shutdown();

 private:
  static constexpr std::size_t kRawSize = 16 * 1024 + 512;  // a whole record and its header

  static int bioWrite(BIO* bio, const char* data, int len);
  static int bioRead(BIO* bio, char* data, int len);
  static long bioCtrl(BIO* bio, int cmd, long num, void* ptr);
  static BIO_METHOD* bioMethod();

  // What the result of an SSL_* call means: done (>0), more bytes wanted, or an error in `ec`.
  enum class Next { Done, WantRead, Failed };
  Next classify(int result, boost::system::error_code& ec);
  // Reads what the peer sent into raw_ (OpenSSL asked for more).
  boost::asio::awaitable<boost::system::error_code> fill();
  // Writes what the socket did not take at once.
  boost::asio::awaitable<boost::system::error_code> flush();

  Socket socket_;
  SSL* ssl_ = nullptr;
  std::unique_ptr<char[]> raw_;  // received, not yet read by OpenSSL: [rawBegin_, rawEnd_)
  std::size_t rawBegin_ = 0, rawEnd_ = 0;
  std::string pending_;  // encrypted bytes the socket did not take at once
  int sendErrno_ = 0;    // a send(2) that failed inside the BIO
  bool broken_ = false;  // a fatal error: no close_notify may follow
};

}  // namespace autodisc::server
