#include "synthusd/hedging/allocation.hpp"

#include <array>

namespace synthusd::hedging {
namespace {

constexpr std::size_t kMaxVenues = 64;

bool takes_share(const VenueShareInput& venue) noexcept {
  return venue.available && venue.weight > 0 && venue.cap.value > 0;
}

// Venue indexes ordered by carry (best first), ties by venue id: insertion
// sort over at most kMaxVenues entries, no allocation.
std::size_t carry_order(std::span<const VenueShareInput> venues, std::array<std::size_t, kMaxVenues>& order) noexcept {
  std::size_t count = 0;
  for (std::size_t i = 0; i < venues.size() && count < kMaxVenues; ++i) {
    if (!takes_share(venues[i])) {
      continue;
    }
    std::size_t position = count++;
    while (position > 0) {
      const VenueShareInput& before = venues[order[position - 1]];
      const bool better =
          venues[i].carry > before.carry || (venues[i].carry == before.carry && venues[i].venue < before.venue);
      if (!better) {
        break;
      }
      order[position] = order[position - 1];
      --position;
    }
    order[position] = i;
  }
  return count;
}

} // namespace

UsdCents split_hedge(UsdCents total, std::span<const VenueShareInput> venues, std::span<UsdCents> out) noexcept {
  for (UsdCents& share : out) {
    share = UsdCents{0};
  }
  if (total.value <= 0) {
    return UsdCents{0};
  }
  std::array<std::size_t, kMaxVenues> order{};
  const std::size_t count = carry_order(venues, order);
  int128 weight_sum = 0;
  for (std::size_t k = 0; k < count; ++k) {
    weight_sum += venues[order[k]].weight;
  }
  if (count == 0 || weight_sum == 0) {
    return total;
  }
  // Proportional shares, floored; the cents lost to flooring go, like any
  // capped-off excess, to the best-carry venues first.
  int128 excess = total.value;
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t i = order[k];
    int128 share = divide(static_cast<int128>(total.value) * venues[i].weight, weight_sum, Rounding::down);
    if (share > venues[i].cap.value) {
      share = venues[i].cap.value;
    }
    out[i] = UsdCents{static_cast<std::int64_t>(share)};
    excess -= share;
  }
  for (std::size_t k = 0; k < count && excess > 0; ++k) {
    const std::size_t i = order[k];
    const int128 room = static_cast<int128>(venues[i].cap.value) - out[i].value;
    const int128 take = room < excess ? room : excess;
    if (take > 0) {
      out[i] += UsdCents{static_cast<std::int64_t>(take)};
      excess -= take;
    }
  }
  return UsdCents{static_cast<std::int64_t>(excess)};
}

} // namespace synthusd::hedging
