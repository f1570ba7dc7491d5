#pragma once
// One gateway thread per venue: owns the OrderGateway (QuickFIX behind it),
// sends what the kernel thread queued, and queues back execution reports,
// positions and session changes.
//
// Reconciliation after every logon: first an OrderMassCancelRequest (orders
// a crashed predecessor left open must not fill behind the kernel's back),
// then the positions the gateway requests at logon; the kernel hears that
// the venue is up only after the first position report (or a timeout), so
// it never trades on a position it has not reconciled.

#include <atomic>
#include <memory>
#include <string>

#include "pipeline.hpp"
#include "synthusd/engine/run_config.hpp"
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
                EventCount& kernel_wakeup);

  // Gateway thread. Runs until `stop`; then cancels every open order, keeps
  // forwarding reports for up to drain_ms, and logs out.
  void run(const std::atomic<bool>& stop, int drain_ms);

  void on_event(const hedging::Event& event) override;
  void on_alert(const fix::GatewayAlert& alert) override;

private:
  void forward(const hedging::Event& event);
  void handle_command(const GatewayCommand& command);
  void after_poll();

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
};

} // namespace synthusd::engine::run
