// Compiled as C++14 (target synthusd_fix_quickfix): this file includes
// QuickFIX. See gateway_session.hpp for the threading model.

#include "synthusd/fix/gateway_session.hpp"

#include "gateway_collateral.hpp"
#include "gateway_dictionary.hpp"
#include "synthusd/fix/client_order_id.hpp"
#include "synthusd/fix/gateway_decimal.hpp"
#include "synthusd/fix/gateway_dedupe.hpp"
#include "synthusd/fix/gateway_log.hpp"

#include <quickfix/Application.h>
#include <quickfix/Exceptions.h>
#include <quickfix/FieldConvertors.h>
#include <quickfix/FileStore.h>
#include <quickfix/Log.h>
#include <quickfix/MessageStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>
#include <quickfix/Values.h>
#include <quickfix/fix44/CollateralInquiry.h>
#include <quickfix/fix44/NewOrderSingle.h>
#include <quickfix/fix44/OrderCancelReplaceRequest.h>
#include <quickfix/fix44/OrderCancelRequest.h>
#include <quickfix/fix44/OrderMassCancelRequest.h>
#include <quickfix/fix44/OrderStatusRequest.h>
#include <quickfix/fix44/RequestForPositions.h>

#include <boost/lockfree/spsc_queue.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace synthusd {
namespace fix {

const char* to_string(SubmitResult result) {
  switch (result) {
  case SubmitResult::sent:
    return "sent";
  case SubmitResult::not_logged_on:
    return "not_logged_on";
  case SubmitResult::unknown_instrument:
    return "unknown_instrument";
  case SubmitResult::invalid_order:
    return "invalid_order";
  case SubmitResult::duplicate_order:
    return "duplicate_order";
  case SubmitResult::unknown_order:
    return "unknown_order";
  case SubmitResult::request_pending:
    return "request_pending";
  case SubmitResult::client_order_id_failure:
    return "client_order_id_failure";
  case SubmitResult::send_failed:
    return "send_failed";
  case SubmitResult::unsupported:
    return "unsupported";
  }
  return "send_failed";
}

const char* to_string(ExecutionKind kind) {
  switch (kind) {
  case ExecutionKind::accepted:
    return "accepted";
  case ExecutionKind::partially_filled:
    return "partially_filled";
  case ExecutionKind::filled:
    return "filled";
  case ExecutionKind::canceled:
    return "canceled";
  case ExecutionKind::rejected:
    return "rejected";
  case ExecutionKind::replaced:
    return "replaced";
  }
  return "accepted";
}

const char* to_string(AlertKind kind) {
  switch (kind) {
  case AlertKind::logon:
    return "logon";
  case AlertKind::logout:
    return "logout";
  case AlertKind::unknown_order:
    return "unknown_order";
  case AlertKind::late_fill:
    return "late_fill";
  case AlertKind::cancel_reject:
    return "cancel_reject";
  case AlertKind::replace_reject:
    return "replace_reject";
  case AlertKind::business_reject:
    return "business_reject";
  case AlertKind::session_reject:
    return "session_reject";
  case AlertKind::mass_cancel_reject:
    return "mass_cancel_reject";
  case AlertKind::position_request_reject:
    return "position_request_reject";
  case AlertKind::invalid_report:
    return "invalid_report";
  case AlertKind::unsupported_message:
    return "unsupported_message";
  case AlertKind::inbound_queue_full:
    return "inbound_queue_full";
  case AlertKind::collateral_reject:
    return "collateral_reject";
  }
  return "logon";
}

namespace {

constexpr std::int64_t kNanosecondsPerSecond = 1000000000;
constexpr std::int64_t kNanosecondsPerMillisecond = 1000000;
constexpr int kMillisecondPrecision = 3;
constexpr int kTagQtyType = 854;
constexpr int kTagPosReqId = 710;
constexpr int kTagPosReqType = 724;
constexpr int kTagPosReqResult = 728;
constexpr int kTagPosReqStatus = 729;
constexpr int kTagClearingBusinessDate = 715;
constexpr int kTagAccountType = 581;
constexpr int kTagNoPositions = 702;
constexpr int kTagNoAffectedOrders = 534;
constexpr std::size_t kSentMessageMemory = 1024; // MsgSeqNum -> order, for Reject(3)
constexpr std::int64_t kPositionRequestTimeoutNs = 10 * kNanosecondsPerSecond;

std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t steady_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

FIX::UtcTimeStamp to_timestamp(std::int64_t nanoseconds) {
  std::int64_t seconds = nanoseconds / kNanosecondsPerSecond;
  std::int64_t remainder = nanoseconds % kNanosecondsPerSecond;
  if (remainder < 0) {
    seconds -= 1;
    remainder += kNanosecondsPerSecond;
  }
  return FIX::UtcTimeStamp(static_cast<time_t>(seconds), static_cast<int>(remainder / kNanosecondsPerMillisecond),
                           kMillisecondPrecision);
}

// "YYYYMMDD" (UTC) for a LocalMktDate field.
std::string business_date(std::int64_t nanoseconds) {
  const auto seconds = static_cast<std::time_t>(nanoseconds / kNanosecondsPerSecond);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::snprintf(text, sizeof text, "%04d%02d%02d", (utc.tm_year + 1900) % 10000, (utc.tm_mon + 1) % 100,
                utc.tm_mday % 100);
  return text;
}

char side_code(OrderSide side) { return side == OrderSide::buy ? FIX::Side_BUY : FIX::Side_SELL; }
char order_type_code(OrderType type) { return type == OrderType::market ? FIX::OrdType_MARKET : FIX::OrdType_LIMIT; }
char time_in_force_code(TimeInForce time_in_force) {
  switch (time_in_force) {
  case TimeInForce::day:
    return FIX::TimeInForce_DAY;
  case TimeInForce::good_till_cancel:
    return FIX::TimeInForce_GOOD_TILL_CANCEL;
  case TimeInForce::immediate_or_cancel:
    return FIX::TimeInForce_IMMEDIATE_OR_CANCEL;
  case TimeInForce::fill_or_kill:
    return FIX::TimeInForce_FILL_OR_KILL;
  }
  return FIX::TimeInForce_GOOD_TILL_CANCEL;
}

// Round half to even of numerator / denominator, denominator > 0.
std::int64_t divide_half_even(__int128 numerator, __int128 denominator) {
  __int128 quotient = numerator / denominator;
  __int128 remainder = numerator % denominator;
  if (remainder < 0) {
    remainder = -remainder;
  }
  const __int128 twice = remainder * 2;
  const int sign = numerator < 0 ? -1 : 1;
  if (twice > denominator || (twice == denominator && quotient % 2 != 0)) {
    quotient += sign;
  }
  return static_cast<std::int64_t>(quotient);
}

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
  IdText exec_id;                  // 17
  IdText symbol;                   // 55
  IdText reference;                // 379 BusinessRejectRefID / 710 PosReqID / an unsupported MsgType
  IdText reference_message_type;   // 372
  IdText position_type;            // 703
  char exec_type = 0;              // 150
  char order_status = 0;           // 39
  char side = 0;                   // 54
  char response_to = 0;            // 434
  int reason = -1;
  std::int64_t reference_sequence_number = 0; // 45
  bool possible_duplicate = false;            // 43 or 97
  Decimal order_quantity;                     // 38
  Decimal last_quantity;                      // 32
  Decimal cumulative_quantity;                // 14
  Decimal leaves_quantity;                    // 151
  Decimal last_price;                         // 31
  Decimal average_price;                      // 6
  Decimal price;                              // 44
  Decimal long_quantity;                      // 704
  Decimal short_quantity;                     // 705
  LongText text;                              // 58 or a parse problem
  bool malformed = false;
  CollateralFields collateral; // BA, BG (909 goes in reference)
};

void read_decimal(const std::string& value, int tag, Decimal& out, Inbound& inbound) {
  if (parse_decimal_e8(value, out.value)) {
    out.present = true;
  } else if (!inbound.malformed) {
    inbound.malformed = true;
    inbound.text.assign("tag " + std::to_string(tag) + " is not a decimal: " + value);
  }
}

std::int64_t read_integer(const std::string& value) {
  std::int64_t result = 0;
  if (!parse_decimal_e8(value, result) || result % kDecimalScale != 0) {
    return -1;
  }
  return result / kDecimalScale;
}

// One pass over a field map, picking the fields any report of ours may carry.
void read_fields(const FIX::FieldMap& fields, Inbound& inbound) {
  for (const FIX::FieldBase& field : fields) {
    const std::string& value = field.getString();
    switch (field.getTag()) {
    case FIX::FIELD::ClOrdID:
      inbound.client_order_id.assign(value);
      break;
    case FIX::FIELD::OrigClOrdID:
      inbound.original_client_order_id.assign(value);
      break;
    case FIX::FIELD::OrderID:
      inbound.venue_order_id.assign(value);
      break;
    case FIX::FIELD::ExecID:
      inbound.exec_id.assign(value);
      break;
    case FIX::FIELD::Symbol:
      inbound.symbol.assign(value);
      break;
    case FIX::FIELD::ExecType:
      inbound.exec_type = value.empty() ? '\0' : value[0];
      break;
    case FIX::FIELD::OrdStatus:
      inbound.order_status = value.empty() ? '\0' : value[0];
      break;
    case FIX::FIELD::Side:
      inbound.side = value.empty() ? '\0' : value[0];
      break;
    case FIX::FIELD::CxlRejResponseTo:
      inbound.response_to = value.empty() ? '\0' : value[0];
      break;
    case FIX::FIELD::OrderQty:
      read_decimal(value, FIX::FIELD::OrderQty, inbound.order_quantity, inbound);
      break;
    case FIX::FIELD::LastQty:
      read_decimal(value, FIX::FIELD::LastQty, inbound.last_quantity, inbound);
      break;
    case FIX::FIELD::CumQty:
      read_decimal(value, FIX::FIELD::CumQty, inbound.cumulative_quantity, inbound);
      break;
    case FIX::FIELD::LeavesQty:
      read_decimal(value, FIX::FIELD::LeavesQty, inbound.leaves_quantity, inbound);
      break;
    case FIX::FIELD::LastPx:
      read_decimal(value, FIX::FIELD::LastPx, inbound.last_price, inbound);
      break;
    case FIX::FIELD::AvgPx:
      read_decimal(value, FIX::FIELD::AvgPx, inbound.average_price, inbound);
      break;
    case FIX::FIELD::Price:
      read_decimal(value, FIX::FIELD::Price, inbound.price, inbound);
      break;
    case FIX::FIELD::LongQty:
      read_decimal(value, FIX::FIELD::LongQty, inbound.long_quantity, inbound);
      break;
    case FIX::FIELD::ShortQty:
      read_decimal(value, FIX::FIELD::ShortQty, inbound.short_quantity, inbound);
      break;
    case FIX::FIELD::PosType:
      inbound.position_type.assign(value);
      break;
    case FIX::FIELD::Text:
      if (!inbound.malformed) {
        inbound.text.assign(value);
      }
      break;
    case FIX::FIELD::TransactTime:
      try {
        const FIX::UtcTimeStamp time = FIX::UtcTimeStampConvertor::convert(value);
        inbound.transact_time_ns =
            static_cast<std::int64_t>(time.getTimeT()) * kNanosecondsPerSecond + time.getNanosecond();
      } catch (const std::exception&) {
        inbound.transact_time_ns = 0; // informational only
      }
      break;
    case FIX::FIELD::RefSeqNum:
      inbound.reference_sequence_number = read_integer(value);
      break;
    case FIX::FIELD::RefMsgType:
      inbound.reference_message_type.assign(value);
      break;
    case FIX::FIELD::BusinessRejectRefID:
    case kTagPosReqId:
      inbound.reference.assign(value);
      break;
    case FIX::FIELD::MassCancelResponse:
      inbound.response_to = value.empty() ? '\0' : value[0];
      break;
    case FIX::FIELD::CxlRejReason:
    case FIX::FIELD::BusinessRejectReason:
    case FIX::FIELD::SessionRejectReason:
    case FIX::FIELD::MassCancelRejectReason:
    case kTagPosReqResult:
    case kTagPosReqStatus:
    case FIX::FIELD::OrdRejReason:
      if (inbound.reason < 0 || field.getTag() == kTagPosReqStatus) {
        inbound.reason = static_cast<int>(read_integer(value));
      }
      break;
    default:
      break;
    }
  }
}

// ---- QuickFIX plumbing -------------------------------------------------------

// Hands QuickFIX's log calls to AsyncMessageLog: a copy and a push, no I/O.
class QueueLog : public FIX::Log {
public:
  explicit QueueLog(AsyncMessageLog& log) : log_(log) {}
  void clear() override {}
  void backup() override {}
  void onIncoming(const std::string& text) override { log_.push(LogDirection::incoming, text); }
  void onOutgoing(const std::string& text) override { log_.push(LogDirection::outgoing, text); }
  void onEvent(const std::string& text) override { log_.push(LogDirection::event, text); }

private:
  AsyncMessageLog& log_;
};

class QueueLogFactory : public FIX::LogFactory {
public:
  explicit QueueLogFactory(AsyncMessageLog& log) : log_(log) {}
  FIX::Log* create() override { return new QueueLog(log_); }
  FIX::Log* create(const FIX::SessionID&) override { return new QueueLog(log_); }
  void destroy(FIX::Log* log) override { delete log; }

private:
  AsyncMessageLog& log_;
};

// QuickFIX's overrides must repeat its dynamic exception specifications,
// which C++11 deprecated (and C++17 removed: hence C++14 here).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated"

// Recomputes BodyLength(9) and CheckSum(10) of a message whose body was
// edited, so QuickFIX can parse it again.
std::string reframe(const std::string& message) {
  const std::size_t length_field = message.find("\x01"
                                                "9=");
  const std::size_t body_begin =
      length_field == std::string::npos ? std::string::npos : message.find('\x01', length_field + 1);
  const std::size_t trailer = message.rfind("\x01"
                                            "10=");
  if (body_begin == std::string::npos || trailer == std::string::npos || trailer < body_begin) {
    return message;
  }
  std::string out = message.substr(0, length_field + 3) + std::to_string(trailer - body_begin) +
                    message.substr(body_begin, trailer + 1 - body_begin);
  unsigned sum = 0;
  for (unsigned char c : out) {
    sum += c;
  }
  char checksum[8];
  std::snprintf(checksum, sizeof checksum, "%03u", sum % 256);
  out += "10=";
  out += checksum;
  out += '\x01';
  return out;
}

// The store persists every sent message, Logon included. This wrapper masks
// Password and RawData in a Logon before it reaches the store, so a FileStore
// on disk never holds them. The masked Logon is re-framed (BodyLength,
// CheckSum): answering a ResendRequest, QuickFIX parses every stored message
// with length and checksum validation, then gap-fills admin messages, so an
// invalid stored Logon would abort the resend.
class MaskingStore : public FIX::MessageStore {
public:
  explicit MaskingStore(FIX::MessageStore* inner) : inner_(inner) {}
  FIX::MessageStore* inner() const { return inner_; }

  bool set(int sequence, const std::string& message) throw(FIX::IOException) override {
    if (message.find("\x01"
                     "35=A\x01") != std::string::npos) {
      std::string masked = message;
      mask_secret_fields(masked);
      return inner_->set(sequence, reframe(masked));
    }
    return inner_->set(sequence, message);
  }
  void get(int begin, int end, std::vector<std::string>& out) const throw(FIX::IOException) override {
    inner_->get(begin, end, out);
  }
  int getNextSenderMsgSeqNum() const throw(FIX::IOException) override { return inner_->getNextSenderMsgSeqNum(); }
  int getNextTargetMsgSeqNum() const throw(FIX::IOException) override { return inner_->getNextTargetMsgSeqNum(); }
  void setNextSenderMsgSeqNum(int value) throw(FIX::IOException) override { inner_->setNextSenderMsgSeqNum(value); }
  void setNextTargetMsgSeqNum(int value) throw(FIX::IOException) override { inner_->setNextTargetMsgSeqNum(value); }
  void incrNextSenderMsgSeqNum() throw(FIX::IOException) override { inner_->incrNextSenderMsgSeqNum(); }
  void incrNextTargetMsgSeqNum() throw(FIX::IOException) override { inner_->incrNextTargetMsgSeqNum(); }
  FIX::UtcTimeStamp getCreationTime() const throw(FIX::IOException) override { return inner_->getCreationTime(); }
  void reset() throw(FIX::IOException) override { inner_->reset(); }
  void refresh() throw(FIX::IOException) override { inner_->refresh(); }

private:
  FIX::MessageStore* inner_;
};

class MaskingStoreFactory : public FIX::MessageStoreFactory {
public:
  explicit MaskingStoreFactory(std::unique_ptr<FIX::MessageStoreFactory> inner) : inner_(std::move(inner)) {}
  FIX::MessageStore* create(const FIX::SessionID& session) override {
    return new MaskingStore(inner_->create(session));
  }
  void destroy(FIX::MessageStore* store) override {
    auto* masking = static_cast<MaskingStore*>(store);
    inner_->destroy(masking->inner());
    delete masking;
  }

private:
  std::unique_ptr<FIX::MessageStoreFactory> inner_;
};

#pragma GCC diagnostic pop

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
  std::string client_order_id;         // the id the order was sent with
  std::string current_client_order_id; // generic dialect: the id of the last accepted replace
  std::vector<std::string> aliases;    // every id that refers to this order (cancel/replace requests)
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

struct PositionEntry {
  std::string symbol;
  std::string position_type;
  std::int64_t long_e8 = 0;
  std::int64_t short_e8 = 0;
};

} // namespace

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated"

class GatewaySession::Impl : public FIX::Application {
public:
  Impl(GatewayConfig config, GatewayListener& listener)
      : config_(validated(std::move(config))), rules_(rules_for(config_.dialect)), listener_(listener),
        session_id_(FIX::BeginString_FIX44, config_.sender_comp_id, config_.target_comp_id),
        ids_(config_.client_order_id_path, config_.client_order_id_block), collateral_(config_),
        inbound_(config_.inbound_queue_capacity), dedupe_(config_.exec_id_memory), sent_messages_(kSentMessageMemory) {
    if (config_.message_log_sink != nullptr) {
      message_log_ = std::make_unique<AsyncMessageLog>(*config_.message_log_sink);
    } else if (!config_.message_log_path.empty()) {
      file_sink_ = std::make_unique<FileMessageLogSink>(config_.message_log_path);
      message_log_ = std::make_unique<AsyncMessageLog>(*file_sink_);
    }
    orders_.reserve(config_.completed_order_memory * 2);
    order_ids_.reserve(config_.completed_order_memory * 4);
  }

  ~Impl() override { stop(0); }

  // ---- lifecycle (owner thread) ----

  void start() {
    if (initiator_) {
      return;
    }
    FIX::SessionSettings settings = make_settings();
    std::unique_ptr<FIX::MessageStoreFactory> store;
    if (config_.file_store) {
      store = std::make_unique<FIX::FileStoreFactory>(config_.store_directory);
    } else {
      store = std::make_unique<FIX::MemoryStoreFactory>();
    }
    store_factory_ = std::make_unique<MaskingStoreFactory>(std::move(store));
    try {
      if (message_log_) {
        log_factory_ = std::make_unique<QueueLogFactory>(*message_log_);
        initiator_ = std::make_unique<FIX::SocketInitiator>(*this, *store_factory_, settings, *log_factory_);
      } else {
        // No LogFactory: QuickFIX uses its internal null log.
        initiator_ = std::make_unique<FIX::SocketInitiator>(*this, *store_factory_, settings);
      }
      session_ = initiator_->getSession(session_id_);
      if (session_ == nullptr) {
        throw std::runtime_error("QuickFIX created no session " + session_id_.toString());
      }
      session_->setDataDictionaryProvider(make_gateway_dictionary_provider());
      stopping_.store(false);
      initiator_->start();
    } catch (const FIX::ConfigError& error) {
      initiator_.reset();
      throw std::runtime_error(std::string("FIX gateway configuration: ") + error.what());
    } catch (const FIX::RuntimeError& error) {
      initiator_.reset();
      throw std::runtime_error(std::string("FIX gateway start: ") + error.what());
    }
  }

  void stop(int logout_wait_ms) {
    if (!initiator_) {
      return;
    }
    if (logged_on() && logout_wait_ms > 0) {
      session_->logout("synthusd gateway stopping");
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(logout_wait_ms);
      while (logged_on() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    stopping_.store(true);
    initiator_->stop(true);
    logged_on_.store(false, std::memory_order_release);
    initiator_.reset();
    session_ = nullptr;
    log_factory_.reset();
    store_factory_.reset();
    if (message_log_) {
      message_log_->flush();
    }
  }

  // Tracked from onLogon/onLogout rather than read from QuickFIX's session
  // state, which QuickFIX's thread writes without synchronisation.
  bool logged_on() const { return session_ != nullptr && logged_on_.load(std::memory_order_acquire); }

  void disconnect() {
    if (session_ != nullptr) {
      session_->disconnect();
    }
  }

  void annotate(const std::string& note) {
    if (message_log_) {
      message_log_->push(LogDirection::note, note);
    }
  }

  void flush_log() {
    if (message_log_) {
      message_log_->flush();
    }
  }

  GatewayCounters counters() const {
    GatewayCounters result = counters_;
    result.duplicate_execution_reports = duplicates_.load(std::memory_order_relaxed);
    result.possible_duplicates_received = possible_duplicates_.load(std::memory_order_relaxed);
    result.inbound_queue_waits = queue_waits_.load(std::memory_order_relaxed);
    return result;
  }

  std::size_t open_orders() const {
    std::size_t open = 0;
    for (const auto& entry : orders_) {
      open += entry.second.done ? 0 : 1;
    }
    return open;
  }

  // ---- requests (owner thread) ----

  SubmitResult send_order(const OrderRequest& request) {
    if (!logged_on()) {
      return SubmitResult::not_logged_on;
    }
    const std::size_t instrument_index = find_instrument(request.instrument);
    if (instrument_index == kNoInstrument) {
      return SubmitResult::unknown_instrument;
    }
    if (request.quantity <= 0 || request.user_order_id == 0 ||
        (request.type == OrderType::limit && request.price_e8 <= 0)) {
      return SubmitResult::invalid_order;
    }
    auto existing = orders_.find(request.user_order_id);
    if (existing != orders_.end()) {
      if (!existing->second.done) {
        return SubmitResult::duplicate_order;
      }
      forget(existing->second.user_order_id);
    }
    std::string client_order_id;
    if (!allocate_client_order_id(client_order_id)) {
      return SubmitResult::client_order_id_failure;
    }
    const GatewayInstrument& instrument = config_.instruments[instrument_index];

    FIX44::NewOrderSingle& message = new_order_;
    message.setField(FIX::FIELD::ClOrdID, client_order_id);
    message.setField(FIX::Side(side_code(request.side)));
    message.setField(FIX::TransactTime(to_timestamp(transact_now()), kMillisecondPrecision));
    message.setField(FIX::OrdType(order_type_code(request.type)));
    message.setField(FIX::FIELD::Symbol, instrument.symbol);
    message.setField(FIX::FIELD::OrderQty, wire_quantity(instrument, request.quantity));
    if (request.type == OrderType::limit) {
      message.setField(FIX::FIELD::Price, format_decimal_e8(request.price_e8));
    } else {
      message.removeField(FIX::FIELD::Price);
    }
    message.setField(FIX::TimeInForce(time_in_force_code(request.time_in_force)));
    const std::string instructions = exec_inst(config_.dialect, request.post_only, request.reduce_only);
    if (instructions.empty()) {
      message.removeField(FIX::FIELD::ExecInst);
    } else {
      message.setField(FIX::FIELD::ExecInst, instructions);
    }
    if (rules_.order_quantity_in_units) {
      message.setField(kTagQtyType, "0"); // Units: OrderQty is in USD
    }
    if (!send(message)) {
      return SubmitResult::send_failed;
    }
    ++counters_.orders_sent;

    Order order;
    order.user_order_id = request.user_order_id;
    order.instrument_index = instrument_index;
    order.side = request.side;
    order.type = request.type;
    order.time_in_force = request.time_in_force;
    order.post_only = request.post_only;
    order.reduce_only = request.reduce_only;
    order.quantity = request.quantity;
    order.price_e8 = request.type == OrderType::limit ? request.price_e8 : 0;
    order.client_order_id = client_order_id;
    order.current_client_order_id = client_order_id;
    remember_sent(message, request.user_order_id);
    Order& stored = orders_[request.user_order_id];
    stored = std::move(order);
    order_ids_[stored.client_order_id] = stored.user_order_id;
    return SubmitResult::sent;
  }

  SubmitResult cancel_order(std::uint64_t user_order_id) {
    if (!logged_on()) {
      return SubmitResult::not_logged_on;
    }
    Order* order = find_open(user_order_id);
    if (order == nullptr) {
      return SubmitResult::unknown_order;
    }
    if (order->pending != Pending::none) {
      return SubmitResult::request_pending;
    }
    const GatewayInstrument& instrument = config_.instruments[order->instrument_index];
    std::string request_id;
    FIX44::OrderCancelRequest& message = cancel_;
    if (!fill_amend_header(message, *order, instrument, request_id)) {
      return SubmitResult::client_order_id_failure;
    }
    message.setField(FIX::FIELD::OrderQty, wire_quantity(instrument, order->quantity));
    message.setField(FIX::TransactTime(to_timestamp(transact_now()), kMillisecondPrecision));
    if (!send(message)) {
      return SubmitResult::send_failed;
    }
    ++counters_.cancels_sent;
    order->pending = Pending::cancel;
    order->pending_client_order_id = request_id;
    add_alias(*order, request_id);
    return SubmitResult::sent;
  }

  SubmitResult replace_order(std::uint64_t user_order_id, std::int64_t quantity, std::int64_t price_e8) {
    if (!logged_on()) {
      return SubmitResult::not_logged_on;
    }
    Order* order = find_open(user_order_id);
    if (order == nullptr) {
      return SubmitResult::unknown_order;
    }
    if (order->type != OrderType::limit || quantity <= 0 || price_e8 <= 0) {
      return SubmitResult::invalid_order;
    }
    if (order->pending != Pending::none) {
      return SubmitResult::request_pending;
    }
    const GatewayInstrument& instrument = config_.instruments[order->instrument_index];
    std::string request_id;
    FIX44::OrderCancelReplaceRequest& message = replace_;
    if (!fill_amend_header(message, *order, instrument, request_id)) {
      return SubmitResult::client_order_id_failure;
    }
    message.setField(FIX::FIELD::OrderQty, wire_quantity(instrument, quantity));
    message.setField(FIX::OrdType(order_type_code(order->type)));
    message.setField(FIX::FIELD::Price, format_decimal_e8(price_e8));
    message.setField(FIX::TimeInForce(time_in_force_code(order->time_in_force)));
    const std::string instructions = exec_inst(config_.dialect, order->post_only, order->reduce_only);
    set_or_remove(message, FIX::FIELD::ExecInst, instructions);
    if (rules_.order_quantity_in_units) {
      message.setField(kTagQtyType, "0");
    }
    message.setField(FIX::TransactTime(to_timestamp(transact_now()), kMillisecondPrecision));
    if (!send(message)) {
      return SubmitResult::send_failed;
    }
    ++counters_.replaces_sent;
    order->pending = Pending::replace;
    order->pending_client_order_id = request_id;
    order->pending_quantity = quantity;
    order->pending_price_e8 = price_e8;
    add_alias(*order, request_id);
    return SubmitResult::sent;
  }

  SubmitResult cancel_all() {
    if (!logged_on()) {
      return SubmitResult::not_logged_on;
    }
    if (config_.mass_cancel_supported) {
      std::string request_id;
      if (!allocate_client_order_id(request_id)) {
        return SubmitResult::client_order_id_failure;
      }
      FIX44::OrderMassCancelRequest message;
      message.setField(FIX::FIELD::ClOrdID, request_id);
      message.setField(FIX::MassCancelRequestType(FIX::MassCancelRequestType_CANCEL_ALL_ORDERS));
      message.setField(FIX::TransactTime(to_timestamp(transact_now()), kMillisecondPrecision));
      if (!send(message)) {
        return SubmitResult::send_failed;
      }
      ++counters_.mass_cancels_sent;
      return SubmitResult::sent;
    }
    // One cancel per open order, in user order id order so the sequence of
    // messages is deterministic (the replay test depends on it).
    std::vector<std::uint64_t> open;
    for (const auto& entry : orders_) {
      if (!entry.second.done && entry.second.pending != Pending::cancel) {
        open.push_back(entry.first);
      }
    }
    std::sort(open.begin(), open.end());
    SubmitResult result = SubmitResult::sent;
    for (std::uint64_t id : open) {
      const SubmitResult one = cancel_order(id);
      if (one != SubmitResult::sent && one != SubmitResult::request_pending) {
        result = one;
      }
    }
    return result;
  }

  SubmitResult request_positions() {
    if (!logged_on()) {
      return SubmitResult::not_logged_on;
    }
    const std::int64_t now = transact_now();
    const std::string request_id = config_.client_order_id_prefix + "P" + std::to_string(++position_request_counter_);
    FIX44::RequestForPositions message;
    message.setField(kTagPosReqId, request_id);
    message.setField(kTagPosReqType, "0");                      // positions
    message.setField(FIX::FIELD::SubscriptionRequestType, "0"); // snapshot
    if (rules_.position_request_with_business_date) {
      if (!config_.position_account.empty()) {
        message.setField(FIX::FIELD::Account, config_.position_account);
        message.setField(kTagAccountType, "1"); // account carried on the books
      }
      message.setField(kTagClearingBusinessDate, business_date(now));
      message.setField(FIX::TransactTime(to_timestamp(now), kMillisecondPrecision));
    }
    if (!send(message)) {
      return SubmitResult::send_failed;
    }
    ++counters_.position_requests_sent;
    outstanding_position_request_ = request_id;
    position_request_sent_at_ = steady_clock_ns();
    next_periodic_position_request_ =
        position_request_sent_at_ +
        static_cast<std::int64_t>(config_.position_request_interval_seconds) * kNanosecondsPerSecond;
    return SubmitResult::sent;
  }

  // CollateralInquiry(BB); see gateway_collateral.hpp.
  SubmitResult request_collateral() {
    if (!logged_on()) {
      return SubmitResult::not_logged_on;
    }
    if (!collateral_.supported()) {
      return SubmitResult::unsupported;
    }
    FIX44::CollateralInquiry message;
    const std::string inquiry_id = collateral_.prepare(message);
    if (!send(message)) {
      return SubmitResult::send_failed;
    }
    ++counters_.collateral_requests_sent;
    collateral_.sent(inquiry_id, steady_clock_ns());
    return SubmitResult::sent;
  }

  // ---- owner thread: draining the hand-off queue ----

  std::size_t poll(std::size_t max_messages) {
    std::size_t handled = 0;
    while (handled < max_messages && inbound_.pop(scratch_)) {
      ++handled;
      handle(scratch_);
    }
    const std::uint64_t waits = queue_waits_.load(std::memory_order_relaxed);
    if (waits != reported_queue_waits_) {
      reported_queue_waits_ = waits;
      GatewayAlert alert = make_alert(AlertKind::inbound_queue_full, wall_clock_ns());
      alert.text.assign("QuickFIX's thread waited for room in the inbound queue " + std::to_string(waits) +
                        " times; poll() more often or raise inbound_queue_capacity");
      listener_.on_alert(alert);
    }
    if (logged_on()) {
      const std::int64_t now = steady_clock_ns();
      if (!outstanding_position_request_.empty() && now - position_request_sent_at_ > kPositionRequestTimeoutNs) {
        outstanding_position_request_.clear(); // the venue never answered; allow another
      }
      if (reconcile_wanted_ && outstanding_position_request_.empty()) {
        reconcile_wanted_ = false;
        request_positions();
      } else if (config_.position_request_interval_seconds > 0 && now >= next_periodic_position_request_ &&
                 next_periodic_position_request_ != 0) {
        request_positions();
      }
      if (collateral_.due(now)) {
        request_collateral();
      }
    }
    return handled;
  }

  // ---- QuickFIX callbacks (QuickFIX's thread) ----

  void onCreate(const FIX::SessionID&) override {}

  void onLogon(const FIX::SessionID&) override {
    logged_on_.store(true, std::memory_order_release);
    Inbound inbound;
    inbound.kind = InboundKind::logon;
    inbound.receive_time_ns = wall_clock_ns();
    hand_over(inbound);
  }

  void onLogout(const FIX::SessionID&) override {
    logged_on_.store(false, std::memory_order_release);
    Inbound inbound;
    inbound.kind = InboundKind::logout;
    inbound.receive_time_ns = wall_clock_ns();
    {
      std::lock_guard<std::mutex> lock(logout_text_mutex_);
      inbound.text.assign(logout_text_);
      logout_text_.clear();
    }
    hand_over(inbound);
  }

  void toAdmin(FIX::Message& message, const FIX::SessionID&) override {
    const std::string& type = message.getHeader().getField(FIX::FIELD::MsgType);
    if (type != FIX::MsgType_Logon) {
      return;
    }
    // Deribit wants a strictly increasing timestamp in RawData.
    std::int64_t now_ms = wall_clock_ns() / kNanosecondsPerMillisecond;
    if (now_ms <= last_logon_ms_) {
      now_ms = last_logon_ms_ + 1;
    }
    last_logon_ms_ = now_ms;
    try {
      const std::vector<TagValue> fields =
          logon_fields(config_.dialect, config_.credentials, now_ms, config_.cancel_on_disconnect);
      for (const TagValue& field : fields) {
        message.setField(field.tag, field.value);
      }
    } catch (const std::exception& error) {
      // toAdmin cannot refuse; the venue will reject the logon. Say why.
      Inbound inbound;
      inbound.kind = InboundKind::logout;
      inbound.receive_time_ns = wall_clock_ns();
      inbound.text.assign(std::string("cannot build logon: ") + error.what());
      hand_over(inbound);
    }
  }

  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}

  void fromAdmin(const FIX::Message& message, const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                           FIX::IncorrectTagValue,
                                                                           FIX::RejectLogon) override {
    const std::string& type = message.getHeader().getField(FIX::FIELD::MsgType);
    if (type == FIX::MsgType_Logout) {
      if (message.isSetField(FIX::FIELD::Text)) {
        std::lock_guard<std::mutex> lock(logout_text_mutex_);
        logout_text_ = message.getField(FIX::FIELD::Text);
      }
    } else if (type == FIX::MsgType_Reject) {
      Inbound inbound;
      inbound.kind = InboundKind::session_reject;
      inbound.receive_time_ns = wall_clock_ns();
      read_fields(message, inbound);
      hand_over(inbound);
    }
  }

  void fromApp(const FIX::Message& message, const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                         FIX::IncorrectTagValue,
                                                                         FIX::UnsupportedMessageType) override {
    const std::int64_t now = wall_clock_ns();
    const FIX::Header& header = message.getHeader();
    const std::string& type = header.getField(FIX::FIELD::MsgType);
    Inbound inbound;
    inbound.receive_time_ns = now;
    if (type == FIX::MsgType_ExecutionReport) {
      inbound.kind = InboundKind::execution_report;
      read_fields(message, inbound);
      inbound.possible_duplicate =
          header.isSetField(FIX::FIELD::PossDupFlag) && header.getField(FIX::FIELD::PossDupFlag) == "Y";
      inbound.possible_duplicate = inbound.possible_duplicate || (header.isSetField(FIX::FIELD::PossResend) &&
                                                                  header.getField(FIX::FIELD::PossResend) == "Y");
      if (inbound.possible_duplicate) {
        possible_duplicates_.fetch_add(1, std::memory_order_relaxed);
      }
      // Order-status reports (ExecType I) answer our own requests and carry
      // no new fill, so they are never dropped as duplicates.
      if (!inbound.exec_id.empty() && inbound.exec_type != FIX::ExecType_ORDER_STATUS &&
          !dedupe_.insert(inbound.exec_id.data, inbound.exec_id.size)) {
        duplicates_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      hand_over(inbound);
    } else if (type == FIX::MsgType_OrderCancelReject) {
      inbound.kind = InboundKind::cancel_reject;
      read_fields(message, inbound);
      hand_over(inbound);
    } else if (type == FIX::MsgType_BusinessMessageReject) {
      inbound.kind = InboundKind::business_reject;
      read_fields(message, inbound);
      hand_over(inbound);
    } else if (type == FIX::MsgType_PositionReport) {
      read_fields(message, inbound); // 710, 728, 55 at body level
      const std::size_t entries = message.groupCount(kTagNoPositions);
      for (std::size_t i = 1; i <= entries; ++i) {
        Inbound entry = inbound;
        entry.kind = InboundKind::position_entry;
        read_fields(message.getGroupRef(static_cast<int>(i), kTagNoPositions), entry);
        hand_over(entry);
      }
      inbound.kind = InboundKind::position_report_end;
      hand_over(inbound);
    } else if (type == FIX::MsgType_RequestForPositionsAck) {
      inbound.kind = InboundKind::position_request_ack;
      read_fields(message, inbound);
      hand_over(inbound);
    } else if (type == FIX::MsgType_CollateralReport || type == FIX::MsgType_CollateralInquiryAck) {
      inbound.kind =
          type == FIX::MsgType_CollateralReport ? InboundKind::collateral_report : InboundKind::collateral_ack;
      read_fields(message, inbound); // 58
      read_collateral_fields(message, inbound.collateral, inbound.reference, inbound.text);
      hand_over(inbound);
    } else if (type == FIX::MsgType_OrderMassCancelReport) {
      read_fields(message, inbound);
      const std::size_t entries = message.groupCount(kTagNoAffectedOrders);
      for (std::size_t i = 1; i <= entries; ++i) {
        Inbound entry;
        entry.kind = InboundKind::mass_cancel_affected;
        entry.receive_time_ns = now;
        read_fields(message.getGroupRef(static_cast<int>(i), kTagNoAffectedOrders), entry);
        hand_over(entry);
      }
      inbound.kind = InboundKind::mass_cancel_report;
      hand_over(inbound);
    } else {
      inbound.kind = InboundKind::unsupported;
      inbound.reference.assign(type);
      hand_over(inbound);
      throw FIX::UnsupportedMessageType(); // QuickFIX answers with a BusinessMessageReject
    }
  }

private:
  static constexpr std::size_t kNoInstrument = static_cast<std::size_t>(-1);

  static GatewayConfig validated(GatewayConfig config) {
    if (config.sender_comp_id.empty() || config.target_comp_id.empty()) {
      throw std::invalid_argument("FIX gateway: sender_comp_id and target_comp_id are required");
    }
    if (config.port <= 0 || config.port > 65535) {
      throw std::invalid_argument("FIX gateway: port " + std::to_string(config.port) + " is not a TCP port");
    }
    if (config.instruments.empty()) {
      throw std::invalid_argument("FIX gateway: no instruments configured");
    }
    for (const GatewayInstrument& instrument : config.instruments) {
      if (instrument.symbol.empty() || instrument.order_quantity_multiplier <= 0 ||
          instrument.report_quantity_multiplier <= 0) {
        throw std::invalid_argument("FIX gateway: instrument " + std::to_string(instrument.instrument) +
                                    " needs a symbol and positive quantity multipliers");
      }
    }
    if (config.dialect == Dialect::deribit &&
        (config.credentials.client_id.empty() || config.credentials.client_secret.empty())) {
      throw std::invalid_argument("FIX gateway: the Deribit dialect needs a client id and secret");
    }
    if (config.heartbeat_interval_seconds <= 0 || config.reconnect_interval_seconds <= 0) {
      throw std::invalid_argument("FIX gateway: heartbeat and reconnect intervals must be positive");
    }
    if (config.collateral_request_interval_seconds < 0) {
      throw std::invalid_argument("FIX gateway: collateral_request_interval_seconds must not be negative");
    }
    if (config.inbound_queue_capacity == 0 || config.completed_order_memory == 0) {
      throw std::invalid_argument("FIX gateway: queue and memory capacities must be positive");
    }
    return config;
  }

  FIX::SessionSettings make_settings() const {
    FIX::Dictionary defaults;
    defaults.setString(FIX::CONNECTION_TYPE, "initiator");
    // SocketInitiator reads SocketNodelay from [DEFAULT] only.
    defaults.setBool(FIX::SOCKET_NODELAY, true);
    defaults.setInt(FIX::RECONNECT_INTERVAL, config_.reconnect_interval_seconds);
    FIX::Dictionary session;
    session.setString(FIX::BEGINSTRING, FIX::BeginString_FIX44);
    session.setString(FIX::SENDERCOMPID, config_.sender_comp_id);
    session.setString(FIX::TARGETCOMPID, config_.target_comp_id);
    session.setString(FIX::SOCKET_CONNECT_HOST, config_.host);
    session.setInt(FIX::SOCKET_CONNECT_PORT, config_.port);
    session.setInt(FIX::HEARTBTINT, config_.heartbeat_interval_seconds);
    session.setInt(FIX::LOGON_TIMEOUT, config_.logon_timeout_seconds);
    session.setString(FIX::START_TIME, "00:00:00");
    session.setString(FIX::END_TIME, "00:00:00");
    session.setBool(FIX::USE_DATA_DICTIONARY, false); // our group-only dictionary is set on the session
    session.setBool(FIX::RESET_ON_LOGON, config_.reset_sequence_numbers_on_logon);
    session.setBool(FIX::RESET_ON_LOGOUT, false);
    session.setBool(FIX::RESET_ON_DISCONNECT, false);
    session.setBool(FIX::CHECK_LATENCY, false); // venues' clocks differ; Deribit ignores SendingTime
    session.setBool(FIX::PERSIST_MESSAGES, true);
    session.setInt(FIX::TIMESTAMP_PRECISION, kMillisecondPrecision);
    if (config_.file_store) {
      session.setString(FIX::FILE_STORE_PATH, config_.store_directory);
    }
    FIX::SessionSettings settings;
    settings.set(defaults);
    settings.set(session_id_, session);
    return settings;
  }

  std::size_t find_instrument(std::uint16_t instrument) const {
    for (std::size_t i = 0; i < config_.instruments.size(); ++i) {
      if (config_.instruments[i].instrument == instrument) {
        return i;
      }
    }
    return kNoInstrument;
  }

  std::size_t find_symbol(const std::string& symbol) const {
    for (std::size_t i = 0; i < config_.instruments.size(); ++i) {
      if (config_.instruments[i].symbol == symbol) {
        return i;
      }
    }
    return kNoInstrument;
  }

  std::int64_t transact_now() const { return config_.transact_clock ? config_.transact_clock() : wall_clock_ns(); }

  static std::string wire_quantity(const GatewayInstrument& instrument, std::int64_t contracts) {
    return std::to_string(contracts * instrument.order_quantity_multiplier);
  }

  // Contracts from a reported quantity; false if it is not a whole number of
  // contracts (the caller raises invalid_report and rounds toward zero).
  static bool to_contracts(const GatewayInstrument& instrument, std::int64_t quantity_e8, std::int64_t& contracts) {
    const __int128 divisor = static_cast<__int128>(kDecimalScale) * instrument.report_quantity_multiplier;
    contracts = static_cast<std::int64_t>(quantity_e8 / divisor);
    return quantity_e8 % divisor == 0;
  }

  // The identifying fields cancel and replace share, in the same order for
  // both. Deribit-style venues amend under the order's own ClOrdID; FIX 4.4
  // proper gives the request a new ClOrdID and names the order in
  // OrigClOrdID. False when no new ClOrdID could be allocated.
  bool fill_amend_header(FIX::FieldMap& message, const Order& order, const GatewayInstrument& instrument,
                         std::string& request_id) {
    if (rules_.amend_with_original_client_order_id) {
      request_id = order.client_order_id;
      message.removeField(FIX::FIELD::OrigClOrdID);
    } else {
      if (!allocate_client_order_id(request_id)) {
        return false;
      }
      message.setField(FIX::FIELD::OrigClOrdID, order.current_client_order_id);
    }
    message.setField(FIX::FIELD::ClOrdID, request_id);
    set_or_remove(message, FIX::FIELD::OrderID, order.venue_order_id);
    message.setField(FIX::Side(side_code(order.side)));
    message.setField(FIX::FIELD::Symbol, instrument.symbol);
    return true;
  }

  bool allocate_client_order_id(std::string& out) {
    try {
      out = format_client_order_id(config_.client_order_id_prefix, ids_.next());
      return true;
    } catch (const std::exception& error) {
      GatewayAlert alert = make_alert(AlertKind::invalid_report, wall_clock_ns());
      alert.text.assign(error.what());
      listener_.on_alert(alert);
      return false;
    }
  }

  bool send(FIX::Message& message) {
    try {
      return session_ != nullptr && session_->send(message);
    } catch (const std::exception& error) {
      GatewayAlert alert = make_alert(AlertKind::invalid_report, wall_clock_ns());
      alert.text.assign(std::string("send failed: ") + error.what());
      listener_.on_alert(alert);
      return false;
    }
  }

  static void set_or_remove(FIX::FieldMap& message, int tag, const std::string& value) {
    if (value.empty()) {
      message.removeField(tag);
    } else {
      message.setField(tag, value);
    }
  }

  void remember_sent(const FIX::Message& message, std::uint64_t user_order_id) {
    const FIX::Header& header = message.getHeader();
    if (!header.isSetField(FIX::FIELD::MsgSeqNum)) {
      return;
    }
    const std::int64_t sequence = read_integer(header.getField(FIX::FIELD::MsgSeqNum));
    sent_messages_[static_cast<std::size_t>(sequence) % sent_messages_.size()] =
        std::make_pair(sequence, user_order_id);
  }

  std::uint64_t order_for_sequence(std::int64_t sequence) const {
    if (sequence <= 0) {
      return 0;
    }
    const std::pair<std::int64_t, std::uint64_t>& entry =
        sent_messages_[static_cast<std::size_t>(sequence) % sent_messages_.size()];
    return entry.first == sequence ? entry.second : 0;
  }

  void add_alias(Order& order, const std::string& id) {
    if (id == order.client_order_id) {
      return;
    }
    order.aliases.push_back(id);
    order_ids_[id] = order.user_order_id;
  }

  Order* find_open(std::uint64_t user_order_id) {
    auto it = orders_.find(user_order_id);
    return it == orders_.end() || it->second.done ? nullptr : &it->second;
  }

  Order* find_by_client_order_id(const IdText& id) {
    if (id.empty()) {
      return nullptr;
    }
    auto it = order_ids_.find(id.str());
    if (it == order_ids_.end()) {
      return nullptr;
    }
    auto order = orders_.find(it->second);
    return order == orders_.end() ? nullptr : &order->second;
  }

  // Our ClOrdID is in 11 for a generic venue, in 41 for Deribit (which puts
  // its own id in 11) and for generic cancel/replace answers whose 11 is new.
  Order* find_order(const Inbound& inbound) {
    Order* order = find_by_client_order_id(inbound.client_order_id);
    return order != nullptr ? order : find_by_client_order_id(inbound.original_client_order_id);
  }

  void forget(std::uint64_t user_order_id) {
    auto it = orders_.find(user_order_id);
    if (it == orders_.end()) {
      return;
    }
    order_ids_.erase(it->second.client_order_id);
    for (const std::string& alias : it->second.aliases) {
      order_ids_.erase(alias);
    }
    orders_.erase(it);
  }

  void mark_done(Order& order) {
    if (order.done) {
      return;
    }
    order.done = true;
    order.pending = Pending::none;
    completed_.push_back(order.user_order_id);
    while (completed_.size() > config_.completed_order_memory) {
      const std::uint64_t oldest = completed_.front();
      completed_.pop_front();
      auto it = orders_.find(oldest);
      if (it != orders_.end() && it->second.done) {
        forget(oldest);
      }
    }
  }

  void hand_over(const Inbound& inbound) {
    std::lock_guard<std::mutex> lock(producer_mutex_);
    if (inbound_.push(inbound)) {
      return;
    }
    queue_waits_.fetch_add(1, std::memory_order_relaxed);
    while (!inbound_.push(inbound)) {
      if (stopping_.load(std::memory_order_relaxed)) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  GatewayAlert make_alert(AlertKind kind, std::int64_t time) const {
    GatewayAlert alert;
    alert.kind = kind;
    alert.receive_time_ns = time;
    return alert;
  }

  GatewayAlert alert_from(AlertKind kind, const Inbound& inbound) const {
    GatewayAlert alert = make_alert(kind, inbound.receive_time_ns);
    alert.client_order_id = inbound.client_order_id;
    alert.original_client_order_id = inbound.original_client_order_id;
    alert.venue_order_id = inbound.venue_order_id;
    alert.exec_id = inbound.exec_id;
    alert.symbol = inbound.symbol;
    alert.reference = inbound.reference;
    alert.reference_message_type = inbound.reference_message_type;
    alert.exec_type = inbound.exec_type;
    alert.order_status = inbound.order_status;
    alert.side = inbound.side;
    alert.reason = inbound.reason;
    alert.reference_sequence_number = inbound.reference_sequence_number;
    alert.order_quantity_e8 = inbound.order_quantity.value;
    alert.last_quantity_e8 = inbound.last_quantity.value;
    alert.cumulative_quantity_e8 = inbound.cumulative_quantity.value;
    alert.leaves_quantity_e8 = inbound.leaves_quantity.value;
    alert.last_price_e8 = inbound.last_price.value;
    alert.price_e8 = inbound.price.value;
    alert.text = inbound.text;
    return alert;
  }

  ExecutionEvent event_for(const Order& order, ExecutionKind kind, const Inbound& inbound) const {
    ExecutionEvent event;
    event.user_order_id = order.user_order_id;
    event.instrument = config_.instruments[order.instrument_index].instrument;
    event.kind = kind;
    event.side = order.side;
    event.cumulative_quantity = order.filled;
    event.order_quantity = order.quantity;
    event.price_e8 = order.price_e8;
    event.receive_time_ns = inbound.receive_time_ns;
    event.transact_time_ns = inbound.transact_time_ns;
    event.exec_type = inbound.exec_type;
    event.order_status = inbound.order_status;
    event.client_order_id.assign(order.client_order_id);
    event.venue_order_id = inbound.venue_order_id;
    event.exec_id = inbound.exec_id;
    event.text = inbound.text;
    return event;
  }

  void handle(const Inbound& inbound) {
    switch (inbound.kind) {
    case InboundKind::execution_report:
      ++counters_.execution_reports;
      handle_execution_report(inbound);
      break;
    case InboundKind::cancel_reject:
      handle_cancel_reject(inbound);
      break;
    case InboundKind::business_reject:
      note_collateral_refusal(inbound);
      handle_business_reject(inbound);
      break;
    case InboundKind::session_reject:
      note_collateral_refusal(inbound);
      handle_session_reject(inbound);
      break;
    case InboundKind::position_entry:
      position_entries_.push_back(PositionEntry{inbound.symbol.str(), inbound.position_type.str(),
                                                inbound.long_quantity.value, inbound.short_quantity.value});
      break;
    case InboundKind::position_report_end:
      handle_position_report(inbound);
      break;
    case InboundKind::position_request_ack:
      handle_position_request_ack(inbound);
      break;
    case InboundKind::mass_cancel_affected:
      mass_cancel_affected_.push_back(inbound.original_client_order_id.str());
      break;
    case InboundKind::mass_cancel_report:
      handle_mass_cancel_report(inbound);
      break;
    case InboundKind::collateral_report:
      collateral_.on_report(inbound.collateral, inbound.reference, inbound.text, inbound.malformed,
                            inbound.receive_time_ns, listener_);
      break;
    case InboundKind::collateral_ack:
      collateral_.on_ack(inbound.collateral, inbound.reference, inbound.text, inbound.malformed,
                         inbound.receive_time_ns, listener_);
      break;
    case InboundKind::logon:
      handle_logon(inbound);
      break;
    case InboundKind::logout: {
      outstanding_position_request_.clear();
      collateral_.reset();
      GatewayAlert alert = make_alert(AlertKind::logout, inbound.receive_time_ns);
      alert.text = inbound.text;
      listener_.on_alert(alert);
      break;
    }
    case InboundKind::unsupported: {
      GatewayAlert alert = make_alert(AlertKind::unsupported_message, inbound.receive_time_ns);
      alert.reference = inbound.reference;
      alert.text.assign("unsupported application message type " + inbound.reference.str());
      listener_.on_alert(alert);
      break;
    }
    }
  }

  void handle_logon(const Inbound& inbound) {
    GatewayAlert alert = make_alert(AlertKind::logon, inbound.receive_time_ns);
    alert.text.assign(session_id_.toString());
    listener_.on_alert(alert);
    // Reconcile: where do we stand after (re)connecting?
    outstanding_position_request_.clear();
    reconcile_wanted_ = false;
    request_positions();
    collateral_.reset();
    if (collateral_.supported()) {
      request_collateral();
    }
    if (config_.order_status_on_logon) {
      std::vector<std::uint64_t> open;
      for (const auto& entry : orders_) {
        if (!entry.second.done) {
          open.push_back(entry.first);
        }
      }
      std::sort(open.begin(), open.end()); // deterministic message order
      for (std::uint64_t id : open) {
        send_status_request(orders_[id]);
      }
    }
  }

  // A venue that rejects CollateralInquiry outright is not asked again
  // periodically until the next logon; the reject itself is alerted.
  void note_collateral_refusal(const Inbound& inbound) {
    if (inbound.reference_message_type.equals(FIX::MsgType_CollateralInquiry)) {
      collateral_.refused();
    }
  }

  void send_status_request(const Order& order) {
    const GatewayInstrument& instrument = config_.instruments[order.instrument_index];
    FIX44::OrderStatusRequest message;
    message.setField(FIX::FIELD::ClOrdID, order.current_client_order_id);
    set_or_remove(message, FIX::FIELD::OrderID, order.venue_order_id);
    message.setField(FIX::Side(side_code(order.side)));
    message.setField(FIX::FIELD::Symbol, instrument.symbol);
    if (send(message)) {
      ++counters_.status_requests_sent;
    }
  }

  void handle_execution_report(const Inbound& inbound) {
    Order* order = find_order(inbound);
    if (order == nullptr) {
      ++counters_.unknown_orders;
      GatewayAlert alert = alert_from(AlertKind::unknown_order, inbound);
      listener_.on_alert(alert);
      reconcile_wanted_ = true; // a RequestForPositions books whatever it did
      return;
    }
    const GatewayInstrument& instrument = config_.instruments[order->instrument_index];
    if (inbound.malformed) {
      GatewayAlert alert = alert_from(AlertKind::invalid_report, inbound);
      alert.user_order_id = order->user_order_id;
      listener_.on_alert(alert);
      reconcile_wanted_ = true;
      return;
    }
    if (!inbound.venue_order_id.empty()) {
      order->venue_order_id = inbound.venue_order_id.str();
    }

    // Fills come from CumQty (ExecType F with only LastQty is summed): a report
    // seen twice, or a status report after a fill, books nothing twice, and a
    // status report after a missed fill books what was missed.
    std::int64_t cumulative = order->filled;
    bool quantity_exact = true;
    if (inbound.cumulative_quantity.present) {
      quantity_exact = to_contracts(instrument, inbound.cumulative_quantity.value, cumulative);
    } else if (inbound.exec_type == FIX::ExecType_TRADE && inbound.last_quantity.present) {
      std::int64_t last = 0;
      quantity_exact = to_contracts(instrument, inbound.last_quantity.value, last);
      cumulative = order->filled + last;
    }
    if (!quantity_exact) {
      GatewayAlert alert = alert_from(AlertKind::invalid_report, inbound);
      alert.user_order_id = order->user_order_id;
      alert.text.assign("reported quantity is not a whole number of contracts; rounded toward zero");
      listener_.on_alert(alert);
    }
    const std::int64_t delta = cumulative - order->filled;

    if (order->done) {
      if (delta > 0) {
        GatewayAlert alert = alert_from(AlertKind::late_fill, inbound);
        alert.user_order_id = order->user_order_id;
        listener_.on_alert(alert);
        order->filled = cumulative;
        reconcile_wanted_ = true;
      } else {
        ++counters_.late_reports;
      }
      return;
    }

    const char exec_type = inbound.exec_type;
    const char status = inbound.order_status;
    if (exec_type == FIX::ExecType_REPLACED) {
      apply_replace(*order, inbound, instrument);
    } else if (exec_type == FIX::ExecType_NEW && !order->accepted) {
      order->accepted = true;
      listener_.on_execution(event_for(*order, ExecutionKind::accepted, inbound));
    }

    const bool rejected = exec_type == FIX::ExecType_REJECTED || status == FIX::OrdStatus_REJECTED;
    const bool canceled = exec_type == FIX::ExecType_CANCELED || exec_type == FIX::ExecType_EXPIRED ||
                          exec_type == FIX::ExecType_DONE_FOR_DAY || status == FIX::OrdStatus_CANCELED ||
                          status == FIX::OrdStatus_EXPIRED || status == FIX::OrdStatus_DONE_FOR_DAY;
    if (delta > 0) {
      const std::int64_t price = fill_price(*order, inbound, instrument, cumulative, delta);
      order->filled = cumulative;
      if (inbound.average_price.present) {
        order->filled_notional = static_cast<__int128>(inbound.average_price.value) * cumulative;
      } else {
        order->filled_notional += static_cast<__int128>(price) * delta;
      }
      const bool complete = status == FIX::OrdStatus_FILLED || order->filled >= order->quantity;
      const bool ends_order = complete && !rejected && !canceled;
      ExecutionEvent event =
          event_for(*order, ends_order ? ExecutionKind::filled : ExecutionKind::partially_filled, inbound);
      event.last_quantity = delta;
      event.last_price_e8 = price;
      listener_.on_execution(event);
      if (ends_order) {
        mark_done(*order);
        return;
      }
    }
    if (rejected) {
      listener_.on_execution(event_for(*order, ExecutionKind::rejected, inbound));
      mark_done(*order);
    } else if (canceled) {
      listener_.on_execution(event_for(*order, ExecutionKind::canceled, inbound));
      mark_done(*order);
    } else if (status == FIX::OrdStatus_FILLED) {
      // The venue says filled but reported fewer contracts (a reduce-only
      // order it shrank, say): the order is over, with no further fill.
      listener_.on_execution(event_for(*order, ExecutionKind::filled, inbound));
      mark_done(*order);
    }
  }

  void apply_replace(Order& order, const Inbound& inbound, const GatewayInstrument& instrument) {
    if (inbound.order_quantity.present) {
      std::int64_t quantity = order.quantity;
      to_contracts(instrument, inbound.order_quantity.value, quantity);
      order.quantity = quantity;
    } else if (order.pending == Pending::replace) {
      order.quantity = order.pending_quantity;
    }
    if (inbound.price.present) {
      order.price_e8 = inbound.price.value;
    } else if (order.pending == Pending::replace) {
      order.price_e8 = order.pending_price_e8;
    }
    if (!rules_.amend_with_original_client_order_id && !inbound.client_order_id.empty() &&
        order_ids_.count(inbound.client_order_id.str()) != 0) {
      order.current_client_order_id = inbound.client_order_id.str();
    }
    order.pending = Pending::none;
    order.accepted = true;
    listener_.on_execution(event_for(order, ExecutionKind::replaced, inbound));
  }

  // The price of `delta` contracts just filled: LastPx when this report is
  // exactly that fill, otherwise what AvgPx implies for the new contracts.
  std::int64_t fill_price(const Order& order, const Inbound& inbound, const GatewayInstrument& instrument,
                          std::int64_t cumulative, std::int64_t delta) const {
    if (inbound.last_price.present && inbound.last_quantity.present) {
      std::int64_t last = 0;
      if (to_contracts(instrument, inbound.last_quantity.value, last) && last == delta) {
        return inbound.last_price.value;
      }
    }
    if (inbound.average_price.present && inbound.average_price.value > 0) {
      const __int128 total = static_cast<__int128>(inbound.average_price.value) * cumulative;
      return divide_half_even(total - order.filled_notional, delta);
    }
    if (inbound.last_price.present) {
      return inbound.last_price.value;
    }
    return order.price_e8;
  }

  void handle_cancel_reject(const Inbound& inbound) {
    Order* order = find_order(inbound);
    const bool replace = inbound.response_to == FIX::CxlRejResponseTo_ORDER_CANCEL_REPLACE_REQUEST ||
                         (order != nullptr && order->pending == Pending::replace);
    GatewayAlert alert = alert_from(replace ? AlertKind::replace_reject : AlertKind::cancel_reject, inbound);
    if (order != nullptr) {
      alert.user_order_id = order->user_order_id;
      order->pending = Pending::none;
    }
    listener_.on_alert(alert);
  }

  // A BusinessMessageReject of a NewOrderSingle means the order never
  // existed: the owner must hear "rejected", or it would wait for it forever.
  void handle_business_reject(const Inbound& inbound) {
    GatewayAlert alert = alert_from(AlertKind::business_reject, inbound);
    Order* order = nullptr;
    if (!inbound.reference.empty()) {
      auto it = order_ids_.find(inbound.reference.str());
      if (it != order_ids_.end()) {
        order = find_open(it->second);
      }
    }
    if (order == nullptr) {
      order = find_open(order_for_sequence(inbound.reference_sequence_number));
    }
    if (order != nullptr) {
      alert.user_order_id = order->user_order_id;
    }
    listener_.on_alert(alert);
    if (order != nullptr && !order->accepted && order->pending == Pending::none) {
      listener_.on_execution(event_for(*order, ExecutionKind::rejected, inbound));
      mark_done(*order);
    } else if (order != nullptr) {
      order->pending = Pending::none;
    }
  }

  void handle_session_reject(const Inbound& inbound) {
    GatewayAlert alert = alert_from(AlertKind::session_reject, inbound);
    Order* order = find_open(order_for_sequence(inbound.reference_sequence_number));
    const bool new_order = inbound.reference_message_type.equals(FIX::MsgType_NewOrderSingle);
    if (order != nullptr && new_order) {
      alert.user_order_id = order->user_order_id;
      listener_.on_alert(alert);
      listener_.on_execution(event_for(*order, ExecutionKind::rejected, inbound));
      mark_done(*order);
      return;
    }
    listener_.on_alert(alert);
  }

  // Sums, per symbol, the entries whose PosType is TQ (trade quantity) or
  // absent; a symbol with none of those uses its first entry.
  void handle_position_report(const Inbound& report) {
    if (report.reference.equals(outstanding_position_request_)) {
      outstanding_position_request_.clear();
    }
    std::vector<PositionEntry> entries;
    entries.swap(position_entries_);
    const int result = report.reason;
    if (entries.empty()) {
      if (result == 2) { // PosReqResult 2: no positions found, so flat everywhere
        for (const GatewayInstrument& instrument : config_.instruments) {
          emit_position(instrument, 0, report);
        }
      } else if (result > 0) {
        listener_.on_alert(alert_from(AlertKind::position_request_reject, report));
      }
      return;
    }
    const std::string body_symbol = report.symbol.str();
    std::vector<std::string> symbols;
    for (PositionEntry& entry : entries) {
      if (entry.symbol.empty()) {
        entry.symbol = body_symbol;
      }
      if (std::find(symbols.begin(), symbols.end(), entry.symbol) == symbols.end()) {
        symbols.push_back(entry.symbol);
      }
    }
    for (const std::string& symbol : symbols) {
      const std::size_t index = find_symbol(symbol);
      if (index == kNoInstrument) {
        continue; // another instrument on the account: not ours to hedge
      }
      std::int64_t net_e8 = 0;
      bool matched = false;
      const PositionEntry* first = nullptr;
      for (const PositionEntry& entry : entries) {
        if (entry.symbol != symbol) {
          continue;
        }
        if (first == nullptr) {
          first = &entry;
        }
        if (entry.position_type.empty() || entry.position_type == "TQ") {
          net_e8 += entry.long_e8 - entry.short_e8;
          matched = true;
        }
      }
      if (!matched) {
        net_e8 = first->long_e8 - first->short_e8;
      }
      std::int64_t contracts = 0;
      const GatewayInstrument& instrument = config_.instruments[index];
      if (!to_contracts(instrument, net_e8, contracts)) {
        GatewayAlert alert = alert_from(AlertKind::invalid_report, report);
        alert.text.assign("position for " + symbol + " is not a whole number of contracts; rounded toward zero");
        listener_.on_alert(alert);
      }
      emit_position(instrument, contracts, report);
    }
  }

  void emit_position(const GatewayInstrument& instrument, std::int64_t contracts, const Inbound& report) {
    PositionEvent event;
    event.venue = config_.venue;
    event.instrument = instrument.instrument;
    event.position = contracts;
    event.receive_time_ns = report.receive_time_ns;
    event.symbol.assign(instrument.symbol);
    event.position_request_id = report.reference;
    listener_.on_position(event);
  }

  void handle_position_request_ack(const Inbound& inbound) {
    // PosReqStatus 0 = completed; anything else (2 = rejected) is an alert.
    // PosReqResult 2 (no positions found) means flat.
    if (inbound.reason == 0) {
      return;
    }
    if (inbound.reference.equals(outstanding_position_request_)) {
      outstanding_position_request_.clear();
    }
    listener_.on_alert(alert_from(AlertKind::position_request_reject, inbound));
  }

  void handle_mass_cancel_report(const Inbound& report) {
    std::vector<std::string> affected;
    affected.swap(mass_cancel_affected_);
    // MassCancelResponse(531) 0 = rejected, with the reason in 532.
    if (report.response_to == '0' || report.reason >= 0) {
      listener_.on_alert(alert_from(AlertKind::mass_cancel_reject, report));
      return;
    }
    // Deribit lists the orders it canceled; venues that do not will send an
    // ExecutionReport per order instead.
    for (const std::string& id : affected) {
      auto it = order_ids_.find(id);
      if (it == order_ids_.end()) {
        continue;
      }
      Order* order = find_open(it->second);
      if (order != nullptr) {
        listener_.on_execution(event_for(*order, ExecutionKind::canceled, report));
        mark_done(*order);
      }
    }
  }

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
  FIX44::NewOrderSingle new_order_;
  FIX44::OrderCancelRequest cancel_;
  FIX44::OrderCancelReplaceRequest replace_;
  std::unordered_map<std::uint64_t, Order> orders_;          // by user order id
  std::unordered_map<std::string, std::uint64_t> order_ids_; // every ClOrdID of ours -> user order id
  std::deque<std::uint64_t> completed_;
  std::vector<PositionEntry> position_entries_;
  std::vector<std::string> mass_cancel_affected_;
  Inbound scratch_;
  GatewayCounters counters_;
  std::uint64_t position_request_counter_ = 0;
  std::string outstanding_position_request_;
  std::int64_t position_request_sent_at_ = 0;
  std::int64_t next_periodic_position_request_ = 0;
  bool reconcile_wanted_ = false;
  CollateralInquiries collateral_;
  std::uint64_t reported_queue_waits_ = 0;

  // Hand-off: QuickFIX's thread produces, the owner consumes.
  boost::lockfree::spsc_queue<Inbound> inbound_;
  std::mutex producer_mutex_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> logged_on_{false};
  std::atomic<std::uint64_t> queue_waits_{0};

  // QuickFIX's thread only.
  ExecIdDeduplicator dedupe_;
  std::int64_t last_logon_ms_ = 0;
  std::mutex logout_text_mutex_;
  std::string logout_text_;
  std::atomic<std::uint64_t> duplicates_{0};
  std::atomic<std::uint64_t> possible_duplicates_{0};

  // Owner thread, written after each send.
  std::vector<std::pair<std::int64_t, std::uint64_t>> sent_messages_;
};

#pragma GCC diagnostic pop

GatewaySession::GatewaySession(GatewayConfig config, GatewayListener& listener)
    : impl_(new Impl(std::move(config), listener)) {}

GatewaySession::~GatewaySession() = default;

void GatewaySession::start() { impl_->start(); }
void GatewaySession::stop(int logout_wait_ms) { impl_->stop(logout_wait_ms); }
bool GatewaySession::logged_on() const { return impl_->logged_on(); }
SubmitResult GatewaySession::send_order(const OrderRequest& order) { return impl_->send_order(order); }
SubmitResult GatewaySession::cancel_order(std::uint64_t user_order_id) { return impl_->cancel_order(user_order_id); }
SubmitResult GatewaySession::replace_order(std::uint64_t user_order_id, std::int64_t quantity, std::int64_t price_e8) {
  return impl_->replace_order(user_order_id, quantity, price_e8);
}
SubmitResult GatewaySession::cancel_all() { return impl_->cancel_all(); }
SubmitResult GatewaySession::request_positions() { return impl_->request_positions(); }
SubmitResult GatewaySession::request_collateral() { return impl_->request_collateral(); }
std::size_t GatewaySession::poll(std::size_t max_messages) { return impl_->poll(max_messages); }
void GatewaySession::annotate(const std::string& note) { impl_->annotate(note); }
void GatewaySession::flush_log() { impl_->flush_log(); }
GatewayCounters GatewaySession::counters() const { return impl_->counters(); }
std::size_t GatewaySession::open_orders() const { return impl_->open_orders(); }
void GatewaySession::disconnect() { impl_->disconnect(); }

} // namespace fix
} // namespace synthusd
