#include "cert/x509.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <cstdio>
#include <ctime>
#include <memory>

#include "model/text.hpp"

namespace autodisc::cert {

namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;

BioPtr memoryOf(std::string_view s) { return BioPtr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size()))); }

std::string bioText(BIO* b) {
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  return n > 0 ? std::string(p, static_cast<std::size_t>(n)) : std::string();
}

std::string opensslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (!e) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::string hex(const unsigned char* p, unsigned n) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

// "CN=mail.contoso.com, O=Contoso, C=US": most specific first, as Windows prints a subject.
std::string nameText(const X509_NAME* name) {
  BioPtr b(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(b.get(), name, 0, (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB & ~XN_FLAG_SEP_MASK) | XN_FLAG_SEP_CPLUS_SPC);
  return bioText(b.get());
}

std::string isoTime(const ASN1_TIME* t, std::chrono::system_clock::time_point* out) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return {};
  std::time_t secs = timegm(&tm);
  if (out) *out = std::chrono::system_clock::from_time_t(secs);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string pemOf(X509* x) {
  BioPtr b(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(b.get(), x);
  return bioText(b.get());
}

}  // namespace

Result<Parsed> parseChain(std::string_view pem) {
  if (pem.size() > 1024 * 1024) return fail("the certificate text is larger than 1 MiB");
  auto in = memoryOf(pem);
  std::vector<X509Ptr> chain;
  while (X509* x = PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr)) chain.emplace_back(x);
  ERR_clear_error();
  if (chain.empty()) return fail("no PEM certificate (-----BEGIN CERTIFICATE-----) was found");
  X509* leaf = chain.front().get();
  Parsed p;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdLen = 0;
  X509_digest(leaf, EVP_sha1(), md, &mdLen);
  p.thumbprint = hex(md, mdLen);
  p.subject = nameText(X509_get_subject_name(leaf));
  p.issuer = nameText(X509_get_issuer_name(leaf));
  if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans, i);
      if (n->type == GEN_DNS)
        p.dnsNames.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                                static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)));
    }
    GENERAL_NAMES_free(sans);
  }
  if (p.dnsNames.empty()) {
    char cn[256] = "";
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn, sizeof cn) > 0)
      p.dnsNames.emplace_back(cn);
  }
  p.notBefore = isoTime(X509_get0_notBefore(leaf), nullptr);
  p.notAfter = isoTime(X509_get0_notAfter(leaf), &p.notAfterTime);
  p.selfSigned = X509_check_issued(leaf, leaf) == X509_V_OK;
  if (EVP_PKEY* key = X509_get0_pubkey(leaf)) {
    p.keyBits = EVP_PKEY_get_bits(key);
    int id = EVP_PKEY_get_base_id(key);
    p.keyType = id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_EC ? "EC" : "other";
  }
  p.signature = OBJ_nid2ln(X509_get_signature_nid(leaf));
  for (auto& x : chain) p.chainPem += pemOf(x.get());
  p.chainLength = static_cast<int>(chain.size());
  return p;
}

Result<std::string> privateKeyOf(std::string_view pem) {
  if (pem.find("PRIVATE KEY-----") == std::string_view::npos) return std::string();
  auto in = memoryOf(pem);
  KeyPtr key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, const_cast<char*>("")));
  if (!key) {
    std::string why = opensslError();
    return fail("the private key cannot be read (an encrypted key needs its password removed first): " + why);
  }
  BioPtr out(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return bioText(out.get());
}

Result<void> keyMatches(std::string_view chainPem, std::string_view keyPem) {
  auto in = memoryOf(chainPem);
  X509Ptr leaf(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!leaf) return fail("no PEM certificate was found");
  auto kin = memoryOf(keyPem);
  KeyPtr key(PEM_read_bio_PrivateKey(kin.get(), nullptr, nullptr, const_cast<char*>("")));
  if (!key) return fail("the private key cannot be read: " + opensslError());
  if (X509_check_private_key(leaf.get(), key.get()) != 1) {
    ERR_clear_error();
    return fail("the private key does not belong to the certificate");
  }
  return {};
}

Result<Request> generateRequest(std::string_view subject, const std::vector<std::string>& dnsNames, int keyBits) {
  if (keyBits != 2048 && keyBits != 3072 && keyBits != 4096) return fail("-KeySize must be 2048, 3072 or 4096");
  ReqPtr req(X509_REQ_new());
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  // "C=US, O=Contoso, CN=mail.contoso.com": each part TYPE=VALUE, written in the order given.
  bool any = false;
  for (auto part : text::split(subject, ',')) {
    auto t = text::trim(part);
    if (t.empty()) continue;
    auto eq = t.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == t.size())
      return fail("-SubjectName: " + std::string(t) + " is not TYPE=VALUE (as in C=US, O=Contoso, CN=mail.contoso.com)");
    std::string type(text::trim(t.substr(0, eq)));
    std::string value(text::trim(t.substr(eq + 1)));
    if (OBJ_txt2nid(type.c_str()) == NID_undef)
      return fail("-SubjectName: " + type + " is not a name attribute (C, ST, L, O, OU, CN)");
    if (X509_NAME_add_entry_by_txt(name, type.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0) != 1) {
      std::string why = opensslError();
      return fail("-SubjectName: " + type + "=" + value + ": " + why);
    }
    any = true;
  }
  if (!any) return fail("-SubjectName is empty");
  KeyPtr key(EVP_RSA_gen(static_cast<unsigned>(keyBits)));
  if (!key) return fail("cannot make an RSA key: " + opensslError());
  X509_REQ_set_version(req.get(), 0);
  X509_REQ_set_pubkey(req.get(), key.get());
  if (!dnsNames.empty()) {
    std::string san;
    for (auto& n : dnsNames) san += (san.empty() ? "DNS:" : ",DNS:") + n;
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, nullptr, nullptr, req.get(), nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str());
    if (!ext) return fail("cannot make the subject alternative names: " + opensslError());
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    sk_X509_EXTENSION_push(exts, ext);
    X509_REQ_add_extensions(req.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  if (X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0) return fail("cannot sign the request: " + opensslError());
  Request r;
  BioPtr rb(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(rb.get(), req.get());
  r.requestPem = bioText(rb.get());
  BioPtr kb(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  r.keyPem = bioText(kb.get());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned mdLen = 0;
  X509_REQ_digest(req.get(), EVP_sha1(), md, &mdLen);
  r.thumbprint = hex(md, mdLen);
  return r;
}

Result<std::string> fetchChain(const std::string& host, int port, const std::string& sni) {
  std::unique_ptr<SSL_CTX, Deleter<SSL_CTX, SSL_CTX_free>> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return fail("cannot make a TLS context: " + opensslError());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  std::string target = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  BIO* conn = BIO_new_connect(target.c_str());
  if (!conn || BIO_do_connect(conn) <= 0) {
    if (conn) BIO_free_all(conn);
    return fail("cannot connect to " + target + ": " + opensslError());
  }
  // A server that accepts and says nothing must not hold the doctor: 10 s for each read and write.
  int fd = -1;
  BIO_get_fd(conn, &fd);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::unique_ptr<SSL, Deleter<SSL, SSL_free>> ssl(SSL_new(ctx.get()));
  SSL_set_bio(ssl.get(), conn, conn);  // the SSL owns the connection from here
  if (!sni.empty()) SSL_set_tlsext_host_name(ssl.get(), sni.c_str());
  if (SSL_connect(ssl.get()) != 1) return fail("no TLS handshake with " + target + ": " + opensslError());
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl.get());
  if (!chain || sk_X509_num(chain) == 0) return fail(target + " presented no certificate");
  std::string out;
  for (int i = 0; i < sk_X509_num(chain); ++i) out += pemOf(sk_X509_value(chain, i));
  SSL_shutdown(ssl.get());
  return out;
}

}  // namespace autodisc::cert
