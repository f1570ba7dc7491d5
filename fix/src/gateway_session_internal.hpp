#pragma once
// Private to the gateway session's C++14 translation units (it shows
// QuickFIX types): GatewaySession::Impl and what its parts share. See
// gateway_session.hpp for the threading model. Impl is split by concept:
//   gateway_session.cpp    construction, start/stop, poll(), the QuickFIX
//                          Application callbacks, dispatch of inbound records
//   gateway_orders.cpp     submit/replace/cancel/cancel_all (D, F, G, q, H)
//   gateway_reports.cpp    ExecutionReport, OrderCancelReject, rejects and
//                          OrderMassCancelReport: fills from CumQty, late fills
//   gateway_positions.cpp  RequestForPositions / PositionReport, and sending
//                          CollateralInquiry (gateway_collateral.cpp does the rest)
//   gateway_fields.cpp     clocks, TransactTime, reading inbound fields
//   gateway_plumbing.cpp   QuickFIX log and message store adapters
//   gateway_types.cpp      to_string() of the public enums

#include "gateway_collateral.hpp"
#include "gateway_message_fields.hpp"
#include "node_pool.hpp"
#include "synthusd/common/decimal.hpp"
#include "synthusd/fix/client_order_id.hpp"
#include "synthusd/fix/gateway_dedupe.hpp"
#include "synthusd/fix/gateway_log.hpp"
#include "synthusd/fix/gateway_session.hpp"
#include "synthusd/fix/gateway_types.hpp"

#include <quickfix/Application.h>
#include <quickfix/FieldMap.h>
#include <quickfix/FieldTypes.h>
#include <quickfix/Log.h>
#include <quickfix/MessageStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionID.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>
#include <quickfix/fix44/NewOrderSingle.h>
#include <quickfix/fix44/OrderCancelReplaceRequest.h>
#include <quickfix/fix44/OrderCancelRequest.h>

#include <boost/lockfree/spsc_queue.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

// Named rather than anonymous: these types are members of Impl, which every
// part of the session shares.
namespace gateway_detail {

constexpr std::int64_t kNanosecondsPerSecond = 1000000000;
constexpr std::int64_t kNanosecondsPerMillisecond = 1000000;
constexpr int kMillisecondPrecision = 3;
constexpr int kTagQtyType = 854;
constexpr int kTagPosReqId = 710;
constexpr int kTagPosReqType = 724;
constexpr int kTagPosReqResult = 728;
constexpr int kTagPosReqStatus = 729;
constexpr int kTagTotalNumPosReports = 727;
constexpr int kTagClearingBusinessDate = 715;
constexpr int kTagAccountType = 581;
constexpr int kTagNoPositions = 702;
constexpr int kTagNoAffectedOrders = 534;
constexpr int kTagSecondaryExecId = 527; // Deribit's id of an order change (it sends no ExecID 17)
constexpr int kTagNoFills = 1362;        // fills group (Deribit, without 9015=Y at logon)
constexpr int kTagFillPx = 1364;
constexpr int kTagFillQty = 1365;
constexpr int kTagCurrency = 15;
constexpr int kTagMassStatusReqId = 584;
constexpr int kTagMassStatusReqType = 585;
constexpr int kTagMassStatusReqIdType = 9014;    // Deribit: 1 = MassStatusReqID is a ClOrdID
constexpr std::size_t kSentMessageMemory = 1024; // MsgSeqNum -> order, for Reject(3)
constexpr std::int64_t kPositionRequestTimeoutNs = 10 * kNanosecondsPerSecond;

// gateway_fields.cpp
std::int64_t wall_clock_ns();
std::int64_t steady_clock_ns();
FIX::UtcTimeStamp to_timestamp(std::int64_t nanoseconds);

// ---- the record QuickFIX's thread hands to the owner thread ----------------

enum class InboundKind : std::uint8_t {
  execution_report,
  cancel_reject,
  business_reject,
  session_reject,
  position_entry,       // one NoPositions entry of a PositionReport
  position_report_end,  // after a PositionReport's entries
  position_request_ack, // RequestForPositionsAck
  mass_cancel_affected, // one NoAffectedOrders entry of an OrderMassCancelReport
  mass_cancel_report,
  collateral_report, // CollateralReport(BA)
  collateral_ack,    // CollateralInquiryAck(BG)
  logon,
  logout,
  unsupported,
  resend_suppressed, // an application message QuickFIX wanted to re-send (gap-filled instead)
  sequence_reset, // SequenceReset(4): reference_sequence_number its MsgSeqNum, reason its NewSeqNo, exec_type 'Y' for a
                  // gap fill
};

struct Decimal {
  std::int64_t value = 0; // scaled by 1e8
  bool present = false;
};

struct Inbound {
  InboundKind kind = InboundKind::unsupported;
  std::int64_t receive_time_ns = 0;
  std::int64_t transact_time_ns = 0;
  IdText client_order_id;          // 11
  IdText original_client_order_id; // 41
  IdText venue_order_id;           // 37
  IdText exec_id;                  // 17, else Deribit's SecondaryExecID(527)
  IdText symbol;                   // 55
  IdText reference;                // 379 BusinessRejectRefID / 710 PosReqID / an unsupported MsgType
  IdText reference_message_type;   // 372
  IdText position_type;            // 703
  char exec_type = 0;              // 150
  char order_status = 0;           // 39
  char side = 0;                   // 54
  char response_to = 0;            // 434
  int reason = -1;
  int total_reports = 0;                      // 727 TotalNumPosReports (0: absent)
  std::int64_t reference_sequence_number = 0; // 45
  int reference_tag = 0;                      // 371 RefTagID (session Reject)
  bool possible_duplicate = false;            // 43 or 97
  bool exec_id_reused = false;                // the ExecID was seen before on another order (booked, alerted)
  Decimal order_quantity;                     // 38
  Decimal last_quantity;                      // 32
  Decimal cumulative_quantity;                // 14
  Decimal leaves_quantity;                    // 151
  Decimal last_price;                         // 31
  Decimal average_price;                      // 6, rounded half to even at the 8th decimal
  Decimal price;                              // 44
  Decimal long_quantity;                      // 704
  Decimal short_quantity;                     // 705
  LongText text;                              // 58 or a parse problem
  bool malformed = false;
  // The fills group (1362) of one report: sum of FillQty (1365, scaled 1e8)
  // and of FillQty * FillPx (1364, both scaled 1e8), for the price of the
  // quantity this report adds. fills_quantity_e8 == 0: no group.
  std::int64_t fills_quantity_e8 = 0;
  __int128 fills_notional_e16 = 0;
  CollateralFields collateral; // BA, BG (909 goes in reference)
};

// gateway_fields.cpp
std::int64_t read_integer(const std::string& value);
void read_fields(const FIX::FieldMap& fields, Inbound& inbound);
void read_fills_group(const FIX::FieldMap& message, Inbound& inbound);

// ---- QuickFIX plumbing (gateway_plumbing.cpp) ------------------------------

class QueueLogFactory : public FIX::LogFactory {
public:
  explicit QueueLogFactory(AsyncMessageLog& log) : log_(log) {}
  FIX::Log* create() override;
  FIX::Log* create(const FIX::SessionID&) override;
  void destroy(FIX::Log* log) override;

private:
  AsyncMessageLog& log_;
};

class MaskingStoreFactory : public FIX::MessageStoreFactory {
public:
  explicit MaskingStoreFactory(std::unique_ptr<FIX::MessageStoreFactory> inner) : inner_(std::move(inner)) {}
  FIX::MessageStore* create(const FIX::SessionID& session) override;
  void destroy(FIX::MessageStore* store) override;

private:
  std::unique_ptr<FIX::MessageStoreFactory> inner_;
};

// ---- owner-thread order state --------------------------------------------------

enum class Pending : std::uint8_t { none, cancel, replace };

struct Order {
  std::uint64_t user_order_id = 0;
  std::size_t instrument_index = 0;
  OrderSide side = OrderSide::buy;
  OrderType type = OrderType::market;
  TimeInForce time_in_force = TimeInForce::good_till_cancel;
  bool post_only = false;
  bool reduce_only = false;
  std::int64_t quantity = 0; // contracts
  std::int64_t price_e8 = 0;
  IdText client_order_id;           // the id the order was sent with
  IdText current_client_order_id;   // generic dialect: the id of the last accepted replace
  std::vector<std::string> aliases; // every id that refers to this order (cancel/replace requests)
  std::string venue_order_id;
  Pending pending = Pending::none;
  std::string pending_client_order_id;
  std::int64_t pending_quantity = 0;
  std::int64_t pending_price_e8 = 0;
  std::int64_t filled = 0;      // contracts
  __int128 filled_notional = 0; // sum of contracts * price_e8
  bool accepted = false;
  bool done = false;
};

// Keys of the ClOrdID -> order map: inline text, so inserting one copies no
// heap string. Only ids of ours are inserted (never truncated); a truncated
// inbound id differs from every one of them.
struct IdTextHash {
  std::size_t operator()(const IdText& id) const noexcept {
    std::size_t hash = 14695981039346656037ULL; // FNV-1a
    for (std::size_t i = 0; i < id.size; ++i) {
      hash = (hash ^ static_cast<unsigned char>(id.data[i])) * 1099511628211ULL;
    }
    return hash;
  }
};
struct IdTextEqual {
  bool operator()(const IdText& left, const IdText& right) const noexcept {
    return left.size == right.size && left.truncated == right.truncated &&
           std::memcmp(left.data, right.data, left.size) == 0;
  }
};
inline IdText id_text(const std::string& text) {
  IdText id;
  id.assign(text);
  return id;
}

struct PositionEntry {
  std::string symbol;
  std::string position_type;
  std::int64_t long_e8 = 0;
  std::int64_t short_e8 = 0;
};

// The answer to our latest RequestForPositions while it comes in: which
// configured instruments its reports have listed so far. A venue lists open
// positions only (Deribit's AP, like its private/get_positions), so once the
// answer is complete an instrument it left out is flat there: liquidated,
// delivered or closed by hand. Without this, the kernel would keep counting
// a position the venue no longer holds as hedge.
struct PositionAnswer {
  std::string request; // PosReqID; empty: no answer in progress
  // The reports of this answer received, each once: by its instrument (a
  // report sent again, 721 and all, must not complete the answer early and
  // flatten what the missing report would have listed).
  std::vector<std::string> reports;
  std::vector<bool> listed;
};

} // namespace gateway_detail

using namespace gateway_detail; // NOLINT(google-build-using-namespace)

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated"

class GatewaySession::Impl : public FIX::Application {
public:
  Impl(GatewayConfig config, GatewayListener& listener);
  ~Impl() override;

  // ---- lifecycle (owner thread) ----

  void start();
  void stop(int logout_wait_ms);
  bool begin_logout();
  bool logged_on() const;
  void disconnect();
  void annotate(const std::string& note);
  void flush_log();
  GatewayCounters counters() const;
  ClientOrderIdAllocator& client_order_ids() { return ids_; }
  // gateway_orders.cpp; throws like ClientOrderIdAllocator::reserve_ahead.
  bool reserve_ahead();
  bool client_order_id_reservation_pending() const noexcept { return ids_.reservation_pending(); }
  bool has_inbound() const noexcept { return inbound_.read_available() > 0; }
  void set_inbound_notifier(GatewaySession::InboundNotifier notifier, void* context) {
    inbound_notifier_ = notifier;
    inbound_notifier_context_ = context;
  }
  void set_send_observer(GatewaySession::SendObserver observer, void* context) {
    send_observer_ = observer;
    send_observer_context_ = context;
  }
  std::size_t open_orders() const;

  // ---- requests (owner thread) ----

  SubmitResult send_order(const OrderRequest& request);
  SubmitResult cancel_order(std::uint64_t user_order_id);
  SubmitResult replace_order(std::uint64_t user_order_id, std::int64_t quantity, std::int64_t price_e8);
  SubmitResult cancel_all();
  SubmitResult request_positions();
  SubmitResult request_collateral();

  // ---- owner thread: draining the hand-off queue ----

  std::size_t poll(std::size_t max_messages);

  // ---- QuickFIX callbacks (QuickFIX's thread) ----

  void onCreate(const FIX::SessionID&) override;
  void onLogon(const FIX::SessionID&) override;
  void onLogout(const FIX::SessionID&) override;
  void toAdmin(FIX::Message& message, const FIX::SessionID&) override;
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override;
  void fromAdmin(const FIX::Message& message, const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                           FIX::IncorrectTagValue,
                                                                           FIX::RejectLogon) override;
  void fromApp(const FIX::Message& message, const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                         FIX::IncorrectTagValue,
                                                                         FIX::UnsupportedMessageType) override;

private:
  static constexpr std::size_t kNoInstrument = static_cast<std::size_t>(-1);

  static GatewayConfig validated(GatewayConfig config);
  FIX::SessionSettings make_settings() const;
  std::size_t find_instrument(std::uint16_t instrument) const;
  std::size_t find_symbol(const std::string& symbol) const;
  std::int64_t transact_now() const;
  static std::string wire_quantity(const GatewayInstrument& instrument, std::int64_t contracts);
  static std::size_t write_wire_quantity(const GatewayInstrument& instrument, std::int64_t contracts,
                                         char (&out)[common::kMaxDecimalTextSize]);
  static std::size_t new_order_shape(bool with_price, bool post_only, bool reduce_only);
  void prepare_new_orders();
  static bool to_contracts(const GatewayInstrument& instrument, std::int64_t quantity_e8, std::int64_t& contracts);
  bool fill_amend_header(FIX::FieldMap& message, const Order& order, const GatewayInstrument& instrument,
                         std::string& request_id);
  bool allocate_client_order_id(IdText& out);
  bool allocate_client_order_id(std::string& out);
  bool send(FIX::Message& message);
  static void set_or_remove(FIX::FieldMap& message, int tag, const std::string& value);
  void remember_sent(const FIX::Message& message, std::uint64_t user_order_id);
  std::uint64_t order_for_sequence(std::int64_t sequence) const;
  void add_alias(Order& order, const std::string& id);
  Order* find_open(std::uint64_t user_order_id);
  Order* find_by_client_order_id(const IdText& id);
  Order* find_order(const Inbound& inbound);
  void forget(std::uint64_t user_order_id);
  void mark_done(Order& order);
  void hand_over(const Inbound& inbound);
  GatewayAlert make_alert(AlertKind kind, std::int64_t time) const;
  GatewayAlert alert_from(AlertKind kind, const Inbound& inbound) const;
  ExecutionEvent event_for(const Order& order, ExecutionKind kind, const Inbound& inbound) const;
  void handle(const Inbound& inbound);
  void handle_logon(const Inbound& inbound);
  void note_collateral_refusal(const Inbound& inbound);
  // An order's status request (AF for Deribit, else H), deferred while the
  // venue's credits are short; _now sends it regardless.
  void send_status_request(const Order& order);
  void send_status_request_now(const Order& order);
  // Spends one query's credits from config_.request_credits, leaving the
  // reserve for orders; false when short (counted unless already_deferred).
  bool spend_query_credits(bool already_deferred);
  // The venue's credits for a request that is never deferred (mass cancel).
  void spend_request_credits();
  void retry_deferred_requests();
  void handle_resend_suppressed(const Inbound& inbound);
  void handle_sequence_reset(const Inbound& inbound);
  // Asks the status of every order not done, in id order; returns how many.
  std::size_t request_open_orders_status();
  void handle_execution_report(const Inbound& inbound);
  void apply_replace(Order& order, const Inbound& inbound, const GatewayInstrument& instrument);
  std::int64_t fill_price(const Order& order, const Inbound& inbound, const GatewayInstrument& instrument,
                          std::int64_t cumulative, std::int64_t delta) const;
  void handle_cancel_reject(const Inbound& inbound);
  void handle_business_reject(const Inbound& inbound);
  void handle_session_reject(const Inbound& inbound);
  void handle_position_report(const Inbound& report);
  void flatten_unlisted_positions(const Inbound& report, const std::string& report_key);
  void emit_position(const GatewayInstrument& instrument, std::int64_t contracts, const Inbound& report);
  void handle_position_request_ack(const Inbound& inbound);
  void handle_mass_cancel_report(const Inbound& report);

  // ---- members ----

  const GatewayConfig config_;
  const DialectRules rules_;
  GatewayListener& listener_;
  FIX::SessionID session_id_;

  // QuickFIX objects (owner thread creates and destroys them).
  std::unique_ptr<FileMessageLogSink> file_sink_;
  std::unique_ptr<AsyncMessageLog> message_log_;
  std::unique_ptr<FIX::MessageStoreFactory> store_factory_;
  std::unique_ptr<FIX::LogFactory> log_factory_;
  std::unique_ptr<FIX::SocketInitiator> initiator_;
  FIX::Session* session_ = nullptr;

  // Owner thread.
  ClientOrderIdAllocator ids_;
  // Set before start(), read on QuickFIX's thread (hand_over).
  GatewaySession::InboundNotifier inbound_notifier_ = nullptr;
  void* inbound_notifier_context_ = nullptr;
  GatewaySession::SendObserver send_observer_ = nullptr;
  void* send_observer_context_ = nullptr;
  // One prepared NewOrderSingle per shape (prepare_new_orders): with or
  // without Price(44), times the four ExecInst(18) cases (none, post-only,
  // reduce-only, both). Fields are written in place through fields_, so a
  // field never comes and goes on a message, which would allocate.
  static constexpr std::size_t kNewOrderShapes = 8;
  FIX44::NewOrderSingle new_orders_[kNewOrderShapes];
  MessageFieldWriter fields_;
  FIX44::OrderCancelRequest cancel_;
  FIX44::OrderCancelReplaceRequest replace_;
  // The order table's nodes come from free lists (node_pool.hpp), and the
  // bucket arrays are sized up front: sending an order (insert) and
  // forgetting a finished one (erase) allocate nothing once the table has
  // been this full before. The pools outlive the maps (declared first).
  static constexpr std::size_t kOrderTableBuckets = 1024;
  NodePool order_nodes_;
  NodePool order_id_nodes_;
  std::unordered_map<std::uint64_t, Order, std::hash<std::uint64_t>, std::equal_to<std::uint64_t>,
                     NodePoolAllocator<std::pair<const std::uint64_t, Order>>>
      orders_{kOrderTableBuckets, std::hash<std::uint64_t>(), std::equal_to<std::uint64_t>(),
              NodePoolAllocator<std::pair<const std::uint64_t, Order>>(order_nodes_)}; // by user order id
  // Every ClOrdID of ours -> user order id.
  std::unordered_map<IdText, std::uint64_t, IdTextHash, IdTextEqual,
                     NodePoolAllocator<std::pair<const IdText, std::uint64_t>>>
      order_ids_{kOrderTableBuckets, IdTextHash(), IdTextEqual(),
                 NodePoolAllocator<std::pair<const IdText, std::uint64_t>>(order_id_nodes_)};
  std::deque<std::uint64_t> completed_;
  std::vector<PositionEntry> position_entries_;
  std::vector<std::string> mass_cancel_affected_;
  Inbound scratch_;
  GatewayCounters counters_;
  std::uint64_t position_request_counter_ = 0;
  std::string outstanding_position_request_;
  PositionAnswer position_answer_;
  std::int64_t position_request_sent_at_ = 0;
  std::int64_t next_periodic_position_request_ = 0;
  bool reconcile_wanted_ = false;
  // Requests deferred for the venue's credits, retried on every poll.
  bool positions_deferred_ = false;
  bool collateral_deferred_ = false;
  std::vector<std::uint64_t> deferred_status_requests_; // user order ids, oldest first
  bool session_established_ = false;                    // owner thread: a logon since the last logout
  CollateralInquiries collateral_;
  std::uint64_t reported_queue_waits_ = 0;

  // Hand-off: QuickFIX's thread produces, the owner consumes.
  boost::lockfree::spsc_queue<Inbound> inbound_;
  std::mutex producer_mutex_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> logged_on_{false};
  std::atomic<std::uint64_t> queue_waits_{0};

  // QuickFIX's thread only.
  ExecIdDeduplicator dedupe_;   // (order, ExecID) pairs: what is a duplicate
  ExecIdDeduplicator exec_ids_; // ExecIDs alone: a reuse on another order is counted
  std::int64_t last_logon_ms_ = 0;
  std::mutex logout_text_mutex_;
  std::string logout_text_;
  std::atomic<std::uint64_t> duplicates_{0};
  std::atomic<std::uint64_t> possible_duplicates_{0};
  std::atomic<std::uint64_t> resends_suppressed_{0}; // application messages not re-sent (gap-filled instead)
  std::atomic<std::uint64_t> exec_ids_reused_{0};    // an ExecID seen again on another order (booked)

  // Owner thread, written after each send.
  std::vector<std::pair<std::int64_t, std::uint64_t>> sent_messages_;
};

#pragma GCC diagnostic pop

} // namespace fix
} // namespace synthusd
