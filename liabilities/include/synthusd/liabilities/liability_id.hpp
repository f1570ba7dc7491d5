#pragma once
// A payment's id exactly as its source sent it, in a fixed-size buffer.
//
// The kernel knows a liability change only by a 64-bit hash of its id
// (hedging::LiabilityChange::id), which two different ids can share; the id
// bytes are what identifies a payment. They travel beside the kernel event
// (the liability channel, the journal queue) to the journal, and the journal
// keeps them, so deduplication after a restart compares ids, not hashes, and
// every journal record can be matched back to the payment it came from.
//
// Fixed capacity and trivially copyable: it rides the same lock-free queues
// as the events, and the kernel thread copies it without allocating.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace synthusd::liabilities {

// The protocol's bound on an id (PROTOCOL.md: 1 to 128 bytes); admission
// refuses a longer one, whatever source built it.
inline constexpr std::size_t kMaxLiabilityIdBytes = 128;

class LiabilityId {
public:
  LiabilityId() = default;

  // Copies `text`; false (and left empty) when it is longer than the
  // buffer: an id is never cut, since a cut id could equal another one.
  bool assign(std::string_view text) noexcept {
    if (text.size() > kMaxLiabilityIdBytes) {
      size_ = 0;
      return false;
    }
    std::copy(text.begin(), text.end(), bytes_.begin());
    size_ = static_cast<std::uint8_t>(text.size());
    return true;
  }
  void clear() noexcept { size_ = 0; }

  [[nodiscard]] std::string_view view() const noexcept { return {bytes_.data(), size_}; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
  std::uint8_t size_ = 0;
  std::array<char, kMaxLiabilityIdBytes> bytes_{};
};

static_assert(kMaxLiabilityIdBytes <= UINT8_MAX, "the length is kept in one byte");
static_assert(std::is_trivially_copyable_v<LiabilityId>, "it rides lock-free queues beside the events");

} // namespace synthusd::liabilities
