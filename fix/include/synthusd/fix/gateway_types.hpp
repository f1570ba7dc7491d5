#pragma once
// Plain types of the FIX order gateway: configuration, requests in, events
// and alerts out. C++14 and free of QuickFIX types, because both the C++14
// QuickFIX side (gateway_session.cpp) and the C++20 side (order_gateway.hpp)
// include it.
//
// Units: quantities are whole contracts (the kernel's unit) unless a field
// says otherwise; prices are USD per BTC scaled by 1e8 (kPriceScale), like
// hedging::Price; times are nanoseconds since the Unix epoch.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "synthusd/fix/credentials.hpp"
#include "synthusd/fix/dialect.hpp"
#include "synthusd/fix/quickfix_boundary.hpp"
#include "synthusd/fix/venue_credit_budget.hpp"

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

// A short string stored inline, so events stay trivially copyable and can
// cross threads through a lock-free queue without allocating. Longer input is
// cut at Capacity and `truncated` is set.
template <std::size_t Capacity>
struct FixedText {
  char data[Capacity + 1] = {};
  std::uint16_t size = 0;
  bool truncated = false;

  void assign(const char* text, std::size_t length) {
    truncated = length > Capacity;
    size = static_cast<std::uint16_t>(truncated ? Capacity : length);
    std::memcpy(data, text, size);
    data[size] = '\0';
  }
  void assign(const std::string& text) { assign(text.data(), text.size()); }
  void clear() {
    size = 0;
    truncated = false;
    data[0] = '\0';
  }
  bool empty() const { return size == 0; }
  std::string str() const { return std::string(data, size); }
  const char* c_str() const { return data; }
  bool equals(const std::string& text) const {
    return text.size() == size && std::memcmp(text.data(), data, size) == 0;
  }
};

using IdText = FixedText<64>; // ClOrdID (Deribit allows 64), OrderID, ExecID, symbols
using LongText = FixedText<160>;

struct GatewayInstrument {
  std::uint16_t instrument = 0; // hedging::InstrumentId
  std::string symbol;           // the venue's symbol, e.g. BTC-PERPETUAL
  // OrderQty(38) on the wire = contracts * order_quantity_multiplier.
  // Deribit inverse perpetual: the contract value in USD (10), sent with
  // QtyType(854)=0 "Units". Generic: 1.
  std::int64_t order_quantity_multiplier = 1;
  // Contracts = reported quantity (14, 32, 38, 151, 704, 705) / this. Deribit
  // reports in contracts: 1.
  std::int64_t report_quantity_multiplier = 1;
};

// What the gateway does when a request cannot go out right now.
enum class SubmitResult : std::uint8_t {
  sent,
  not_logged_on, // nothing was sent; the caller treats the order as rejected
  unknown_instrument,
  invalid_order,           // quantity <= 0, limit order without a positive price
  duplicate_order,         // the user order id is already open
  unknown_order,           // cancel/replace of an order the gateway does not hold open
  request_pending,         // a cancel or replace of this order is already in flight
  client_order_id_failure, // the ClOrdID counter file could not reserve a block
  send_failed,             // QuickFIX refused or threw
  unsupported,             // the configuration says the venue does not take this request
  deferred,                // the venue's request credits are spent: kept, sent once they refill
};

const char* to_string(SubmitResult result);

struct OrderRequest {
  std::uint64_t user_order_id = 0; // hedging::ClientOrderId; unique among open orders, > 0
  std::uint16_t instrument = 0;
  OrderSide side = OrderSide::buy;
  std::int64_t quantity = 0; // contracts, > 0
  OrderType type = OrderType::market;
  std::int64_t price_e8 = 0; // limit orders, > 0; market orders too where the dialect requires Price (Deribit)
  TimeInForce time_in_force = TimeInForce::good_till_cancel;
  bool post_only = false;   // ExecInst 6
  bool reduce_only = false; // ExecInst E
};

enum class ExecutionKind : std::uint8_t {
  accepted,         // ExecType 0 New
  partially_filled, // a fill that leaves quantity open
  filled,           // the fill that completes the order (or a terminal "filled" status)
  canceled,         // ExecType 4, also C expired and 3 done for day: done without (more) fills
  rejected,         // ExecType 8, or a BusinessMessageReject / session Reject of the order
  replaced,         // ExecType 5: quantity and price now those of the replace
};

const char* to_string(ExecutionKind kind);

// One status change of one of our orders, in kernel units. A report that
// carries a fill produces a partially_filled or filled event whose
// last_quantity is derived from CumQty (so a report seen twice books nothing
// twice); a fill that ends the order is "filled" even if the venue's report
// was an ExecType I status.
struct ExecutionEvent {
  std::uint64_t user_order_id = 0;
  std::uint16_t instrument = 0;
  ExecutionKind kind = ExecutionKind::accepted;
  OrderSide side = OrderSide::buy;
  std::int64_t last_quantity = 0;       // contracts filled by this event, >= 0
  std::int64_t last_price_e8 = 0;       // price of this event's fill, 0 when none
  std::int64_t cumulative_quantity = 0; // contracts filled so far
  std::int64_t order_quantity = 0;      // contracts (after any replace)
  std::int64_t price_e8 = 0;            // order price (after any replace)
  std::int64_t receive_time_ns = 0;     // wall clock on QuickFIX's thread
  std::int64_t transact_time_ns = 0;    // the venue's TransactTime(60), 0 if absent
  char exec_type = 0;                   // as received (150)
  char order_status = 0;                // as received (39)
  IdText client_order_id;               // our ClOrdID
  IdText venue_order_id;                // OrderID(37)
  IdText exec_id;                       // ExecID(17)
  LongText text;                        // Text(58), e.g. the reject reason
};

struct PositionEvent {
  std::uint16_t venue = 0;
  std::uint16_t instrument = 0;
  std::int64_t position = 0; // contracts, long - short (a short is negative)
  std::int64_t receive_time_ns = 0;
  IdText symbol;
  IdText position_request_id;
};

// A CollateralReport(BA): the margin account in satoshis, converted exactly
// from the venue's BTC decimals (at most 8 places). Values the report does
// not carry are 0, except initial margin, which falls back to
// TotalNetValue(900) - MarginExcess(899) when only those are present.
struct CollateralEvent {
  std::uint16_t venue = 0;                  // hedging::VenueId
  std::int64_t equity_sats = 0;             // 900 TotalNetValue (balance + unrealised P&L)
  std::int64_t balance_sats = 0;            // 901 CashOutstanding
  std::int64_t initial_margin_sats = 0;     // 9110 (custom), else 900 - 899
  std::int64_t maintenance_margin_sats = 0; // 9111 (custom)
  // What the venue would pay out now: equity less initial margin, never more
  // than the balance (unrealised profit stays: Deribit's
  // available_withdrawal_funds, which its FIX BF does not carry), at least 0.
  std::int64_t withdrawable_sats = 0;
  std::int64_t receive_time_ns = 0;
};

enum class AlertKind : std::uint8_t {
  logon,                   // session logged on (text: the session id)
  logout,                  // session logged out or disconnected (text: the reason, if the venue gave one)
  unknown_order,           // an ExecutionReport for an order this gateway did not send (fields below)
  late_fill,               // a fill for an order already done: booked by the position request it triggers
  cancel_reject,           // OrderCancelReject(9) answering a cancel (fields below)
  replace_reject,          // OrderCancelReject(9) answering a replace
  business_reject,         // BusinessMessageReject(j)
  session_reject,          // Reject(3) of one of our application messages
  mass_cancel_reject,      // OrderMassCancelReport(r) that refused the request
  position_request_reject, // RequestForPositionsAck(AO) refusing the request
  invalid_report,          // a report the gateway could not interpret (text says why)
  unsupported_message,     // an application message type the gateway does not handle
  inbound_queue_full,      // QuickFIX's thread waited for room in the hand-off queue
  collateral_reject,       // CollateralInquiryAck(BG) refusing a CollateralInquiry (reason: 946, else 945)
  resend_suppressed,       // a NewOrderSingle not re-sent for a ResendRequest (gap-filled; status requested)
  logon_failed,            // the session ended before logon completed (text: the reason either side gave)
  exec_id_reused,          // an ExecID seen before on another order: booked (dedupe is per order), alerted
  venue_reject,            // the venue refused an order (raised by the engine's gateway worker: text names the
                           // reason, the streak and the backoff)
  sequence_reset,          // SequenceReset(4) skipped messages: open orders' status and positions requested
};

const char* to_string(AlertKind kind);

// Everything an alert may carry; fields that do not apply are empty or 0.
struct GatewayAlert {
  AlertKind kind = AlertKind::logon;
  std::int64_t receive_time_ns = 0;
  std::uint64_t user_order_id = 0;            // 0 when no order of ours is involved
  IdText client_order_id;                     // 11
  IdText original_client_order_id;            // 41
  IdText venue_order_id;                      // 37
  IdText exec_id;                             // 17
  IdText symbol;                              // 55
  IdText reference;                           // BusinessRejectRefID(379) / PosReqID(710) / unsupported MsgType
  IdText reference_message_type;              // RefMsgType(372)
  char exec_type = 0;                         // 150
  char order_status = 0;                      // 39
  char side = 0;                              // 54, as received
  int reason = -1;                            // 102 CxlRejReason, 380 BusinessRejectReason, 373, 532, 728, ...
  std::int64_t reference_sequence_number = 0; // 45
  int reference_tag = 0;                      // 371 RefTagID: the tag a session Reject(3) names
  std::int64_t order_quantity_e8 = 0;         // 38 as received, scaled by 1e8
  std::int64_t last_quantity_e8 = 0;          // 32
  std::int64_t cumulative_quantity_e8 = 0;    // 14
  std::int64_t leaves_quantity_e8 = 0;        // 151
  std::int64_t last_price_e8 = 0;             // 31
  std::int64_t price_e8 = 0;                  // 44
  LongText text;                              // 58 or the gateway's own explanation
};

// Upward callbacks. All are called on the thread that calls
// GatewaySession::poll() (the owner thread), never on QuickFIX's thread.
class GatewayListener {
public:
  virtual ~GatewayListener() = default;
  virtual void on_execution(const ExecutionEvent& event) = 0;
  virtual void on_position(const PositionEvent& event) = 0;
  virtual void on_alert(const GatewayAlert& alert) = 0;
  // A CollateralReport(BA). A no-op by default, so listeners that do not
  // care need not change.
  virtual void on_collateral(const CollateralEvent&) {}
};

class MessageLogSink;

struct GatewayConfig {
  Dialect dialect = Dialect::generic;
  std::uint16_t venue = 0; // hedging::VenueId, stamped on position events

  // Session.
  std::string sender_comp_id = "SYNTHUSD";
  std::string target_comp_id = "VENUE"; // Deribit: DERIBITSERVER
  std::string host = "127.0.0.1";
  int port = 0;
  int heartbeat_interval_seconds = 30;
  int reconnect_interval_seconds = 5;
  int logon_timeout_seconds = 10;
  bool reset_sequence_numbers_on_logon = false; // ResetSeqNumFlag(141)=Y on every logon
  Credentials credentials;
  bool cancel_on_disconnect = true; // Deribit CancelOnDisconnect(9001)

  // Message store. FileStore (production): sequence numbers and sent
  // messages survive a restart, so a resend after a crash works. MemoryStore
  // (tests, benchmarks): everything is lost on exit.
  bool file_store = true;
  std::string store_directory = "var/fix/store";

  // Message log: empty = none. Otherwise written by a background thread
  // (never the sending thread), secrets masked.
  std::string message_log_path;
  MessageLogSink* message_log_sink = nullptr; // overrides message_log_path (recorders, tests)

  // ClOrdIDs: "<prefix><counter>", the counter persisted in this file.
  std::string client_order_id_path = "var/fix/client_order_id";
  std::string client_order_id_prefix = "SU";
  std::uint64_t client_order_id_block = 1024;

  std::vector<GatewayInstrument> instruments;

  // Reconciliation: a RequestForPositions at every logon and then every this
  // many seconds (0: at logon only).
  int position_request_interval_seconds = 60;
  // Collateral: a CollateralInquiry(BB) at every logon and then every this
  // many seconds (0: at logon only), when collateral_inquiry_supported.
  // Deribit's FIX API has no CollateralInquiry (its equity comes from User
  // Request BE / User Response BF, tag 100001, which this gateway does not
  // speak): set false against Deribit. The simulator (synthusd-venue)
  // answers BB in both dialects.
  int collateral_request_interval_seconds = 60;
  bool collateral_inquiry_supported = true;
  // Account(1) on RequestForPositions (generic: always, default the
  // SenderCompID) and on CollateralInquiry (if set).
  std::string position_account;
  std::string position_party_id; // PartyID(448) of AN's Parties (generic), default the SenderCompID
  // Currency(15) of the positions and equity asked for (Deribit's AN and BE).
  std::string settlement_currency = "BTC";
  bool order_status_on_logon = true; // OrderStatusRequest(H) for every open order after a logon
  bool mass_cancel_supported = true; // OrderMassCancelRequest(q); else one cancel per open order

  // The venue's request credits, shared with pre-trade risk
  // (PreTradeRisk::set_venue_credits): null, none counted. Orders and
  // cancels spend theirs in risk, on the kernel thread; the gateway spends
  // them for its own requests (AN, BE, BB, AF, H) and defers such a request
  // while fewer than query_credit_reserve_percent of the pool would remain
  // after it (kept for orders and cancels; retried on every poll, counted).
  // A mass cancel is never deferred: it spends, into debt if need be.
  std::shared_ptr<VenueCreditBudget> request_credits;
  int query_credit_reserve_percent = 25;

  // Capacities, fixed at construction.
  std::size_t inbound_queue_capacity = 8192; // QuickFIX thread -> owner thread
  std::size_t exec_id_memory = 8192;         // ExecIDs remembered for deduplication
  std::size_t completed_order_memory = 4096; // done orders kept to recognise late reports

  // Clock for the timestamps the gateway writes (TransactTime 60,
  // ClearingBusinessDate 715), nanoseconds since the epoch; called on the
  // owner thread only. Empty: the system clock. Replay tests inject a
  // deterministic clock here.
  std::function<std::int64_t()> transact_clock;
};

struct GatewayCounters {
  std::uint64_t orders_sent = 0;
  std::uint64_t cancels_sent = 0;
  std::uint64_t replaces_sent = 0;
  std::uint64_t mass_cancels_sent = 0;
  std::uint64_t position_requests_sent = 0;
  std::uint64_t status_requests_sent = 0;
  std::uint64_t collateral_requests_sent = 0;
  std::uint64_t execution_reports = 0;
  std::uint64_t duplicate_execution_reports = 0;  // dropped: the same order and ExecID again
  std::uint64_t exec_ids_reused = 0;              // an ExecID seen before on another order: booked, counted
  std::uint64_t possible_duplicates_received = 0; // reports flagged PossDupFlag/PossResend
  // NewOrderSingles a ResendRequest asked for again: gap-filled, never
  // re-sent; each still open here gets an OrderStatusRequest instead.
  std::uint64_t application_resends_suppressed = 0;
  std::uint64_t late_reports = 0; // for orders already done, no new fill
  std::uint64_t unknown_orders = 0;
  std::uint64_t inbound_queue_waits = 0; // times QuickFIX's thread found the queue full
  std::uint64_t logon_failures = 0;      // sessions that ended before logon completed
  // Queries (AN, BE, BB, AF, H) held back because the venue's request
  // credits were short (GatewayConfig::request_credits), once per request;
  // each goes out when credits refill.
  std::uint64_t requests_deferred_for_credits = 0;
};

} // namespace fix
} // namespace synthusd
