#include "synthusd/hedging/config.hpp"

#include <set>
#include <stdexcept>
#include <string>

namespace synthusd::hedging {

bool policy_from_name(std::string_view name, PolicyKind& out) noexcept {
  if (name == "stablesats") {
    out = PolicyKind::stablesats;
    return true;
  }
  if (name == "banded") {
    out = PolicyKind::banded;
    return true;
  }
  if (name == "hybrid") {
    out = PolicyKind::hybrid;
    return true;
  }
  return false;
}

std::string_view policy_name(PolicyKind kind) noexcept {
  switch (kind) {
  case PolicyKind::stablesats:
    return "stablesats";
  case PolicyKind::banded:
    return "banded";
  case PolicyKind::hybrid:
    return "hybrid";
  }
  return "banded";
}

BandConfig default_bands(PolicyKind policy) noexcept {
  BandConfig bands;
  bands.policy = policy;
  if (policy == PolicyKind::banded || policy == PolicyKind::hybrid) {
    bands.low_bound = Ratio::from_ppm(999'000);
    bands.low_safe_bound = Ratio::from_ppm(999'500);
    bands.high_safe_bound = Ratio::from_ppm(1'000'500);
    bands.high_bound = Ratio::from_ppm(1'001'000);
  }
  return bands;
}

namespace {

[[noreturn]] void fail(const std::string& field, const std::string& why) {
  throw std::invalid_argument(field + ": " + why);
}

void require_ordered_bands(const std::string& prefix, Ratio low, Ratio low_safe, Ratio high_safe, Ratio high) {
  if (low.raw < 0) {
    fail(prefix + ".low_bound", "must not be negative");
  }
  if (!(low <= low_safe && low_safe <= high_safe && high_safe <= high)) {
    fail(prefix, "bands must satisfy low_bound <= low_safe_bound <= high_safe_bound <= high_bound");
  }
}

void validate_instrument(const InstrumentSpec& spec, const std::set<VenueId>& venues) {
  const std::string name = "instruments[" + std::string(spec.symbol.view()) + "]";
  if (spec.symbol.view().empty()) {
    fail("instruments[id " + std::to_string(spec.id) + "].symbol", "must not be empty");
  }
  if (spec.id == kNoInstrument) {
    fail(name + ".id", "must be set");
  }
  if (venues.count(spec.venue) == 0) {
    fail(name + ".venue", "names no configured venue");
  }
  if (is_inverse(spec.kind) && spec.contract_value.value <= 0) {
    fail(name + ".contract_value", "must be > 0 for an inverse contract");
  }
  if (!is_inverse(spec.kind) && spec.contract_size.value <= 0) {
    fail(name + ".contract_size", "must be > 0 for a linear contract");
  }
  if (spec.kind == InstrumentKind::inverse_future && spec.expiry.nanoseconds <= 0) {
    fail(name + ".expiry", "a dated future needs an expiry");
  }
  if (spec.lot_size.value <= 0 || spec.minimum_order.value <= 0 || spec.tick_size.raw <= 0) {
    fail(name, "lot_size, minimum_order and tick_size must be > 0");
  }
  if (spec.maintenance_margin.raw < 0 || spec.maintenance_margin >= Ratio::one()) {
    fail(name + ".maintenance_margin", "must be in [0, 1)");
  }
  if (is_perpetual(spec.kind) && spec.funding_interval.nanoseconds <= 0) {
    fail(name + ".funding_interval", "must be > 0 for a perpetual");
  }
}

} // namespace

void validate(const KernelConfig& config) {
  if (config.venues.empty()) {
    fail("venues", "at least one venue is required");
  }
  std::set<VenueId> venues;
  for (const VenueConfig& venue : config.venues) {
    if (venue.id == kNoVenue || !venues.insert(venue.id).second) {
      fail("venues[" + venue.name + "].id", "must be set and unique");
    }
    if (venue.cap.value < 0) {
      fail("venues[" + venue.name + "].cap", "must not be negative");
    }
  }
  if (config.instruments.empty()) {
    fail("instruments", "at least one instrument is required");
  }
  std::set<InstrumentId> instruments;
  for (const InstrumentSpec& spec : config.instruments) {
    validate_instrument(spec, venues);
    if (!instruments.insert(spec.id).second) {
      fail("instruments[" + std::string(spec.symbol.view()) + "].id", "must be unique across venues");
    }
  }
  const BandConfig& b = config.bands;
  require_ordered_bands("bands", b.low_bound, b.low_safe_bound, b.high_safe_bound, b.high_bound);
  if (b.minimum_liability.value < 0 || b.minimum_order.value < 1) {
    fail("bands", "minimum_liability must be >= 0 and minimum_order >= 1");
  }
  if (b.volatility_reference.raw < 0 || b.maximum_band_scale < 1 || b.maximum_band_scale > 100) {
    fail("bands", "volatility_reference must be >= 0 and maximum_band_scale 1 to 100");
  }
  // the widest band must still be a band: its low bound above 0
  if (static_cast<int128>(Ratio::kScale - b.low_bound.raw) * b.maximum_band_scale >= Ratio::kScale) {
    fail("bands.maximum_band_scale", "widens low_bound to 0 or below");
  }
  const CollateralConfig& c = config.collateral;
  require_ordered_bands("collateral", c.low_bound, c.low_safe_bound, c.high_safe_bound, c.high_bound);
  if (c.high_safe_bound.raw <= 0 || c.low_safe_bound.raw <= 0) {
    fail("collateral", "safe leverage bounds must be > 0");
  }
  // Above high_safe_bound a deposit raises collateral, and (low_safe_bound
  // being at most high_safe_bound) a withdrawal never ends where one is asked for.
  if (c.deposit_above.raw != 0 && !(c.deposit_above > c.high_safe_bound && c.deposit_above <= c.high_bound)) {
    fail("collateral.deposit_above", "must be 0 (at high_bound) or above high_safe_bound and at most high_bound");
  }
  if (c.keep_at_venue.value < 0) {
    fail("collateral.keep_at_venue_usd", "must not be negative");
  }
  if (config.carry.switch_hysteresis.raw < 0 || config.carry.roll_before_expiry.nanoseconds < 0 ||
      config.carry.funding_average_window.nanoseconds < 0) {
    fail("carry", "switch_hysteresis, roll_before_expiry and funding_average_window must not be negative");
  }
  if (config.funding_guard.move_after.nanoseconds < 0) {
    fail("funding_guard.move_after", "must not be negative");
  }
  if (config.funding_guard.release_at_or_above < config.funding_guard.engage_below) {
    fail("funding_guard.release_at_or_above", "must be >= engage_below");
  }
  for (const RiskMarketRoute& route : config.risk_routes) {
    if (instruments.count(route.instrument) == 0) {
      fail("risk_routes[" + std::to_string(route.market) + "].instrument", "names no configured instrument");
    }
  }
  if (config.order_table_capacity < 8 || config.risk_position_capacity < 1) {
    fail("order_table_capacity", "must be >= 8 (and risk_position_capacity >= 1)");
  }
  if (config.order_retry_after_reject.nanoseconds < 0 || config.cancel_unanswered_order_after.nanoseconds <= 0) {
    fail("cancel_unanswered_order_after", "must be > 0 (and order_retry_after_reject >= 0)");
  }
  if (config.first_client_order_id == 0) {
    fail("first_client_order_id", "must be > 0");
  }
}

KernelConfig reference_config() {
  KernelConfig config;
  config.venues = {{1, "okx", 2, UsdCents{INT64_MAX / 4}},
                   {2, "deribit", 1, UsdCents{INT64_MAX / 4}},
                   {3, "binance", 1, UsdCents{INT64_MAX / 4}}};
  InstrumentSpec okx;
  okx.id = 1;
  okx.venue = 1;
  okx.symbol = "BTC-USD-SWAP";
  okx.contract_value = UsdCents{10'000};
  okx.tick_size = Price::from_cents(10);
  InstrumentSpec deribit;
  deribit.id = 2;
  deribit.venue = 2;
  deribit.symbol = "BTC-PERPETUAL";
  deribit.contract_value = UsdCents{1'000};
  deribit.tick_size = Price::from_cents(50);
  deribit.maker_fee = Ratio{0};
  InstrumentSpec binance;
  binance.id = 3;
  binance.venue = 3;
  binance.symbol = "BTCUSD_PERP";
  binance.contract_value = UsdCents{10'000};
  binance.tick_size = Price::from_cents(10);
  config.instruments = {okx, deribit, binance};
  return config;
}

} // namespace synthusd::hedging
