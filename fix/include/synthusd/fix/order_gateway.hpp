#pragma once
// The order gateway as the kernel sees it (C++20): hedging::OrderIntent and
// CancelIntent in; hedging::ExecutionReport, PositionSnapshot,
// CollateralSnapshot and VenueStatus events plus gateway alerts out. A thin
// conversion layer over GatewaySession (C++14, QuickFIX behind it); see
// gateway_session.hpp for the threads.
//
// Threading: one owner thread calls submit(), replace(), cancel_all(),
// request_positions(), request_collateral() and poll(); the listener is
// called on that thread, inside poll() (or inside submit() for an order
// refused locally). Intents may later come from an SPSC queue drained by the
// same thread.
//
// Units: the kernel counts contracts; the gateway converts to the venue's
// OrderQty with GatewayInstrument::order_quantity_multiplier (Deribit: USD,
// contracts * $10 for BTC-PERPETUAL, QtyType 854=0) and back from reports.

#include <cstddef>
#include <limits>

#include "synthusd/fix/gateway_session.hpp"
#include "synthusd/hedging/actions.hpp"
#include "synthusd/hedging/events.hpp"
#include "synthusd/hedging/instrument.hpp"

namespace synthusd::fix {

class OrderGatewayListener {
public:
  virtual ~OrderGatewayListener() = default;
  // A hedging::ExecutionReport, PositionSnapshot, CollateralSnapshot (from a
  // CollateralReport: equity in sats) or VenueStatus (up at logon, down at
  // logout), ready for Kernel::on().
  virtual void on_event(const hedging::Event& event) = 0;
  // Unknown orders, rejects, session changes...: for operators and logs.
  virtual void on_alert(const GatewayAlert& alert) = 0;
  // An order's quantity or price changed by replace(): not a kernel event.
  virtual void on_replaced(const ExecutionEvent& event) { (void)event; }
  // The venue refused one of our orders (its report, with the venue's text
  // and reason); called before the rejected ExecutionReport event. Orders
  // refused locally (not logged on, invalid) do not come here.
  virtual void on_venue_reject(const ExecutionEvent& event) { (void)event; }
};

// What the kernel's intents do not say.
struct OrderPolicy {
  TimeInForce market_time_in_force = TimeInForce::immediate_or_cancel;
  TimeInForce limit_time_in_force = TimeInForce::good_till_cancel;
  bool post_only_limits = false;
};

// The gateway's view of an instrument: Deribit sizes inverse contracts in USD
// (order multiplier = contract value in dollars, reports in contracts);
// a generic venue in contracts both ways.
[[nodiscard]] GatewayInstrument gateway_instrument(const hedging::InstrumentSpec& spec, Dialect dialect);

[[nodiscard]] hedging::OrderStatus to_order_status(ExecutionKind kind) noexcept;

class OrderGateway {
public:
  // Throws what GatewaySession's constructor throws. The listener must
  // outlive the gateway.
  OrderGateway(GatewayConfig config, OrderGatewayListener& listener, OrderPolicy policy = {});

  void start() { session_.start(); }
  void stop(int logout_wait_ms = 2000) { session_.stop(logout_wait_ms); }
  bool begin_logout() { return session_.begin_logout(); }
  [[nodiscard]] bool logged_on() const { return session_.logged_on(); }
  void set_policy(const OrderPolicy& policy) noexcept { policy_ = policy; }

  // Anything but SubmitResult::sent also delivers an ExecutionReport
  // {rejected} for the intent's order to the listener before returning, so
  // the kernel releases the order's in-flight quantity (and retries after its
  // reject delay) exactly as for a venue reject.
  SubmitResult submit(const hedging::OrderIntent& intent);
  // The same with the time in force and post-only flag given (the venue's
  // execution policy decided them), rather than the OrderPolicy's.
  SubmitResult submit(const hedging::OrderIntent& intent, TimeInForce time_in_force, bool post_only);
  // A cancel that cannot go out changes nothing: the order is still working.
  SubmitResult submit(const hedging::CancelIntent& intent);
  SubmitResult replace(hedging::ClientOrderId id, hedging::Contracts quantity, hedging::Price price);
  SubmitResult cancel_all() { return session_.cancel_all(); }
  SubmitResult request_positions() { return session_.request_positions(); }
  SubmitResult request_collateral() { return session_.request_collateral(); }

  std::size_t poll(std::size_t max_messages = std::numeric_limits<std::size_t>::max()) {
    return session_.poll(max_messages);
  }

  [[nodiscard]] GatewaySession& session() noexcept { return session_; }
  [[nodiscard]] const GatewaySession& session() const noexcept { return session_; }

private:
  class Bridge final : public GatewayListener {
  public:
    Bridge(OrderGatewayListener& listener, hedging::VenueId venue) : listener_(listener), venue_(venue) {}
    void on_execution(const ExecutionEvent& event) override;
    void on_position(const PositionEvent& event) override;
    void on_collateral(const CollateralEvent& event) override;
    void on_alert(const GatewayAlert& alert) override;

  private:
    OrderGatewayListener& listener_;
    hedging::VenueId venue_;
  };

  hedging::VenueId venue_;
  OrderPolicy policy_;
  OrderGatewayListener& listener_;
  Bridge bridge_;
  GatewaySession session_;
};

} // namespace synthusd::fix
