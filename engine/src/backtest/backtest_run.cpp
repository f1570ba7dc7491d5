// The backtest driver: the kernel, the venue model (venue::Engine, the one
// synthusd-venue runs) and the operator's wallet, stepped through a price
// path one point at a time. What the engine's workers do between the kernel
// and the venues (shaping orders, turning venue reports into kernel events,
// moving collateral) is done here in process, in the same order every run.

#include <algorithm>
#include <charconv>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include "backtest_books.hpp"
#include "backtest_intake.hpp"
#include "backtest_measure.hpp"
#include "synthusd/engine/backtest_run.hpp"
#include "synthusd/hedging/kernel.hpp"
#include "synthusd/venue/contract_terms.hpp"
#include "synthusd/venue/decimal.hpp"
#include "synthusd/venue/matching_engine.hpp"

namespace synthusd::engine {
namespace {

using namespace synthusd::hedging;

constexpr std::string_view kAccount = kBacktestAccount;
constexpr std::string_view kLiquidationPrefix = "liquidation-";

struct TrackedOrder {
  ClientOrderId id = 0;
  std::size_t book = 0;
  bool post_only = false;
  Timestamp sent{};
  Price decision_mark{}; // the mark when the kernel asked: slippage is measured from it
  fix::ShapedOrder shaped;
  bool cancel_sent = false; // by the kernel, or the post-only wait on the gateway's behalf
};

struct PendingTransfer {
  TransferId id = 0;
  VenueId venue = kNoVenue;
  TransferDirection direction = TransferDirection::wallet_to_exchange;
  Sats amount{};
  Timestamp due{};
};

class BacktestDriver final : private IntakeBooking {
public:
  BacktestDriver(const BacktestInputs& inputs, const PolicySpec& policy)
      : inputs_(inputs), policy_(policy), kernel_(kernel_config(inputs, policy)),
        books_(kernel_.config(), inputs.path, inputs.funding, inputs.venue_initial_margin, inputs.future_annual_basis),
        on_events_([this](std::size_t book, std::vector<venue::Event>& events) { handle_venue_events(book, events); }) {
    result_.policy = policy.name;
    result_.execution = policy.bands.policy == PolicyKind::hybrid ? std::string("limit_ioc + kernel post_only")
                                                                  : std::string(fix::to_string(policy.execution));
  }

  PolicyResult run(const ProgressCallback& progress) {
    const std::vector<PricePoint>& path = inputs_.path;
    now_ = path.front().time;
    for (const VenueId venue : books_.venues()) {
      feed(VenueStatus{venue, true, now_});
      feed(CollateralSnapshot{venue, Sats{0}, now_});
    }
    std::size_t next_flow = 0;
    const std::size_t report_every = std::max<std::size_t>(1, path.size() / 20);
    for (std::size_t point = 0; point < path.size(); ++point) {
      now_ = path[point].time;
      price_ = path[point].price;
      // Every book reaches this point before any of their reports reach
      // the kernel: what it sends in answer must meet this point's prices.
      std::vector<std::vector<venue::Event>> advanced(books_.books().size());
      for (std::size_t b = 0; b < books_.books().size(); ++b) {
        books_.books()[b].engine->advance_to(now_, advanced[b]);
      }
      for (std::size_t b = 0; b < books_.books().size(); ++b) {
        handle_venue_events(b, advanced[b]);
        book_funding(books_.books()[b]);
      }
      book_basis_carry();
      settle_expired_futures();
      complete_due_transfers();
      expire_passive_orders();
      for (const Book& book : books_.books()) {
        if (!book.settled) {
          feed(market_update(book));
        }
      }
      deliver_missed_orders();
      while (next_flow < inputs_.flows.size() && inputs_.flows[next_flow].time <= now_) {
        apply_flow(inputs_.flows[next_flow++]);
      }
      books_.sweep_idle_books(on_events_);
      for (const VenueId venue : books_.venues()) {
        feed(CollateralSnapshot{venue, books_.venue_equity(venue), now_});
      }
      feed(Timer{now_});
      record(point + 1 < path.size() ? path[point + 1].time - now_ : Duration{});
      books_.remember_positions(price_);
      if (progress && (point % report_every == 0 || point + 1 == path.size())) {
        progress(point + 1, path.size());
      }
    }
    measure_.finish(result_);
    return std::move(result_);
  }

private:
  static KernelConfig kernel_config(const BacktestInputs& inputs, const PolicySpec& policy) {
    KernelConfig config = inputs.kernel;
    config.bands = policy.bands;
    // A resting post-only order is left to post_only_wait (the gateway's
    // rule) before the kernel's own unanswered-order cancel would fire.
    if (policy.execution == fix::ExecutionStyle::post_only) {
      config.cancel_unanswered_order_after =
          std::max(config.cancel_unanswered_order_after, Duration{2 * inputs.post_only_wait.nanoseconds});
    }
    return config;
  }

  // ---- kernel <-> world ----------------------------------------------------

  // Events the world produces in answer to actions are applied in order,
  // breadth first, as the engine's queues would.
  void feed(const Event& event) {
    pending_.push_back(event);
    drain();
  }

  // Applies every pending event, unless already doing so further up.
  void drain() {
    if (feeding_) {
      return;
    }
    feeding_ = true;
    while (!pending_.empty()) {
      const Event event = pending_.front();
      pending_.pop_front();
      const std::span<const Action> actions = kernel_.on(event);
      const std::vector<Action> batch(actions.begin(), actions.end());
      // Collateral first: the venue checks initial margin on every order.
      for (const Action& action : batch) {
        if (const auto* transfer = std::get_if<TransferIntent>(&action)) {
          start_transfer(*transfer);
        }
      }
      // Reduce-only orders first: the model keeps one account per book, so
      // closing the instrument the hedge leaves is what frees its collateral
      // for the one it moves to (a venue that margins them together takes
      // the two in either order).
      for (const bool reducing : {true, false}) {
        for (const Action& action : batch) {
          if (const auto* order = std::get_if<OrderIntent>(&action)) {
            if (order->reduce_only == reducing) {
              send_order(*order);
            }
          } else if (reducing) {
            continue;
          } else if (const auto* cancel = std::get_if<CancelIntent>(&action)) {
            cancel_order(*cancel);
          } else if (const auto* alert = std::get_if<Alert>(&action)) {
            note_alert(*alert);
          }
        }
      }
    }
    feeding_ = false;
  }

  [[nodiscard]] MarketUpdate market_update(const Book& book) const {
    const venue::Quote& quote = book.engine->quote();
    MarketUpdate update;
    update.venue = book.venue;
    update.instrument = book.spec->id;
    update.bid = quote.bid;
    update.ask = quote.ask;
    update.mark = quote.mark;
    update.index = price_; // a future's book marks at the index plus its premium
    update.funding_rate = book.is_future() ? Ratio{0} : quote.funding_rate;
    const std::int64_t interval = book.spec->funding_interval.nanoseconds;
    update.next_funding_time =
        Timestamp{(static_cast<std::int64_t>(divide(now_.nanoseconds, interval, Rounding::down)) + 1) * interval};
    update.time = now_;
    return update;
  }

  void send_order(const OrderIntent& intent) {
    ++result_.orders;
    const std::size_t b = books_.book_of(intent.instrument);
    Book& book = books_.books()[b];
    const venue::Quote& quote = book.engine->quote();
    const fix::Touch touch{quote.bid, quote.ask, quote.mark};
    fix::ExecutionOptions options;
    options.style = policy_.execution;
    // After a post-only order on this instrument went unfilled, the next
    // order is the taker fallback (as fix::OrderGateway does).
    const bool fallback = fallback_next_.erase(intent.instrument) > 0;
    std::optional<fix::ShapedOrder> shaped = fix::shape_order(intent, touch, book.spec->tick_size, options);
    if (shaped && fallback && shaped->post_only) {
      shaped = fix::taker_fallback(*shaped);
    }
    if (!shaped || !shaped->intent.limit_price.is_valid()) {
      ++result_.rejected_orders;
      pending_.push_back(ExecutionReport{intent.client_order_id, OrderStatus::rejected, {}, {}, now_});
      return;
    }
    venue::NewOrder order;
    order.client_order_id = std::to_string(intent.client_order_id);
    order.symbol = std::string(book.spec->symbol.view());
    order.side = intent.side;
    order.type = venue::OrderType::limit;
    order.time_in_force = shaped->time_in_force == fix::TimeInForce::good_till_cancel
                              ? venue::TimeInForce::good_till_cancel
                              : venue::TimeInForce::immediate_or_cancel;
    order.quantity = intent.quantity;
    order.price = shaped->intent.limit_price;
    order.post_only = shaped->post_only;
    order.reduce_only = intent.reduce_only;
    orders_[order.client_order_id] =
        TrackedOrder{intent.client_order_id, b, shaped->post_only, now_, quote.mark, *shaped};
    books_.gather_collateral(b, on_events_); // the venue margins its books together
    std::vector<venue::Event> events;
    book.engine->new_order(kAccount, order, events);
    handle_venue_events(b, events);
  }

  void cancel_order(const CancelIntent& intent) {
    const std::string id = std::to_string(intent.client_order_id);
    const auto it = orders_.find(id);
    if (it == orders_.end()) {
      return; // already done: its final report is on its way to the kernel
    }
    it->second.cancel_sent = true;
    std::vector<venue::Event> events;
    venue::CancelOrder cancel;
    cancel.client_order_id = id;
    cancel.original_client_order_id = id;
    const std::size_t b = it->second.book;
    cancel.symbol = std::string(books_.books()[b].spec->symbol.view());
    ++result_.cancels;
    books_.books()[b].engine->cancel_order(kAccount, cancel, events);
    handle_venue_events(b, events);
  }

  // Post-only orders not filled within post_only_wait are cancelled; the
  // next order on that instrument goes as the taker fallback.
  void expire_passive_orders() {
    std::vector<std::string> expired;
    for (const auto& [id, order] : orders_) {
      // the kernel's own passive orders (hybrid) rest until it cancels them
      if (order.post_only && !order.shaped.intent.passive && now_ - order.sent >= inputs_.post_only_wait) {
        expired.push_back(id);
      }
    }
    for (const std::string& id : expired) {
      const auto it = orders_.find(id);
      if (it == orders_.end()) {
        continue;
      }
      fallback_next_.insert(it->second.shaped.intent.instrument);
      cancel_order(CancelIntent{it->second.id, books_.books()[it->second.book].venue});
    }
  }

  void handle_venue_events(std::size_t b, std::vector<venue::Event>& events) {
    const Book& book = books_.books()[b];
    bool liquidated = false;
    for (venue::Event& any : events) {
      auto* event = std::get_if<venue::ExecutionEvent>(&any);
      if (event == nullptr) {
        continue;
      }
      if (event->client_order_id.rfind(kLiquidationPrefix, 0) == 0) {
        if (event->exec_type == venue::ExecType::trade) {
          book_trade(book, *event, book.engine->quote().mark);
          liquidated = true;
        }
        continue;
      }
      const auto tracked = orders_.find(event->client_order_id);
      if (tracked == orders_.end()) {
        continue;
      }
      const ClientOrderId id = tracked->second.id;
      switch (event->exec_type) {
      case venue::ExecType::new_order:
        pending_.push_back(ExecutionReport{id, OrderStatus::accepted, {}, {}, now_});
        break;
      case venue::ExecType::trade:
        book_trade(book, *event, tracked->second.decision_mark);
        pending_.push_back(ExecutionReport{
            id, event->status == venue::OrderStatus::filled ? OrderStatus::filled : OrderStatus::partially_filled,
            event->last_quantity, event->last_price, now_});
        break;
      case venue::ExecType::canceled:
        if (!tracked->second.cancel_sent && event->cumulative_quantity.is_zero() && tracked->second.sent == now_) {
          // Missed in the instant it was sent (an IOC whose collar cannot
          // reach the touch, or a touch already taken): this model answers
          // at once, and at this instant a new order would meet the same
          // market and miss again, forever. The answer reaches the kernel
          // at the next point instead, as a live venue's comes after the
          // order; the kernel then asks again at the new prices.
          missed_.push_back(id);
        } else {
          pending_.push_back(ExecutionReport{id, OrderStatus::canceled, {}, {}, now_});
        }
        break;
      case venue::ExecType::rejected:
        ++result_.rejected_orders;
        add_marker("reject", event->text);
        pending_.push_back(ExecutionReport{id, OrderStatus::rejected, {}, {}, now_});
        break;
      default:
        break;
      }
      if (event->status == venue::OrderStatus::filled || event->status == venue::OrderStatus::canceled ||
          event->status == venue::OrderStatus::rejected) {
        orders_.erase(tracked);
      }
    }
    if (liquidated) {
      ++result_.liquidations;
      add_marker("liquidation", "venue " + std::to_string(book.venue) + " liquidated the hedge on " +
                                    std::string(book.spec->symbol.view()) + " at " +
                                    venue::format_price(book.engine->quote().mark));
      pending_.push_back(PositionSnapshot{book.venue, book.spec->id, book.engine->account(kAccount).position, now_});
    }
    drain(); // reports from advancing time (resting fills, liquidations)
  }

  // Slippage is measured from the mark when the order was decided, so the
  // price a resting order waited through is neither hedge error nor cost
  // twice: a passive fill at the old touch shows as price improvement.
  void book_trade(const Book& book, const venue::ExecutionEvent& event, Price mark) {
    const Price fill = event.last_price;
    const UsdCents fee = sats_to_cents(event.fee, fill, Rounding::half_even);
    result_.fees += fee;
    if (event.maker) {
      result_.maker_fees += fee;
    }
    cost_sats_ += event.fee;
    // Slippage of a fill against the mark, in USD, for a buy (the sign
    // flipped for a sell): inverse, quantity * value * (fill - mark) / fill;
    // linear, quantity * size * (fill - mark).
    const venue::ContractTerms& terms = book.engine->terms();
    const int128 difference = event.side == Side::buy ? fill.raw - mark.raw : mark.raw - fill.raw;
    const int128 scaled = terms.kind == venue::ContractKind::inverse
                              ? divide(venue::notional_cents(event.last_quantity, terms.value) * difference, fill.raw,
                                       Rounding::half_even)
                              : divide(venue::linear_size_sats(event.last_quantity, terms.size) * difference,
                                       venue::kSatsCentsScale, Rounding::half_even);
    const UsdCents slippage{static_cast<std::int64_t>(scaled)};
    result_.slippage += slippage;
    cost_sats_ += slippage.value < 0 ? -cents_to_sats(slippage.abs(), fill, Rounding::half_even)
                                     : cents_to_sats(slippage, fill, Rounding::half_even);
    result_.contracts_traded += event.last_quantity.value;
    ++(event.maker ? result_.maker_fills : result_.taker_fills);
  }

  void book_funding(Book& book) {
    const Sats paid = book.engine->account(kAccount).funding_paid;
    const Sats change = paid - book.funding_seen;
    book.funding_seen = paid;
    cost_sats_ += change;
    if (change.is_zero()) {
      return;
    }
    const UsdCents cents = sats_to_cents(change, book.engine->quote().mark, Rounding::half_even);
    if (cents.value > 0) {
      result_.funding_paid += cents;
    } else {
      result_.funding_received -= cents;
    }
  }

  // ---- collateral transfers -------------------------------------------------

  void start_transfer(const TransferIntent& intent) {
    Sats amount = intent.amount;
    if (intent.direction == TransferDirection::wallet_to_exchange) {
      amount = std::min(amount, wallet_);
      wallet_ -= std::max(amount, Sats{});
      ++result_.transfers_to_venue;
    } else {
      amount = books_.withdraw(intent.venue, amount, on_events_);
      ++result_.transfers_to_wallet;
    }
    if (amount.value <= 0) {
      pending_.push_back(TransferFailed{intent.transfer_id, now_});
      add_marker("transfer", "transfer " + std::to_string(intent.transfer_id) + " failed: nothing to move");
      return;
    }
    result_.transferred += amount;
    in_transit_ += amount;
    transfers_.push_back(
        PendingTransfer{intent.transfer_id, intent.venue, intent.direction, amount, now_ + inputs_.transfer_delay});
    add_marker("transfer",
               std::string(intent.direction == TransferDirection::wallet_to_exchange ? "to venue " : "to wallet ") +
                   venue::format_sats_as_btc(amount) + " BTC");
    if (inputs_.transfer_delay.nanoseconds == 0) {
      complete_due_transfers();
    }
  }

  void complete_due_transfers() {
    while (!transfers_.empty() && transfers_.front().due <= now_) {
      const PendingTransfer transfer = transfers_.front();
      transfers_.pop_front();
      in_transit_ -= transfer.amount;
      if (transfer.direction == TransferDirection::wallet_to_exchange) {
        books_.deposit(transfer.venue, transfer.amount, on_events_);
      } else {
        wallet_ += transfer.amount;
      }
      pending_.push_back(TransferCompleted{transfer.id, now_});
      pending_.push_back(CollateralSnapshot{transfer.venue, books_.venue_equity(transfer.venue), now_});
      drain();
    }
  }

  // ---- dated futures ----------------------------------------------------------

  // What the futures' shorts earned from their premium decaying since the
  // last point is carry, like funding: kept apart from the hedge error.
  void book_basis_carry() {
    const Sats carry = books_.basis_carry(price_);
    if (carry.is_zero()) {
      return;
    }
    cost_sats_ -= carry;
    result_.basis_earned += sats_to_cents(carry, price_, Rounding::half_even);
  }

  // A future delivers at its expiry (its book's path ends there, at the
  // index): what is still open closes at the delivery price, open orders are
  // cancelled and the kernel is told the position is flat. The book is idle
  // from then on: an order gathers its collateral, and the point's sweep
  // moves what is left to the venue's home book.
  void settle_expired_futures() {
    for (std::size_t b = 0; b < books_.books().size(); ++b) {
      Book& book = books_.books()[b];
      if (!book.is_future() || book.settled || now_ < book.spec->expiry) {
        continue;
      }
      const Contracts open = book.engine->account(kAccount).position;
      std::vector<venue::Event> events;
      book.engine->settle(book.engine->quote().mark, events);
      handle_venue_events(b, events);
      book.settled = true;
      add_marker("expiry",
                 std::string(book.spec->symbol.view()) + " delivered at " +
                     venue::format_price(book.engine->quote().mark) +
                     (open.is_zero() ? std::string() : ", " + std::to_string(open.value) + " contracts open"));
      pending_.push_back(PositionSnapshot{book.venue, book.spec->id, Contracts{}, now_});
      drain();
    }
  }

  // ---- liabilities ------------------------------------------------------------

  void deliver_missed_orders() {
    std::vector<ClientOrderId> missed;
    missed.swap(missed_);
    for (const ClientOrderId id : missed) {
      feed(ExecutionReport{id, OrderStatus::canceled, {}, {}, now_});
    }
  }

  // Every line goes through the intake's admission (backtest_intake.hpp);
  // what it accepts comes back through book_payment() / book_input().
  void apply_flow(const LiabilityFlow& flow) {
    const IntakeVerdict verdict = intake_.admit(flow);
    switch (verdict.outcome) {
    case IntakeVerdict::Outcome::accepted:
      return;
    case IntakeVerdict::Outcome::repeated:
      ++result_.lines_repeated;
      return;
    case IntakeVerdict::Outcome::refused:
      break;
    }
    ++result_.lines_refused;
    add_marker("refused", (flow.line != 0 ? "line " + std::to_string(flow.line) + ": " : std::string()) + flow.id +
                              ": " + verdict.reason);
  }

  // An admitted payment: a credit brings the user's sats into the wallet,
  // a debit pays them out, at this moment's price (the intake converts sats
  // at the index; dollars come with no sats, converted here). A debit larger
  // than the liability is refused (returning 0, the sink's "not taken"): as
  // with the intake's own refusals the id is not remembered, so a resend is
  // judged again. (Under `synthusd run` the kernel would book it and alert;
  // here it would make the liability, and every figure in its bps,
  // negative.)
  std::uint64_t book_payment(const LiabilityChange& change, const char*& declined) override {
    const bool credit = change.delta.value >= 0;
    const UsdCents cents = change.delta.abs();
    const Sats sats =
        !change.sats.is_zero() ? change.sats : cents_to_sats(cents, price_, credit ? Rounding::up : Rounding::down);
    if (!credit && cents > kernel_.liability()) {
      declined = "a debit larger than the liability";
      return 0;
    }
    wallet_ += credit ? sats : -sats;
    ++liability_events_;
    feed(LiabilityChange{liability_events_, change.delta, sats, price_, now_});
    return liability_events_;
  }

  std::uint64_t book_input(const Event& event) override {
    feed(event);
    return ++liability_events_;
  }

  [[nodiscard]] std::uint64_t last_ticket() const override { return liability_events_; }
  [[nodiscard]] Price index_price() const override { return price_; }

  void note_alert(const Alert& alert) {
    ++result_.alerts;
    const std::string_view code = to_string(alert.code);
    const bool guard =
        alert.code == AlertCode::funding_guard_engaged || alert.code == AlertCode::funding_guard_released;
    if (alert.code == AlertCode::instrument_rolled) {
      ++result_.rolls;
      add_marker("roll", "venue " + std::to_string(alert.values[0]) + ": from instrument " +
                             std::to_string(alert.values[1]) + " to " + std::to_string(alert.values[2]));
      return;
    }
    add_marker(guard ? "funding_guard" : "alert", std::string(code));
  }

  void add_marker(std::string kind, std::string text) {
    // Bounded: a run that rejects every order must not grow without end.
    if (result_.markers.size() < 2'000) {
      result_.markers.push_back(BacktestMarker{now_, std::move(kind), std::move(text)});
    }
  }

  // ---- measurement ------------------------------------------------------------

  void record(Duration until_next) {
    const BookMeasures books = books_.measure(price_);
    measure_.record(result_, PointHeld{now_, price_, kernel_.liability(), books,
                                       wallet_ + in_transit_ + books.equity + cost_sats_, until_next});
  }

  const BacktestInputs& inputs_;
  const PolicySpec& policy_;
  Kernel kernel_;
  VenueBooks books_;
  BookEvents on_events_;                       // hands a book's events to handle_venue_events
  std::map<std::string, TrackedOrder> orders_; // by ClOrdID text: ordered, so iteration is deterministic
  std::set<InstrumentId> fallback_next_;
  std::deque<PendingTransfer> transfers_;
  std::deque<Event> pending_;
  std::vector<ClientOrderId> missed_; // orders missed at their instant: answered at the next point
  bool feeding_ = false;
  Sats wallet_{};
  Sats in_transit_{};
  Timestamp now_{};
  Price price_{};
  std::uint64_t liability_events_ = 0;
  HedgeErrorMeasure measure_{inputs_.tolerance_centi_bps};
  Sats cost_sats_{}; // fees + slippage + net funding paid, in the BTC they cost
  PolicyResult result_;
  BacktestIntake intake_{*this, inputs_.path.front().time};
};

} // namespace

PolicyResult run_backtest(const BacktestInputs& inputs, const PolicySpec& policy, const ProgressCallback& progress) {
  if (inputs.path.empty()) {
    throw std::invalid_argument("backtest: the price path is empty");
  }
  BacktestDriver driver(inputs, policy);
  return driver.run(progress);
}

} // namespace synthusd::engine
