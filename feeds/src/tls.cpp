#include "synthusd/feeds/tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <climits>
#include <stdexcept>

namespace synthusd::feeds {
namespace {

[[nodiscard]] bool is_ip_literal(const std::string& host) noexcept {
  unsigned char address[16];
  return inet_pton(AF_INET, host.c_str(), address) == 1 || inet_pton(AF_INET6, host.c_str(), address) == 1;
}

// The oldest queued OpenSSL error, as its reason text, clearing the queue.
[[nodiscard]] std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "no OpenSSL error queued";
  }
  const char* reason = ERR_reason_error_string(code);
  if (reason != nullptr) {
    return reason;
  }
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

[[nodiscard]] int clamp_size(std::size_t size) noexcept { return size > INT_MAX ? INT_MAX : static_cast<int>(size); }

} // namespace

TlsClient::TlsClient(const TlsOptions& options) {
  context_ = SSL_CTX_new(TLS_client_method());
  if (context_ == nullptr) {
    throw std::runtime_error("SSL_CTX_new: " + openssl_reason());
  }
  SSL_CTX_set_min_proto_version(context_, TLS1_2_VERSION);
  if (options.verify_peer) {
    SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_default_verify_paths(context_) != 1) {
      const std::string reason = openssl_reason();
      SSL_CTX_free(context_);
      throw std::runtime_error("TLS: cannot use the system CA store: " + reason);
    }
  } else {
    SSL_CTX_set_verify(context_, SSL_VERIFY_NONE, nullptr);
  }
  if (!options.extra_ca_file.empty() &&
      SSL_CTX_load_verify_locations(context_, options.extra_ca_file.c_str(), nullptr) != 1) {
    const std::string reason = openssl_reason();
    SSL_CTX_free(context_);
    throw std::runtime_error("TLS: cannot load CA file " + options.extra_ca_file + ": " + reason);
  }
}

TlsClient::~TlsClient() {
  end();
  SSL_CTX_free(context_);
}

bool TlsClient::begin(std::string_view host) {
  end();
  ERR_clear_error();
  error_.clear();
  host_.assign(host);
  session_ = SSL_new(context_);
  incoming_ = BIO_new(BIO_s_mem());
  outgoing_ = BIO_new(BIO_s_mem());
  if (session_ == nullptr || incoming_ == nullptr || outgoing_ == nullptr) {
    BIO_free(incoming_);
    BIO_free(outgoing_);
    incoming_ = nullptr;
    outgoing_ = nullptr;
    fail("TLS setup failed");
    return false;
  }
  // An empty read BIO means "wait for more", not end of stream.
  BIO_set_mem_eof_return(incoming_, -1);
  SSL_set_bio(session_, incoming_, outgoing_);
  SSL_set_connect_state(session_);

  bool ok = true;
  if (is_ip_literal(host_)) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(session_), host_.c_str()) == 1;
  } else {
    SSL_set_hostflags(session_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = SSL_set_tlsext_host_name(session_, host_.c_str()) == 1 && SSL_set1_host(session_, host_.c_str()) == 1;
  }
  if (!ok) {
    fail("TLS setup failed for host " + host_);
    return false;
  }
  const int result = SSL_do_handshake(session_);
  if (result != 1 && SSL_get_error(session_, result) != SSL_ERROR_WANT_READ) {
    fail("TLS handshake failed");
    return false;
  }
  return true;
}

void TlsClient::end() noexcept {
  if (session_ != nullptr) {
    SSL_free(session_); // frees both BIOs
  }
  session_ = nullptr;
  incoming_ = nullptr;
  outgoing_ = nullptr;
  established_ = false;
}

TlsProgress TlsClient::receive(std::span<const std::uint8_t> ciphertext) {
  if (session_ == nullptr) {
    error_ = "TLS: no session";
    return TlsProgress::failed;
  }
  while (!ciphertext.empty()) {
    const int written = BIO_write(incoming_, ciphertext.data(), clamp_size(ciphertext.size()));
    if (written <= 0) {
      fail("TLS: buffering ciphertext failed");
      return TlsProgress::failed;
    }
    ciphertext = ciphertext.subspan(static_cast<std::size_t>(written));
  }
  if (established_) {
    return TlsProgress::established;
  }
  const int result = SSL_do_handshake(session_);
  if (result == 1) {
    established_ = true;
    return TlsProgress::established;
  }
  const int error = SSL_get_error(session_, result);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
    return TlsProgress::handshaking;
  }
  fail("TLS handshake failed");
  return TlsProgress::failed;
}

TlsRead TlsClient::read(std::span<std::uint8_t> plaintext) {
  if (!established_ || plaintext.empty()) {
    return {0, TlsReadStatus::need_more};
  }
  const int result = SSL_read(session_, plaintext.data(), clamp_size(plaintext.size()));
  if (result > 0) [[likely]] {
    return {static_cast<std::size_t>(result), TlsReadStatus::data};
  }
  switch (SSL_get_error(session_, result)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    return {0, TlsReadStatus::need_more};
  case SSL_ERROR_ZERO_RETURN:
    return {0, TlsReadStatus::closed};
  default:
    fail("TLS read failed");
    return {0, TlsReadStatus::failed};
  }
}

bool TlsClient::write(std::span<const std::uint8_t> plaintext) {
  if (!established_) {
    error_ = "TLS: write before the handshake finished";
    return false;
  }
  if (plaintext.empty()) {
    return true;
  }
  // Without SSL_MODE_ENABLE_PARTIAL_WRITE a successful SSL_write takes all of
  // it, and a memory BIO never pushes back.
  const int result = SSL_write(session_, plaintext.data(), clamp_size(plaintext.size()));
  if (result <= 0 || static_cast<std::size_t>(result) != plaintext.size()) {
    fail("TLS write failed");
    return false;
  }
  return true;
}

void TlsClient::shutdown() noexcept {
  if (established_) {
    SSL_shutdown(session_);
    ERR_clear_error();
  }
}

std::size_t TlsClient::pending_output() const noexcept {
  return outgoing_ == nullptr ? 0 : BIO_ctrl_pending(outgoing_);
}

std::size_t TlsClient::take_output(std::span<std::uint8_t> out) noexcept {
  if (outgoing_ == nullptr || out.empty()) {
    return 0;
  }
  const int result = BIO_read(outgoing_, out.data(), clamp_size(out.size()));
  return result > 0 ? static_cast<std::size_t>(result) : 0;
}

void TlsClient::fail(std::string_view what) {
  error_.assign(what);
  error_ += ": ";
  error_ += openssl_reason();
  if (session_ != nullptr) {
    const long verify = SSL_get_verify_result(session_);
    if (verify != X509_V_OK) {
      error_ += " (";
      error_ += X509_verify_cert_error_string(verify);
      error_ += ')';
    }
  }
}

} // namespace synthusd::feeds
