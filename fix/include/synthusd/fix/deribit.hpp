#pragma once
// Deribit's FIX logon authentication (docs.deribit.com/fix-api, Logon(A)):
//
//   RawData(96)  = "<milliseconds since the epoch>.<base64 of a random nonce>"
//                  the timestamp strictly increasing, the nonce >= 32 bytes
//   Password(554)= base64( SHA-256( RawData + client_secret ) )
//                  the raw 32-byte digest, base64-encoded: NOT a hex digest
//   Username(553)= the client id
//
// C++14, no QuickFIX types. Thread safety: the free functions share no state.

#include <cstddef>
#include <cstdint>
#include <string>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {
namespace deribit {

constexpr std::size_t kNonceBytes = 32;

// Standard base64 (RFC 4648, with '=' padding, no line breaks).
std::string base64_encode(const unsigned char* data, std::size_t size);

// "<timestamp_ms>.<base64(nonce)>".
std::string raw_data(std::int64_t timestamp_ms, const unsigned char* nonce, std::size_t nonce_size);

// base64(SHA-256(raw_data + client_secret)).
std::string password(const std::string& raw_data, const std::string& client_secret);

struct LogonAuthentication {
  std::string raw_data;
  std::string password;
};

// A fresh RawData (kNonceBytes from OpenSSL's RAND_bytes) and its Password.
// Throws std::runtime_error if the random generator fails.
LogonAuthentication make_logon_authentication(std::int64_t timestamp_ms, const std::string& client_secret);

} // namespace deribit
} // namespace fix
} // namespace synthusd
