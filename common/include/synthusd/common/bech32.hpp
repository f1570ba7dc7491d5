#pragma once
// The bech32 / bech32m checksum (BIP 173, BIP 350), shared by the transfer
// clients' address decoder (transfers/bitcoin_address.cpp: an address to its
// output script) and the simulator's deposit addresses (venue/wallet.cpp:
// encoding). Header-only, for C++17 and later users.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace synthusd::common {

inline constexpr std::string_view kBech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
inline constexpr std::uint32_t kBech32Constant = 1;           // witness v0
inline constexpr std::uint32_t kBech32mConstant = 0x2bc830a3; // witness v1 and later

[[nodiscard]] inline std::uint32_t bech32_polymod(const std::vector<std::uint8_t>& values) {
  static constexpr std::array<std::uint32_t, 5> kGenerator = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
                                                              0x2a1462b3};
  std::uint32_t checksum = 1;
  for (const std::uint8_t value : values) {
    const std::uint32_t top = checksum >> 25U;
    checksum = ((checksum & 0x1ffffffU) << 5U) ^ value;
    for (std::size_t i = 0; i < kGenerator.size(); ++i) {
      if (((top >> i) & 1U) != 0) {
        checksum ^= kGenerator[i];
      }
    }
  }
  return checksum;
}

// The human-readable part as the checksum covers it (BIP 173): each
// character's high bits, a zero, then its low five bits; lower case.
[[nodiscard]] inline std::vector<std::uint8_t> bech32_hrp_expand(std::string_view hrp) {
  std::vector<std::uint8_t> expanded;
  expanded.reserve(hrp.size() * 2 + 1);
  for (const char c : hrp) {
    expanded.push_back(static_cast<std::uint8_t>(static_cast<unsigned char>(c | 0x20) >> 5U));
  }
  expanded.push_back(0);
  for (const char c : hrp) {
    expanded.push_back(static_cast<std::uint8_t>((c | 0x20) & 31));
  }
  return expanded;
}

} // namespace synthusd::common
