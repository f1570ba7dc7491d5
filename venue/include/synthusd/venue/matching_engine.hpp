#pragma once
// The venue simulator's deterministic core: one perpetual (inverse, or
// linear in the backtest), a
// synthetic top of book around a price path, order matching, and BTC
// accounting per account (position, entry price, P&L, fees, funding,
// margin and liquidation).
//
// It is a pure state machine: time only enters through advance_to() and
// every command is applied at the engine's current time, so the same
// configuration, path and sequence of (time, command) gives the same events,
// byte for byte. No clock, no I/O, no threads; the runtime (venue_runtime)
// owns those.
//
// Market model. The path gives the index price; the mark equals the index.
// The touch is mid = mark rounded to the tick (half to even), bid = mid -
// floor(spread_ticks / 2) ticks, ask = bid + spread_ticks ticks. When
// touch_size > 0 that many contracts are available on each side per path
// point (shared by resting and incoming orders, in arrival order);
// touch_size = 0 means unlimited.
//   - Market orders take the touch (buy at the ask); whatever the touch
//     cannot fill is cancelled.
//   - Limit orders that cross take the touch as taker at the touch price;
//     the rest rests (GTC/Day), is cancelled (IOC), or the whole order is
//     cancelled unfilled if it cannot fill completely (FOK).
//   - A resting buy fills, as maker at its limit price, once the ask is at
//     or below it (a sell once the bid is at or above it), best price first,
//     then oldest.
//   - Post-only (ExecInst 6): a crossing post-only order is repriced one
//     tick inside the spread (buy at ask - tick), or rejected with
//     reject_post_only (ExecInst 6A). Reduce-only (ExecInst E): rejected if
//     it cannot reduce the position; fills are capped at the position and
//     the rest is cancelled once the position is flat.
//   - Fault injection: every fill can be split into fill_slices execution
//     reports; every reject_every-th new order, and every order above
//     reject_above contracts, is rejected.
//
// Accounting (contract_terms.hpp has the arithmetic of inverse and linear
// contracts and the rounding rule; a linear position is also marked to
// market into the balance at every path point). Each
// account starts with initial_collateral BTC. Fills move the position and
// average entry price, realise P&L on the closed part and charge maker or
// taker fees. Funding is exchanged every funding_interval (aligned to the
// Unix epoch: 00:00, 08:00, 16:00 UTC) at the mark and the scheduled rate.
// Equity = balance + unrealised P&L at the mark. Margin follows seed 004:
// initial margin ratio I, liquidation ratio L. An order is rejected when the
// position it could lead to needs more than equity at I. After every price
// point and funding: if equity < position value * L the position is
// liquidated at the mark (taker fee) after cancelling all open orders, and
// a balance left below zero is set to zero, the insurance fund taking the
// loss (AccountState::insurance_fund_loss) as on a real inverse venue;
// otherwise, if position plus open orders valued at L exceeds equity, open
// orders are cancelled, newest first, until what is left fits at I.

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "synthusd/hedging/price_path.hpp"
#include "synthusd/hedging/types.hpp"
#include "synthusd/venue/contract_terms.hpp"
#include "synthusd/venue/market_data.hpp"

namespace synthusd::venue {

using hedging::Contracts;
using hedging::Duration;
using hedging::Price;
using hedging::Ratio;
using hedging::Sats;
using hedging::Side;
using hedging::Timestamp;
using hedging::UsdCents;

using OrderId = std::uint64_t;

struct EngineConfig {
  std::string symbol = "BTC-PERPETUAL";
  // inverse (USD-valued, as Deribit's) or linear (BTC-sized): contract_terms.hpp
  ContractKind kind = ContractKind::inverse;
  UsdCents contract_value{1'000}; // inverse: $10, as Deribit's BTC-PERPETUAL
  Sats contract_size{0};          // linear: BTC per contract, in sats
  Price tick_size = Price::from_cents(50);
  std::int64_t spread_ticks = 1;
  Contracts touch_size{0};              // per side and path point; 0 = unlimited
  Contracts max_order_size{10'000'000}; // $100M: keeps inverse.hpp's arithmetic in range
  Ratio maker_fee{0};
  Ratio taker_fee = Ratio::from_ppm(500);             // 0.05 %
  Ratio initial_margin = Ratio::from_ppm(20'000);     // I = 2 %
  Ratio liquidation_margin = Ratio::from_ppm(10'000); // L = 1 %
  Sats initial_collateral{hedging::kSatsPerBitcoin};
  Duration funding_interval = Duration::from_hours(8);
  std::int64_t fill_slices = 1;  // >= 1
  std::int64_t reject_every = 0; // 0 = never
  Contracts reject_above{0};     // 0 = never
  // First OrderID and ExecID: a venue with several books gives each its own
  // range, so ids stay unique across the venue (clients dedupe on ExecID).
  std::uint64_t first_identifier = 1;
};

enum class OrderType : std::uint8_t { market, limit };
enum class TimeInForce : std::uint8_t { good_till_cancel, immediate_or_cancel, fill_or_kill };

// FIX 4.4 codes, so the message layer can pass them straight through.
enum class ExecType : char {
  new_order = '0',
  canceled = '4',
  replaced = '5',
  rejected = '8',
  trade = 'F',
  order_status = 'I', // the answer to an OrderStatusRequest (H)
};
enum class OrderStatus : char {
  new_order = '0',
  partially_filled = '1',
  filled = '2',
  canceled = '4',
  rejected = '8',
};
// OrdRejReason (103) / CxlRejReason (102) values used here.
enum class RejectReason : int {
  none = -1,
  exchange_option = 0, // 103: broker/exchange option (simulated rejects)
  unknown_symbol = 1,
  exceeds_limit = 3, // 103: order exceeds limit (size, margin)
  unknown_order = 5, // 103 (cancel rejects use CxlRejReason 1 instead)
  duplicate_order = 6,
  unsupported = 11, // unsupported order characteristic
  incorrect_quantity = 13,
  other = 99,
};

struct NewOrder {
  std::string client_order_id;
  std::string symbol;
  Side side = Side::buy;
  OrderType type = OrderType::limit;
  TimeInForce time_in_force = TimeInForce::good_till_cancel;
  Contracts quantity{};
  Price price{}; // limit orders
  bool post_only = false;
  bool reject_post_only = false;
  bool reduce_only = false;
  std::string label; // Deribit's 100010, echoed back
};

struct CancelOrder {
  std::string client_order_id;          // of this request (11)
  std::string original_client_order_id; // 41; empty: use order_id
  OrderId order_id = 0;                 // 37; 0 = absent
  std::string symbol;
};

struct ReplaceOrder {
  std::string client_order_id;
  std::string original_client_order_id;
  OrderId order_id = 0;
  std::string symbol;
  Side side = Side::buy;
  Contracts quantity{}; // new total quantity (filled part included)
  Price price{};        // new limit price; 0 = keep
};

enum class MassCancelScope : int { symbol = 1, security_type = 5, all = 7 };

struct MassCancel {
  std::string client_order_id;
  MassCancelScope scope = MassCancelScope::all;
  std::string symbol; // scope == symbol
};

struct PositionRequest {
  std::string request_id;  // 710
  int request_type = 0;    // 724: only 0 (positions) is supported
  char subscription = '0'; // 263: 0 snapshot, 1 snapshot + updates, 2 unsubscribe
};

// OrderStatusRequest (H): the order named by ClOrdID (11), else OrderID (37).
struct StatusRequest {
  std::string client_order_id;
  OrderId order_id = 0;
  std::string symbol;
  Side side = Side::buy;
  bool all_open = false; // Deribit's AF 585=7: a status report for every open order
};

struct CollateralInquiry {
  std::string inquiry_id;    // CollInquiryID (909), or Deribit's UserRequestID (923), echoed
  bool user_request = false; // asked with Deribit's User Request (BE): answer with a User Response (BF)
};

// ---- events (what the engine tells accounts) -------------------------------

struct ExecutionEvent {
  std::string account;
  OrderId order_id = 0;
  std::uint64_t execution_id = 0;
  std::string client_order_id;
  std::string original_client_order_id; // cancel/replace: the order's previous 11
  std::string symbol;
  std::string label;
  ExecType exec_type = ExecType::new_order;
  OrderStatus status = OrderStatus::new_order;
  Side side = Side::buy;
  OrderType type = OrderType::limit;
  TimeInForce time_in_force = TimeInForce::good_till_cancel;
  bool post_only = false;
  bool reduce_only = false;
  Price price{}; // limit price; 0 for market orders
  Contracts quantity{};
  Contracts last_quantity{}; // trade only
  Price last_price{};        // trade only
  Contracts cumulative_quantity{};
  Contracts leaves_quantity{};
  Price average_price{};
  hedging::int128 filled_notional = 0; // sum of quantity * price (1e-8): AvgPx before rounding
  Sats fee{};                          // trade only; negative = rebate
  bool maker = false;                  // trade only
  RejectReason reject_reason = RejectReason::none;
  std::string text;
  Timestamp time{};
};

struct CancelRejectEvent {
  std::string account;
  OrderId order_id = 0; // 0 if the order is unknown
  std::string client_order_id;
  std::string original_client_order_id;
  OrderStatus status = OrderStatus::rejected; // of the order; rejected if unknown
  bool replace = false;                       // 434: 2 (replace) or 1 (cancel)
  int reason = 99;                            // 102: 0 too late, 1 unknown order, 99 other
  std::string text;
};

struct MassCancelEvent {
  std::string account;
  std::string client_order_id;
  std::uint64_t report_id = 0;
  MassCancelScope scope = MassCancelScope::all;
  bool accepted = true; // 531 = 530 if accepted, 0 if rejected
  std::int64_t affected_orders = 0;
  std::string text;
};

// One instrument's position in a PositionReport.
struct PositionEntry {
  std::string symbol;
  Contracts position{};
  Price entry_price{};
  Price mark_price{};
  UsdCents contract_value{};
};

struct PositionEvent {
  std::string account;
  std::string request_id;
  std::uint64_t report_id = 0;
  bool valid_request = true; // 728: 0 valid, 1 invalid or unsupported
  bool unsolicited = false;  // an update for a subscription (263=1)
  std::string symbol;
  Contracts position{};
  Price entry_price{};
  Price mark_price{};
  UsdCents contract_value{};
  Timestamp time{};
  std::string text;
  // The account's other instruments with a position (a venue with several
  // books reports them all in one message, as Deribit does: a report
  // without entries means flat everywhere).
  std::vector<PositionEntry> other_positions;
};

struct CollateralEvent {
  std::string account;
  std::string inquiry_id;
  std::uint64_t report_id = 0;
  Sats balance{}; // deposits + realised P&L - fees - funding
  Sats unrealised_pnl{};
  Sats equity{};
  Sats initial_margin{};     // position and open orders at I
  Sats maintenance_margin{}; // position at L
  Sats available{};          // equity - initial margin
  Timestamp time{};
  bool user_request = false; // the inquiry was a User Request (BE): encoded as BF
};

using Event = std::variant<ExecutionEvent, CancelRejectEvent, MassCancelEvent, PositionEvent, CollateralEvent>;

struct Quote {
  Timestamp time{};
  Price index{};
  Price mark{};
  Price bid{};
  Price ask{};
  Contracts bid_size{}; // 0 when the touch is unlimited
  Contracts ask_size{};
  Ratio funding_rate{};
};

struct AccountState {
  Sats balance{};
  Contracts position{};
  Price entry_price{}; // 0 when flat
  Sats realised_pnl{};
  Sats fees_paid{};
  Sats funding_paid{};
  std::int64_t liquidations = 0;
  Sats insurance_fund_loss{}; // what liquidations lost past a zero balance
  bool position_subscription = false;
  std::string position_request_id;
};

class Engine {
public:
  // Throws std::invalid_argument on an empty path or a bad configuration.
  Engine(EngineConfig config, std::vector<hedging::PricePoint> path, FundingSchedule funding);

  [[nodiscard]] const EngineConfig& config() const noexcept { return config_; }
  [[nodiscard]] ContractTerms terms() const noexcept {
    return {config_.kind, config_.contract_value, config_.contract_size};
  }
  // Contracts the account would hold if all its open orders on one side
  // filled (what initial margin is charged on). Cold path: allocates.
  [[nodiscard]] Contracts open_exposure(std::string_view account) const {
    return worst_case_exposure(std::string(account), Side::buy, Contracts{});
  }
  [[nodiscard]] Timestamp start_time() const noexcept { return path_.front().time; }
  [[nodiscard]] Timestamp end_time() const noexcept { return path_.back().time; }
  [[nodiscard]] Timestamp now() const noexcept { return now_; }
  [[nodiscard]] const Quote& quote() const noexcept { return quote_; }

  // Moves time forward (never back): applies every path point and funding
  // time up to `time`, matching resting orders and checking margins after
  // each. Past the end of the path the last price holds.
  void advance_to(Timestamp time, std::vector<Event>& out);

  void new_order(std::string_view account, const NewOrder& order, std::vector<Event>& out);
  void cancel_order(std::string_view account, const CancelOrder& request, std::vector<Event>& out);
  void replace_order(std::string_view account, const ReplaceOrder& request, std::vector<Event>& out);
  void mass_cancel(std::string_view account, const MassCancel& request, std::vector<Event>& out);
  void request_positions(std::string_view account, const PositionRequest& request, std::vector<Event>& out);
  void inquire_collateral(std::string_view account, const CollateralInquiry& inquiry, std::vector<Event>& out);
  // ExecType I with the order's status: open, done (the last report of the
  // ClOrdID, remembered for the last kRememberedReports ids), or unknown
  // (OrdStatus 8, OrdRejReason 5): the order never reached the venue.
  void order_status(std::string_view account, const StatusRequest& request, std::vector<Event>& out);
  // Cancels every open order of the account (cancel on disconnect).
  void cancel_all(std::string_view account, std::string_view reason, std::vector<Event>& out);

  // A dated future's delivery: cancels every open order, closes every
  // position at `delivery` (P&L realised into the balance, no fee) with a
  // position update, and from then on rejects new orders ("instrument
  // expired"). Returns nothing to undo: settlement is final.
  void settle(Price delivery, std::vector<Event>& out);
  [[nodiscard]] bool settled() const noexcept { return settled_; }
  // Accounts in name order, for what settlement hands to the main account.
  [[nodiscard]] const std::map<std::string, AccountState, std::less<>>& accounts() const noexcept { return accounts_; }

  // Collateral transfers (the operator's wallet <-> the account): deposit
  // adds to the balance; withdraw takes at most what is available above the
  // initial margin of the position and open orders (never below zero) and
  // returns what it took. Margins are checked afterwards as after a price.
  void deposit(std::string_view account, Sats amount, std::vector<Event>& out);
  [[nodiscard]] Sats withdraw(std::string_view account, Sats amount, std::vector<Event>& out);

  // The account, created with the initial collateral on first use.
  [[nodiscard]] const AccountState& account(std::string_view name);
  [[nodiscard]] Sats equity(std::string_view name);
  [[nodiscard]] std::size_t open_order_count() const noexcept { return orders_.size(); }

private:
  struct Order {
    OrderId id = 0;
    std::string account;
    std::string client_order_id;
    std::string symbol;
    std::string label;
    Side side = Side::buy;
    OrderType type = OrderType::limit;
    TimeInForce time_in_force = TimeInForce::good_till_cancel;
    bool post_only = false;
    bool reduce_only = false;
    Price price{};
    Contracts quantity{};
    Contracts filled{};
    hedging::int128 filled_notional = 0; // sum of quantity * price, for AvgPx
  };

  AccountState& account_state(std::string_view name);
  void set_market_price(Price price, Timestamp time);
  void apply_funding(Timestamp time, std::vector<Event>& out);
  void match_resting(std::vector<Event>& out);
  void check_margins(std::vector<Event>& out);
  void liquidate(const std::string& account, std::vector<Event>& out);
  void cancel_for_margin(const std::string& account, std::vector<Event>& out);

  // Takes liquidity at the touch for an order (new or replaced); returns
  // the quantity filled.
  Contracts take_liquidity(Order& order, Contracts wanted, std::vector<Event>& out);
  // Fills `quantity` of `order` at `price`, as execution reports split into
  // fill_slices; updates the account and the order.
  void fill(Order& order, Contracts quantity, Price price, bool maker, std::vector<Event>& out);
  void apply_fill_to_account(AccountState& account, Side side, Contracts quantity, Price price, bool maker);
  // Reduce-only orders can only fill up to the position.
  [[nodiscard]] Contracts fillable(const Order& order, Contracts wanted);
  [[nodiscard]] Contracts& available(Side taker_side) noexcept;

  [[nodiscard]] ExecutionEvent report(const Order& order, ExecType exec_type) const;
  // Appends an execution report and remembers it as its ClOrdID's latest.
  void emit(ExecutionEvent event, std::vector<Event>& out);
  void reject_new_order(std::string_view account, const NewOrder& order, RejectReason reason, std::string text,
                        std::vector<Event>& out);
  [[nodiscard]] std::map<OrderId, Order>::iterator find_order(std::string_view account,
                                                              std::string_view client_order_id, OrderId order_id);
  // client_order_id is taken by value: callers often pass the order's own.
  void cancel(std::map<OrderId, Order>::iterator order, std::string client_order_id, std::string_view text,
              std::vector<Event>& out);
  void position_update(const std::string& account, std::vector<Event>& out);
  void settle_linear_pnl(std::vector<Event>& out);

  // Margin helpers at the current mark.
  [[nodiscard]] Sats unrealised_pnl(const AccountState& account) const noexcept;
  [[nodiscard]] Sats equity_of(const AccountState& account) const noexcept;
  // Contracts the account would hold if all its open orders on one side
  // filled: max(|position + buys|, |position - sells|), plus an extra order.
  [[nodiscard]] Contracts worst_case_exposure(const std::string& account, Side extra_side, Contracts extra) const;
  [[nodiscard]] Price round_to_tick(Price price) const noexcept;

  EngineConfig config_;
  std::vector<hedging::PricePoint> path_;
  FundingSchedule funding_;
  std::size_t path_index_ = 0;
  Timestamp now_{};
  Timestamp next_funding_{};
  Quote quote_;
  Contracts bid_available_{};
  Contracts ask_available_{};
  std::map<std::string, AccountState, std::less<>> accounts_; // ordered: deterministic iteration
  std::map<OrderId, Order> orders_;                           // open orders, oldest first
  bool settled_ = false;
  OrderId next_order_id_ = 1;
  std::uint64_t next_execution_id_ = 1;
  std::uint64_t next_report_id_ = 1;
  std::int64_t new_order_count_ = 0;
  static constexpr std::size_t kRememberedReports = 65'536;
  std::unordered_map<std::string, ExecutionEvent> last_reports_; // account \x01 ClOrdID -> latest report
  std::deque<std::string> report_order_;                         // keys, oldest first
};

} // namespace synthusd::venue
