#pragma once
// The queues and shared counters that connect the threads of `synthusd run`.
//
//   feed threads       -- ConflatingQueue<MarketUpdate> --+
//   liability sources  -- LiabilityChannel (SPSC) --------+--> kernel thread -- GatewayChannel.commands --> gateway
//   gateway threads    -- GatewayChannel.events (SPSC) ---+        |                                       threads
//   (FIX)
//                                                                  +-- JournalItem (SPSC) --> journal thread
//                                                                  (fdatasync)
//
// Every queue has one producer and one consumer thread (boost::lockfree
// spsc_queue: wait-free, no allocation after construction). Everything a
// queue carries is trivially copyable. The journal thread publishes, per
// liability source, the highest ticket made durable; sources acknowledge
// upstream only up to it.

#include <array>
#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "synthusd/feeds/conflating_queue.hpp"
#include "synthusd/fix/gateway_types.hpp"
#include "synthusd/hedging/actions.hpp"
#include "synthusd/hedging/events.hpp"
#include "synthusd/liabilities/liability_id.hpp"
#include "synthusd/liabilities/liability_sink.hpp"

#include "threads.hpp"

namespace synthusd::engine::run {

template <typename T>
using SpscQueue = boost::lockfree::spsc_queue<T>;

inline constexpr std::uint16_t kNoSource = 0xffff;

// transfer thread -> kernel thread ([transfers] enabled): TransferCompleted
// or TransferFailed for the kernel.
struct TransferReport {
  hedging::TransferId transfer_id = 0;
  bool completed = false;
};

// kernel thread -> gateway thread
struct GatewayCommand {
  enum class Kind : std::uint8_t { order, cancel };
  Kind kind = Kind::order;
  hedging::OrderIntent order{}; // as shaped by the venue's execution policy (type, limit price)
  hedging::CancelIntent cancel{};
  fix::TimeInForce time_in_force = fix::TimeInForce::immediate_or_cancel;
  bool post_only = false;
  hedging::Price taker_limit_price{}; // post-only: the collared IOC price of its taker fallback; market: the collar
  std::int64_t origin_wall_ns = 0;    // when what caused it reached the engine (a tick: its receive time)
  std::int64_t dequeued_wall_ns = 0;  // when the kernel thread took that input
  bool caused_by_market = false;
  bool caused_by_payment = false; // a liability source's event: origin_wall_ns is its hand-off
};

// gateway thread -> kernel thread
struct GatewayEvent {
  hedging::Event event{};
};

struct GatewayChannel {
  explicit GatewayChannel(std::size_t capacity) : commands(capacity), events(capacity), alerts(256) {}
  SpscQueue<GatewayCommand> commands;
  SpscQueue<GatewayEvent> events;
  SpscQueue<fix::GatewayAlert> alerts;           // gateway thread -> supervisor (logs)
  EventCount gateway_wakeup;                     // commands pushed
  std::atomic<bool> cancel_all_requested{false}; // kill switch, shutdown
  std::atomic<std::uint64_t> cancel_all_sent{0};
  std::atomic<bool> logged_on{false};
  std::atomic<bool> reconciled{false}; // positions received since the last logon
  // No position report within the wait after logon: trading goes on with the
  // kernel's positions, but the venue's are unconfirmed (health says so).
  std::atomic<bool> reconcile_overdue{false};
  std::atomic<std::uint64_t> events_full{0}; // gateway waited for room in `events`
  std::atomic<std::uint64_t> alerts_dropped{0};
  std::atomic<std::uint64_t> orders_sent{0};
  std::atomic<std::uint64_t> orders_refused{0}; // SubmitResult other than sent
  // Venue rejects (ExecutionReport rejected, or a reject naming the order),
  // per reason: the first kRejectReasons distinct reasons get their own
  // slot, later ones share the last ("other reasons"). A slot's text is
  // written once, before its count becomes non-zero (release), by the
  // gateway thread only.
  static constexpr std::size_t kRejectReasons = 8;
  struct RejectReason {
    std::atomic<std::uint64_t> count{0};
    char text[96] = {};
  };
  std::array<RejectReason, kRejectReasons> venue_rejects;
  // Copies of the session's own counters (fix::GatewayCounters), refreshed
  // by the gateway thread about every 100 ms for /metrics.
  std::atomic<std::uint64_t> duplicate_reports{0};  // same order and ExecID again: dropped
  std::atomic<std::uint64_t> exec_ids_reused{0};    // ExecID seen on another order: booked
  std::atomic<std::uint64_t> resends_suppressed{0}; // NewOrderSingles gap-filled, never re-sent
  std::atomic<std::uint64_t> unknown_order_reports{0};
  std::atomic<std::uint64_t> late_reports{0};
  std::atomic<std::uint64_t> logon_failures{0};
  std::atomic<std::uint64_t> queries_deferred_for_credits{0};
  std::atomic<std::uint64_t> orders_held_by_backoff{0}; // refused locally while backing off after rejects
  std::atomic<std::uint64_t> post_only_fallbacks{0};    // post-only orders canceled for a taker fallback
};

// liability source thread -> kernel thread. The payment id rides beside
// the kernel event (whose 64-bit id is only a hash of it) to the journal.
// The event is a LiabilityChange, or a ProviderInterestChange or
// ExternalRiskPosition the intake took in (liabilities/PROTOCOL.md).
struct LiabilityItem {
  hedging::Event event{};
  std::uint64_t ticket = 0;
  liabilities::LiabilityId payment_id{};
  std::int64_t handed_off_wall_ns = 0; // when the source pushed it: read, parsed and admitted
};

// The sink a liability source sees in `run`: submit() pushes to the kernel's
// queue; make_durable() reports what the journal thread made durable.
class LiabilityChannel final : public liabilities::LiabilitySink {
public:
  LiabilityChannel(std::size_t capacity, EventCount& kernel_wakeup, const std::atomic<std::int64_t>& index_price_raw)
      : queue(capacity), kernel_wakeup_(kernel_wakeup), index_price_raw_(index_price_raw) {}

  std::uint64_t submit(const hedging::LiabilityChange& event, std::string_view id) noexcept override {
    return submit_input(event, id);
  }
  // Provider interest and risk positions go the same way: one queue, one
  // ticket sequence, journaled with their id by the kernel thread.
  [[nodiscard]] bool carries_other_inputs() const noexcept override { return true; }
  std::uint64_t submit_input(const hedging::Event& event, std::string_view id) noexcept override {
    const std::uint64_t ticket = submitted_.load(std::memory_order_relaxed) + 1;
    LiabilityItem item{event, ticket, {}, wall_ns()};
    // Admission refuses an id longer than the buffer, so this never fails;
    // if it did, nothing is taken (no ticket, no acknowledgement), rather
    // than an event journaled without the id it came from.
    if (!item.payment_id.assign(id) || id.empty() || !queue.push(item)) {
      return 0;
    }
    submitted_.store(ticket, std::memory_order_relaxed);
    kernel_wakeup_.notify();
    return ticket;
  }
  std::uint64_t make_durable() override { return durable.load(std::memory_order_acquire); }
  // Tickets handed out so far (written by the source thread only).
  [[nodiscard]] std::uint64_t submitted() const noexcept { return submitted_.load(std::memory_order_relaxed); }
  [[nodiscard]] hedging::Price index_price() const noexcept override {
    const hedging::Price price{index_price_raw_.load(std::memory_order_relaxed)};
    if (index_published_at_ != nullptr &&
        wall_ns() - index_published_at_->load(std::memory_order_relaxed) > index_max_age_ns_) {
      // The kernel thread has not re-read the oracle for that long (it
      // republishes on every tick and timer): it is stalled, and the price
      // it left may be stale. Sats payments wait, as without an index.
      return hedging::Price{};
    }
    return price;
  }
  // The index is trusted only while its publisher re-read it within
  // max_age_ns (wall clock). Set once, before the source thread starts.
  void set_index_lease(const std::atomic<std::int64_t>& published_at, std::int64_t max_age_ns) noexcept {
    index_published_at_ = &published_at;
    index_max_age_ns_ = max_age_ns;
  }

  SpscQueue<LiabilityItem> queue;
  std::atomic<std::uint64_t> durable{0}; // written by the journal thread only

private:
  std::atomic<std::uint64_t> submitted_{0};
  EventCount& kernel_wakeup_;
  const std::atomic<std::int64_t>& index_price_raw_;
  const std::atomic<std::int64_t>* index_published_at_ = nullptr; // none: no lease (tests)
  std::int64_t index_max_age_ns_ = 0;
};

// kernel thread -> journal thread
struct JournalItem {
  enum class Kind : std::uint8_t { event, snapshot };
  Kind kind = Kind::event;
  hedging::Event event{};
  std::uint16_t source = kNoSource; // liability source index, for the durable ticket
  std::uint64_t ticket = 0;
  std::uint64_t sequence = 0;            // the journal sequence of this event / the last one a snapshot includes
  liabilities::LiabilityId payment_id{}; // a liability change's payment id, journaled with it
};

using MarketQueue = feeds::ConflatingQueue<hedging::MarketUpdate>;

} // namespace synthusd::engine::run
