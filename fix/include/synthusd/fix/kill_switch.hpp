#pragma once
// The kill switch as an operator sees it: engaging it blocks every new order
// in pre-trade risk and cancels everything open at the venue, in that order
// (so nothing new slips out between the two); resuming only unblocks. An
// admin command calls engage()/resume(); a watched file (touch it to stop
// trading) is polled on the owner thread.

#include <string>

#include "synthusd/fix/order_gateway.hpp"
#include "synthusd/fix/pre_trade_risk.hpp"

namespace synthusd::fix {

class KillSwitch {
public:
  KillSwitch(PreTradeRisk& risk, OrderGateway& gateway, std::string watched_file = {})
      : risk_(risk), gateway_(gateway), watched_file_(std::move(watched_file)) {}

  // Blocks new orders, then cancels all (OrderMassCancelRequest, or one by
  // one where the venue has none). Returns what the gateway did with the
  // cancel; when it could not send (not logged on), the venue's
  // cancel-on-disconnect or the next engage() must cover it.
  SubmitResult engage() {
    risk_.engage_kill_switch();
    return gateway_.cancel_all();
  }
  void resume() { risk_.resume(); }
  [[nodiscard]] bool engaged() const noexcept { return risk_.kill_switch_engaged(); }

  // Engages once when the watched file appears. Returns true if it did now.
  bool poll() {
    if (watched_file_.empty() || engaged()) {
      return false;
    }
    if (risk_.poll_kill_file(watched_file_.c_str())) {
      (void)gateway_.cancel_all();
      return true;
    }
    return false;
  }

private:
  PreTradeRisk& risk_;
  OrderGateway& gateway_;
  std::string watched_file_;
};

} // namespace synthusd::fix
