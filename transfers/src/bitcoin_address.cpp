#include "synthusd/transfers/bitcoin_address.hpp"

#include "synthusd/common/bech32.hpp"

#include <array>
#include <cstdint>
#include <openssl/evp.h>
#include <vector>

namespace synthusd::transfers {
namespace {

constexpr std::size_t kMaxAddressLength = 90; // BIP 173's limit; base58 addresses are shorter

std::string to_hex(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const std::uint8_t byte : bytes) {
    out.push_back(kHex[byte >> 4U]);
    out.push_back(kHex[byte & 0xFU]);
  }
  return out;
}

// ---- bech32 / bech32m (BIP 173, BIP 350) ----

int bech32_value(char c) {
  const std::size_t at = common::kBech32Charset.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

std::optional<std::string> segwit_script(std::string_view address) {
  bool lower = false;
  bool upper = false;
  for (const char c : address) {
    lower = lower || (c >= 'a' && c <= 'z');
    upper = upper || (c >= 'A' && c <= 'Z');
  }
  const std::size_t separator = address.rfind('1');
  if ((lower && upper) || separator == std::string_view::npos || separator == 0 ||
      separator + 7 > address.size()) { // a witness version and the six checksum characters at least
    return std::nullopt;
  }
  for (std::size_t i = 0; i < separator; ++i) {
    const auto c = static_cast<std::uint8_t>(address[i] | 0x20);
    if (c < 33 || c > 126) {
      return std::nullopt;
    }
  }
  std::vector<std::uint8_t> expanded = common::bech32_hrp_expand(address.substr(0, separator));
  std::vector<std::uint8_t> data;
  for (std::size_t i = separator + 1; i < address.size(); ++i) {
    const int value = bech32_value(static_cast<char>(address[i] | 0x20));
    if (value < 0) {
      return std::nullopt;
    }
    data.push_back(static_cast<std::uint8_t>(value));
  }
  expanded.insert(expanded.end(), data.begin(), data.end());
  const std::uint32_t constant = common::bech32_polymod(expanded);
  const std::uint8_t version = data[0];
  // v0 uses bech32's constant, v1 and later bech32m's (BIP 350).
  if (version > 16 || constant != (version == 0 ? common::kBech32Constant : common::kBech32mConstant)) {
    return std::nullopt;
  }
  // The 5-bit groups after the version, without the checksum, to bytes.
  std::vector<std::uint8_t> program;
  std::uint32_t accumulator = 0;
  unsigned bits = 0;
  for (std::size_t i = 1; i + 6 < data.size(); ++i) {
    accumulator = (accumulator << 5U) | data[i];
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      program.push_back(static_cast<std::uint8_t>((accumulator >> bits) & 0xFFU));
    }
  }
  if (bits >= 5 || (accumulator & ((1U << bits) - 1U)) != 0) { // BIP 173: padding is zero and under 5 bits
    return std::nullopt;
  }
  if (program.size() < 2 || program.size() > 40 || (version == 0 && program.size() != 20 && program.size() != 32)) {
    return std::nullopt;
  }
  std::vector<std::uint8_t> script;
  script.push_back(version == 0 ? 0x00 : static_cast<std::uint8_t>(0x50 + version)); // OP_0, OP_1..OP_16
  script.push_back(static_cast<std::uint8_t>(program.size()));
  script.insert(script.end(), program.begin(), program.end());
  return to_hex(script);
}

// ---- base58check (P2PKH, P2SH) ----

bool double_sha256(const std::uint8_t* data, std::size_t size, std::array<std::uint8_t, 32>& out) {
  std::array<std::uint8_t, 32> once{};
  unsigned int length = 0;
  return EVP_Digest(data, size, once.data(), &length, EVP_sha256(), nullptr) == 1 &&
         EVP_Digest(once.data(), once.size(), out.data(), &length, EVP_sha256(), nullptr) == 1;
}

std::optional<std::string> base58_script(std::string_view address) {
  static constexpr std::string_view kAlphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  constexpr std::size_t kDecodedSize = 25; // version, 20-byte hash, 4-byte checksum
  std::array<std::uint8_t, kDecodedSize> bytes{};
  std::size_t leading_zeros = 0;
  while (leading_zeros < address.size() && address[leading_zeros] == '1') {
    ++leading_zeros;
  }
  for (const char c : address) {
    const std::size_t digit = kAlphabet.find(c);
    if (digit == std::string_view::npos) {
      return std::nullopt;
    }
    std::uint32_t carry = static_cast<std::uint32_t>(digit);
    for (std::size_t i = kDecodedSize; i-- > 0;) {
      carry += 58U * bytes[i];
      bytes[i] = static_cast<std::uint8_t>(carry & 0xFFU);
      carry >>= 8U;
    }
    if (carry != 0) {
      return std::nullopt; // more than 25 bytes
    }
  }
  std::size_t zeros = 0;
  while (zeros < kDecodedSize && bytes[zeros] == 0) {
    ++zeros;
  }
  if (zeros != leading_zeros) { // each leading '1' is one leading zero byte; fewer bytes: too short
    return std::nullopt;
  }
  std::array<std::uint8_t, 32> digest{};
  if (!double_sha256(bytes.data(), 21, digest) || digest[0] != bytes[21] || digest[1] != bytes[22] ||
      digest[2] != bytes[23] || digest[3] != bytes[24]) {
    return std::nullopt;
  }
  const std::vector<std::uint8_t> hash(bytes.begin() + 1, bytes.begin() + 21);
  std::vector<std::uint8_t> script;
  switch (bytes[0]) {
  case 0x00: // mainnet P2PKH
  case 0x6f: // testnet / regtest P2PKH
    script = {0x76, 0xa9, 0x14};
    script.insert(script.end(), hash.begin(), hash.end());
    script.insert(script.end(), {0x88, 0xac});
    break;
  case 0x05: // mainnet P2SH
  case 0xc4: // testnet / regtest P2SH
    script = {0xa9, 0x14};
    script.insert(script.end(), hash.begin(), hash.end());
    script.push_back(0x87);
    break;
  default:
    return std::nullopt;
  }
  return to_hex(script);
}

} // namespace

std::optional<std::string> script_pubkey_hex(std::string_view address) {
  if (address.empty() || address.size() > kMaxAddressLength) {
    return std::nullopt;
  }
  if (const auto script = segwit_script(address)) {
    return script;
  }
  return base58_script(address);
}

} // namespace synthusd::transfers
