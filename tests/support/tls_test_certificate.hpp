#pragma once
// Self-signed certificates made with the openssl CLI and TLS server contexts
// presenting them, for loopback TLS servers in tests (the transfer wallets'
// lnd and Deribit stand-ins, the LND source's fake). Header-only: link
// OpenSSL::SSL.

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <cstdlib>
#include <string>

namespace synthusd::test_support {

struct Certificate {
  std::string certificate; // PEM; self-signed, so also what a client pins
  std::string key;
};

// A self-signed P-256 certificate for CN=localhost and `subject_alt_name`,
// written as <directory>/<name>.cert and .key. Fails the test on error.
inline Certificate make_certificate(const std::string& directory, const std::string& name,
                                    const std::string& subject_alt_name = "IP:127.0.0.1") {
  Certificate made{directory + "/" + name + ".cert", directory + "/" + name + ".key"};
  const std::string command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
                              " -subj /CN=localhost -addext subjectAltName=" +
                              subject_alt_name + " -keyout " + made.key + " -out " + made.certificate +
                              " >/dev/null 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return made;
}

// A TLS server context presenting `certificate` (the caller frees it).
inline SSL_CTX* server_context(const Certificate& certificate) {
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  EXPECT_EQ(SSL_CTX_use_certificate_file(context, certificate.certificate.c_str(), SSL_FILETYPE_PEM), 1);
  EXPECT_EQ(SSL_CTX_use_PrivateKey_file(context, certificate.key.c_str(), SSL_FILETYPE_PEM), 1);
  return context;
}

} // namespace synthusd::test_support
