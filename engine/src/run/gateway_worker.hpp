#pragma once
// One gateway thread per venue: owns the OrderGateway (QuickFIX behind it),
// sends what the kernel thread queued, and queues back execution reports,
// positions and session changes.
//
// Reconciliation after every logon: first an OrderMassCancelRequest (orders
// a crashed predecessor left open must not fill behind the kernel's back),
// then the positions the gateway requests at logon; the kernel hears that
// the venue is up only after the first position report (or, after a
// timeout, with /health degraded until one comes), so it never trades on a
// position it has not reconciled without saying so.
//
// Execution policy (fix/execution_policy.hpp): post-only orders that have
// not completed within their wait are canceled and the instrument's next
// order goes as a collared limit IOC; consecutive venue rejects stop orders
// to the venue for a doubling backoff, counted per reason and alerted.

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "pipeline.hpp"
#include "synthusd/engine/run_config.hpp"
#include "synthusd/fix/execution_policy.hpp"
#include "synthusd/fix/order_gateway.hpp"
#include "synthusd/hedging/config.hpp"

#include "latency_histogram.hpp"

namespace synthusd::engine::run {

// The gateway's settings from the [[gateways]] section, the kernel's
// instruments of that venue and the state directory.
[[nodiscard]] fix::GatewayConfig make_gateway_config(const GatewaySection& section, const hedging::KernelConfig& kernel,
                                                     const std::string& state_directory);

class GatewayWorker final : public fix::OrderGatewayListener {
public:
  GatewayWorker(fix::GatewayConfig config, GatewayChannel& channel, OrderLatency& latency, WaitMode wait,
                EventCount& kernel_wakeup, fix::ExecutionOptions execution = {});

  // Gateway thread. Runs until `stop`; then cancels every open order, keeps
  // forwarding reports for up to drain_ms, and logs out.
  void run(const std::atomic<bool>& stop, int drain_ms);

  // run() in steps, for a thread that runs other stages between them (the
  // one-thread hot path): start() once (QuickFIX's thread then notifies
  // `inbound_wakeup` for every report it queues), do_work() (commands, the
  // reports QuickFIX queued, timers; true when it did something) until
  // stopping, never idling longer than kIdleTimeoutNs; at the end
  // begin_shutdown() (cancel all), drain_step() for the drain time, then
  // begin_logout(), drain_step() until logged_out() or kLogoutWaitNs, and
  // stop_session(): reports are still taken while the venue answers the
  // Logout, and one thread can log out of several venues at once. All on
  // one thread.
  static constexpr std::int64_t kIdleTimeoutNs = 2'000'000;
  static constexpr std::int64_t kLogoutWaitNs = 2'000'000'000;
  void start(EventCount& inbound_wakeup);
  bool do_work();
  [[nodiscard]] bool has_work() const noexcept;
  void begin_shutdown();
  bool drain_step();
  void begin_logout();
  [[nodiscard]] bool logged_out() const;
  void stop_session();
  // Called while a report waits for room in the queue to the kernel, when
  // the kernel runs on this same thread (it must drain for room to appear).
  void set_make_room(void (*make_room)(void*), void* context) noexcept {
    make_room_ = make_room;
    make_room_context_ = context;
  }

  void on_event(const hedging::Event& event) override;
  void on_alert(const fix::GatewayAlert& alert) override;
  void on_venue_reject(const fix::ExecutionEvent& event) override;

private:
  // A post-only order resting on the venue, until it is done or its wait
  // ends (then it is canceled and the instrument's next order takes).
  struct PassiveOrder {
    hedging::ClientOrderId id = 0; // 0: free
    hedging::InstrumentId instrument = 0;
    std::int64_t deadline_ns = 0; // monotonic
    bool cancel_sent = false;
  };
  // When an order went out, until its first report (order -> acknowledgement).
  struct SentOrder {
    hedging::ClientOrderId id = 0;
    std::int64_t sent_ns = 0; // monotonic
  };

  void forward(const hedging::Event& event);
  void handle_command(const GatewayCommand& command);
  void refuse_locally(hedging::ClientOrderId id);
  void after_poll();
  void count_reject_reason(const std::string& reason);
  [[nodiscard]] bool taker_next(hedging::InstrumentId instrument) const noexcept;
  void set_taker_next(hedging::InstrumentId instrument, bool value) noexcept;

  GatewayChannel& channel_;
  OrderLatency& latency_;
  EventCount& kernel_wakeup_;
  Idler idler_;
  std::unique_ptr<fix::OrderGateway> gateway_;
  hedging::VenueId venue_;
  bool logon_pending_ = false; // cancel-all + reconcile after poll() returns
  bool awaiting_reconciliation_ = false;
  std::int64_t awaiting_since_ns_ = 0;
  hedging::VenueStatus held_up_{};

  fix::ExecutionOptions execution_;
  std::uint32_t consecutive_rejects_ = 0;
  std::int64_t backoff_until_ns_ = 0; // monotonic; no order to the venue before
  std::int64_t next_counter_copy_ns_ = 0;
  std::array<PassiveOrder, 64> passive_{};
  std::array<bool, 256> taker_next_{}; // per instrument id (ids above share nothing: no fallback)
  std::array<SentOrder, 256> sent_{};  // by id % size; a slot reused before its report loses that sample only
  void (*make_room_)(void*) = nullptr;
  void* make_room_context_ = nullptr;
};

} // namespace synthusd::engine::run
