// Rule 7: collateral and leverage per venue, and the liquidation-distance alert.

#include <algorithm>
#include <optional>

#include "synthusd/hedging/collateral.hpp"
#include "synthusd/hedging/kernel.hpp"

namespace synthusd::hedging {
namespace {

int128 abs128(int128 v) noexcept { return v < 0 ? -v : v; }

} // namespace

Sats Kernel::withdrawable_of(const VenueState& venue) noexcept {
  return venue.withdrawable.value >= 0 ? std::min(venue.withdrawable, venue.collateral) : venue.collateral;
}

// Only what the venue pays out: asking for more is refused. While a
// position is open the payout moves between the report it was read from and
// the venue's answer (every fill's fee comes off the balance; equity less
// margin moves with the mark), so a withdrawal leaves one minimum transfer of
// it behind: asking for the last report to the sat was refused whenever a fee
// was charged in between, and the refusal then blocked withdrawals for the
// rest of the crash (demo seed 3). Less than a minimum transfer is what the
// rule never moves anyway. After a refusal: nothing before a fresh report,
// then at most half of what was refused (a few halvings find what a venue
// that reports more than it pays will release, without asking on every
// event), or the whole amount again once the payout grew by a minimum
// transfer since the refusal.
std::optional<Sats> Kernel::withdrawal_amount(const VenueState& venue, Sats wanted, bool position_open,
                                              Price mark) const noexcept {
  const Sats payable = withdrawable_of(venue);
  const Sats minimum = cents_to_sats(config_.collateral.minimum_transfer, mark, Rounding::up);
  Sats amount = std::min(wanted, position_open ? payable - minimum : payable);
  if (venue.withdrawal_refused && payable < venue.withdrawable_when_refused + minimum) {
    if (!venue.reported_since_refusal) {
      return std::nullopt;
    }
    amount = std::min(amount, Sats{venue.withdrawal_refused_amount.value / 2});
  }
  if (amount < minimum) {
    return std::nullopt;
  }
  return amount;
}

void Kernel::manage_collateral() noexcept {
  for (std::size_t v = 0; v < venues_.size(); ++v) {
    VenueState& venue = venues_[v];
    // Never while another transfer is in flight; never before the venue told
    // us what it holds; never on a venue we cannot reach.
    if (!venue.up || !venue.collateral_known || venue.transfer_in_flight) {
      continue;
    }
    const Price mark = reference_price(v);
    if (!mark.is_valid()) {
      continue;
    }
    // Margin is on gross exposure, including risk-trigger hedges and orders
    // in flight; the allocation counts too so collateral arrives before the
    // short it will back.
    int128 gross = 0;
    for (const SlotState& slot : slots_) {
      if (slot.venue_index == v) {
        gross +=
            abs128(scaled_exposure_cents(slot.spec, slot.position + slot.in_flight + slot.risk_in_flight, slot.mark));
      }
    }
    int128 required = divide(gross, Ratio::kScale, Rounding::up);
    if (required < venue.allocation.value) {
      required = venue.allocation.value;
    }
    const CollateralDecision decision =
        decide_collateral(config_.collateral, UsdCents{static_cast<std::int64_t>(required)}, venue.collateral, mark);
    if (!decision.transfer || decision.amount.value <= 0) {
      continue;
    }
    Sats amount = decision.amount;
    if (decision.direction == TransferDirection::exchange_to_wallet) {
      const std::optional<Sats> sized = withdrawal_amount(venue, amount, required > 0, mark);
      if (!sized) {
        continue;
      }
      amount = *sized;
    }
    TransferIntent intent;
    intent.transfer_id = next_transfer_id_++;
    intent.venue = venue.config.id;
    intent.direction = decision.direction;
    intent.amount = amount;
    venue.transfer_in_flight = true;
    venue.transfer_id = intent.transfer_id;
    venue.transfer_direction = intent.direction;
    venue.transfer_amount = intent.amount;
    emit(intent);
  }
}

void Kernel::check_liquidation(std::size_t v) noexcept {
  VenueState& venue = venues_[v];
  const Price mark = reference_price(v);
  if (!venue.collateral_known || !mark.is_valid()) {
    return;
  }
  int128 net = 0;
  Ratio maintenance{0};
  for (const SlotState& slot : slots_) {
    if (slot.venue_index == v) {
      net += scaled_exposure_cents(slot.spec, slot.position, slot.mark);
      if (slot.spec.maintenance_margin > maintenance) {
        maintenance = slot.spec.maintenance_margin;
      }
    }
  }
  if (net >= 0) {
    venue.liquidation_alert_raised = false;
    return;
  }
  const UsdCents short_exposure{static_cast<std::int64_t>(divide(-net, Ratio::kScale, Rounding::up))};
  const Ratio distance = liquidation_distance(short_exposure, venue.collateral, mark, maintenance);
  const Ratio threshold = config_.collateral.liquidation_alert_distance;
  // Latched: one alert per excursion below the threshold, not one per tick.
  if (distance < threshold && !venue.liquidation_alert_raised) {
    venue.liquidation_alert_raised = true;
    alert(AlertCode::liquidation_distance_low, venue.config.id, distance.raw, threshold.raw);
  } else if (distance >= threshold) {
    venue.liquidation_alert_raised = false;
  }
}

// A quiet slot's whole position gone at the venue is a liquidation: our
// orders never flatten a slot unseen. An inverse venue closes at the
// bankruptcy price, so what is left is at most the maintenance margin less
// fees; counting it as nothing stops withdrawals from an empty account and
// asks for a deposit (manage_collateral) until the venue reports otherwise.
void Kernel::note_liquidation(const SlotState& slot) noexcept {
  VenueState& venue = venues_[slot.venue_index];
  alert(AlertCode::venue_liquidated, venue.config.id, slot.spec.id, slot.position.value);
  venue.liquidated = true;
  venue.collateral = Sats{0};
}

// A deposit landed: orders that were refused for margin may go again at once
// instead of waiting out the retry delay.
void Kernel::end_liquidation(VenueState& venue) noexcept {
  venue.liquidated = false;
  const std::size_t v = static_cast<std::size_t>(&venue - venues_.data());
  for (SlotState& slot : slots_) {
    if (slot.venue_index == v) {
      slot.retry_after = Timestamp{};
    }
  }
}

} // namespace synthusd::hedging
