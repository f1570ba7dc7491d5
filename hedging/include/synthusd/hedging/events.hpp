#pragma once
// Kernel inputs. Every event carries its own time: the kernel never reads a
// clock. All structs are trivially copyable so they can be queued and
// journaled byte for byte.

#include <type_traits>
#include <variant>

#include "synthusd/hedging/types.hpp"

namespace synthusd::hedging {

// Users' USD balances moved. delta > 0: users now hold more dollars (the
// operator's liability grows); delta < 0: users spent or withdrew dollars.
struct LiabilityChange {
  std::uint64_t id = 0;
  UsdCents delta{};
  Sats sats{};   // optional: 0 when the source did not say
  Price price{}; // optional: the price applied, 0 when unknown
  Timestamp time{};
};

struct MarketUpdate {
  VenueId venue = kNoVenue;
  InstrumentId instrument = kNoInstrument;
  Price bid{};
  Price ask{};
  Price mark{};
  Price index{};
  Ratio funding_rate{}; // per funding interval; > 0 means longs pay shorts
  Timestamp next_funding_time{};
  Timestamp time{};
};

enum class OrderStatus : std::uint8_t { accepted, partially_filled, filled, canceled, rejected };

struct ExecutionReport {
  ClientOrderId client_order_id = 0;
  OrderStatus status = OrderStatus::accepted;
  Contracts last_quantity{}; // this report's fill, unsigned (side comes from the order)
  Price last_price{};
  Timestamp time{};
};

struct PositionSnapshot {
  VenueId venue = kNoVenue;
  InstrumentId instrument = kNoInstrument;
  Contracts position{}; // signed venue position, short negative
  Timestamp time{};
};

// What a venue pays out is not its equity: unrealised profit and the initial
// margin stay (Deribit's available_withdrawal_funds, min(equity - initial
// margin, balance)). kWithdrawableUnreported: the venue did not say (the
// backtest's and the simulation's accounts, journals written before it
// existed); then the equity counts as withdrawable.
inline constexpr Sats kWithdrawableUnreported{-1};

struct CollateralSnapshot {
  VenueId venue = kNoVenue;
  Sats equity{}; // margin account equity in BTC
  Timestamp time{};
  Sats withdrawable = kWithdrawableUnreported; // >= 0 when the venue reported it
};

struct TransferCompleted {
  TransferId transfer_id = 0;
  Timestamp time{};
};

struct TransferFailed {
  TransferId transfer_id = 0;
  Timestamp time{};
};

struct VenueStatus {
  VenueId venue = kNoVenue;
  bool up = false;
  Timestamp time{};
};

struct Timer {
  Timestamp time{};
};

// A position held elsewhere (e.g. a DePerp vault) that the risk-trigger
// strategy watches. present == false: the source position is gone.
struct ExternalRiskPosition {
  std::uint16_t market = 0;
  std::uint64_t position_id = 0;
  bool present = true;
  UsdCents notional{}; // signed: > 0 the external position is long
  UsdCents vault_balance{};
  UsdCents shield_balance{};
  UsdCents pnl{}; // the position's P&L against the vault
  Ratio profit_limit_interest = Ratio::one();
  Timestamp time{};
};

// A stable provider (a user taking leveraged-long BTC) changed its interest.
// Netted against stable receivers before anything reaches a venue.
struct ProviderInterestChange {
  std::uint64_t provider_id = 0;
  UsdCents delta{};
  Timestamp time{};
};

using Event =
    std::variant<LiabilityChange, MarketUpdate, ExecutionReport, PositionSnapshot, CollateralSnapshot,
                 TransferCompleted, TransferFailed, VenueStatus, Timer, ExternalRiskPosition, ProviderInterestChange>;

static_assert(std::is_trivially_copyable_v<Event>, "events are queued and journaled as bytes");

[[nodiscard]] inline Timestamp time_of(const Event& event) noexcept {
  return std::visit([](const auto& e) { return e.time; }, event);
}

} // namespace synthusd::hedging
