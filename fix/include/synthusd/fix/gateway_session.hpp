#pragma once
// The FIX 4.4 order gateway's session: a QuickFIX SocketInitiator behind a
// QuickFIX-free interface (C++14, so both sides of the boundary include it).
//
// Threads
//   owner thread  - whoever constructs the session and calls send_order(),
//                   cancel_order(), replace_order(), cancel_all(),
//                   request_positions(), request_collateral() and poll().
//                   One thread only. Every application message is sent
//                   from here, on the Session* kept at start() (no global
//                   sendToTarget lookup), from message objects built once
//                   and overwritten per order.
//                   Listener callbacks run here, inside poll().
//   QuickFIX      - SocketInitiator's thread: connects, logs on, heartbeats,
//                   resends, and calls the Application callbacks. Those only
//                   parse each message into a fixed-size record and push it
//                   onto a bounded single-consumer queue
//                   (boost::lockfree::spsc_queue, lock-free for the owner);
//                   producers serialise on a small mutex because QuickFIX may
//                   call onLogout from the thread that calls stop(). If the
//                   queue is full, QuickFIX's thread waits (counted, alerted):
//                   a report is never dropped.
//   message log   - AsyncMessageLog's thread writes the masked message log.
//
// State: the order table, ClOrdID allocator, position-request bookkeeping
// and all decisions (which order a report belongs to, fills from CumQty,
// unknown orders) live on the owner thread, so they need no locks. ExecID
// deduplication runs on QuickFIX's thread, before the hand-off.
//
// Not logged on: send_order() refuses (SubmitResult::not_logged_on) rather
// than queue an order for later.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "synthusd/fix/gateway_types.hpp"

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

class GatewaySession {
public:
  // Validates the configuration and opens the ClOrdID counter file (which
  // reserves its first block). Throws std::invalid_argument or
  // std::runtime_error with a message that names the problem. Does not
  // connect. The listener must outlive the session.
  GatewaySession(GatewayConfig config, GatewayListener& listener);
  ~GatewaySession(); // stop()
  GatewaySession(const GatewaySession&) = delete;
  GatewaySession& operator=(const GatewaySession&) = delete;

  // Creates the SocketInitiator and starts its thread, which connects and
  // logs on (and reconnects every reconnect_interval_seconds). Throws
  // std::runtime_error on a QuickFIX configuration error.
  void start();

  // Sends Logout and waits up to logout_wait_ms for the venue's answer, then
  // stops QuickFIX's thread. Idempotent. Events still queued stay available
  // to poll().
  void stop(int logout_wait_ms = 2000);
  // Sends Logout and returns at once (true when logged on and sent): a
  // caller that stops several sessions asks them all, keeps polling while
  // the venues answer, then calls stop(0). Owner thread.
  bool begin_logout();

  bool logged_on() const;

  SubmitResult send_order(const OrderRequest& order);
  SubmitResult cancel_order(std::uint64_t user_order_id);
  // New quantity (contracts) and limit price of an open limit order.
  SubmitResult replace_order(std::uint64_t user_order_id, std::int64_t quantity, std::int64_t price_e8);
  // OrderMassCancelRequest (all orders) when the dialect and config support
  // it, else an OrderCancelRequest for every open order.
  SubmitResult cancel_all();
  SubmitResult request_positions();
  // CollateralInquiry(BB); SubmitResult::unsupported when
  // collateral_inquiry_supported is false. The answer (CollateralReport BA)
  // reaches the listener's on_collateral() inside poll().
  SubmitResult request_collateral();

  // Handles up to max_messages queued inbound records, calling the listener,
  // and sends the periodic RequestForPositions and CollateralInquiry when
  // they are due. Returns the
  // number of records handled.
  std::size_t poll(std::size_t max_messages = std::numeric_limits<std::size_t>::max());

  // Adds a note to the message log, in order with the messages around it
  // (recorders use it to put intents and events next to the messages).
  void annotate(const std::string& note);
  // Waits until the message log has written everything logged so far.
  void flush_log();

  GatewayCounters counters() const;
  std::size_t open_orders() const;
  // Owner thread, while idle: grows, ahead of need, what the order path
  // would otherwise grow on the way: the ClOrdID block once the current one
  // is half used (asked of the allocator's writer thread, which does the
  // file write and fsyncs: ClientOrderIdAllocator::reserve_in_background),
  // and the order table's node pools once a pool is down to half a chunk.
  // False if a reservation failed (the order that needs it then makes it
  // itself and reports a ClOrdID error as an alert).
  bool reserve_ahead() noexcept;
  // Owner thread: a ClOrdID block was asked for and is not durable yet
  // (orders meanwhile use what is left of the current block).
  [[nodiscard]] bool client_order_id_reservation_pending() const noexcept;
  // Called on QuickFIX's thread after each inbound message is queued for
  // poll(), so the owner can sleep until there is something to poll instead
  // of looking on a short timer. Set before start(); must not block.
  using InboundNotifier = void (*)(void* context);
  void set_inbound_notifier(InboundNotifier notifier, void* context) noexcept;
  // Measurement hook (the allocation-counting test, profiling): called on
  // the owner thread right before and right after each call into
  // QuickFIX's Session::send, so that what the gateway does and what
  // QuickFIX does inside send can be told apart. Set on the owner thread;
  // must not block. None by default (one branch per send).
  enum class SendPhase : std::uint8_t { before_send, after_send };
  using SendObserver = void (*)(void* context, SendPhase phase);
  void set_send_observer(SendObserver observer, void* context) noexcept;
  // Owner thread: whether poll() has queued inbound messages to deliver.
  bool has_inbound() const noexcept;
  // Blocks the order path itself had to reserve (0 while the above keeps up).
  std::uint64_t client_order_id_reservations_on_order_path() const;
  // Test hook: drops the TCP connection as if the network failed.
  void disconnect();

private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace fix
} // namespace synthusd
