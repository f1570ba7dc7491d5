// Compiled as C++14 (target synthusd_fix_quickfix); see deribit.hpp.

#include "synthusd/fix/deribit.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace synthusd {
namespace fix {
namespace deribit {

std::string base64_encode(const unsigned char* data, std::size_t size) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const std::uint32_t triple =
        (static_cast<std::uint32_t>(data[i]) << 16) | (static_cast<std::uint32_t>(data[i + 1]) << 8) | data[i + 2];
    out += alphabet[(triple >> 18) & 0x3f];
    out += alphabet[(triple >> 12) & 0x3f];
    out += alphabet[(triple >> 6) & 0x3f];
    out += alphabet[triple & 0x3f];
  }
  const std::size_t rest = size - i;
  if (rest == 1) {
    const std::uint32_t triple = static_cast<std::uint32_t>(data[i]) << 16;
    out += alphabet[(triple >> 18) & 0x3f];
    out += alphabet[(triple >> 12) & 0x3f];
    out += "==";
  } else if (rest == 2) {
    const std::uint32_t triple =
        (static_cast<std::uint32_t>(data[i]) << 16) | (static_cast<std::uint32_t>(data[i + 1]) << 8);
    out += alphabet[(triple >> 18) & 0x3f];
    out += alphabet[(triple >> 12) & 0x3f];
    out += alphabet[(triple >> 6) & 0x3f];
    out += '=';
  }
  return out;
}

std::string raw_data(std::int64_t timestamp_ms, const unsigned char* nonce, std::size_t nonce_size) {
  return std::to_string(timestamp_ms) + "." + base64_encode(nonce, nonce_size);
}

std::string password(const std::string& raw_data, const std::string& client_secret) {
  std::string input = raw_data + client_secret;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  OPENSSL_cleanse(&input[0], input.size()); // it contains the secret
  std::string encoded = base64_encode(digest, sizeof digest);
  OPENSSL_cleanse(digest, sizeof digest);
  return encoded;
}

LogonAuthentication make_logon_authentication(std::int64_t timestamp_ms, const std::string& client_secret) {
  unsigned char nonce[kNonceBytes];
  if (RAND_bytes(nonce, static_cast<int>(sizeof nonce)) != 1) {
    throw std::runtime_error("Deribit logon: OpenSSL RAND_bytes failed");
  }
  LogonAuthentication result;
  result.raw_data = raw_data(timestamp_ms, nonce, sizeof nonce);
  result.password = password(result.raw_data, client_secret);
  return result;
}

} // namespace deribit
} // namespace fix
} // namespace synthusd
