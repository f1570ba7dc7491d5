// Compiled as C++14: includes QuickFIX. See gateway_test_venue.hpp.

#include "gateway_test_venue.hpp"

#include "gateway_dictionary.hpp"
#include "synthusd/fix/deribit.hpp"
#include "synthusd/fix/gateway_decimal.hpp"

#include <quickfix/Application.h>
#include <quickfix/FileStore.h>
#include <quickfix/Log.h>
#include <quickfix/MessageStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/Values.h>
#include <quickfix/fix44/SequenceReset.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace synthusd {
namespace fix {
namespace testing {

int find_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    throw std::runtime_error("socket() failed");
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    throw std::runtime_error("bind() failed");
  }
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string soh(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (c == '|') {
      c = '\x01';
    }
  }
  return out;
}

std::string pipes(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (c == '\x01') {
      c = '|';
    }
  }
  return out;
}

std::string field(const std::string& message, int tag) {
  const std::string wire = soh(message);
  const std::string key = std::to_string(tag) + "=";
  std::size_t position = 0;
  while (position < wire.size()) {
    const std::size_t end = wire.find('\x01', position);
    const std::size_t stop = end == std::string::npos ? wire.size() : end;
    if (wire.compare(position, key.size(), key) == 0) {
      return wire.substr(position + key.size(), stop - position - key.size());
    }
    position = stop + 1;
  }
  return std::string();
}

namespace {

std::string message_type(const std::string& wire) { return field(wire, 35); }

bool is_admin(const std::string& type) {
  return type == "0" || type == "1" || type == "2" || type == "3" || type == "4" || type == "5" || type == "A";
}

std::int64_t decimal(const std::string& text) {
  std::int64_t value = 0;
  parse_decimal_e8(text, value);
  return value;
}

std::int64_t units(const std::string& text) { return decimal(text) / kDecimalScale; }

std::string checksum(const std::string& text) {
  unsigned sum = 0;
  for (unsigned char c : text) {
    sum += c;
  }
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%03u", sum % 256);
  return buffer;
}

// Records what crosses the venue's session, with no lock held by QuickFIX
// that could invert against ours (this mutex is a leaf).
class RecordingLog : public FIX::Log {
public:
  explicit RecordingLog(std::function<void(bool, const std::string&)> sink) : sink_(std::move(sink)) {}
  void clear() override {}
  void backup() override {}
  void onIncoming(const std::string& text) override { sink_(true, text); }
  void onOutgoing(const std::string& text) override { sink_(false, text); }
  void onEvent(const std::string&) override {}

private:
  std::function<void(bool, const std::string&)> sink_;
};

class RecordingLogFactory : public FIX::LogFactory {
public:
  explicit RecordingLogFactory(std::function<void(bool, const std::string&)> sink) : sink_(std::move(sink)) {}
  FIX::Log* create() override { return new RecordingLog(sink_); }
  FIX::Log* create(const FIX::SessionID&) override { return new RecordingLog(sink_); }
  void destroy(FIX::Log* log) override { delete log; }

private:
  std::function<void(bool, const std::string&)> sink_;
};

} // namespace

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated"

class TestVenue::Impl : public FIX::Application {
public:
  explicit Impl(TestVenueConfig config)
      : config_(std::move(config)),
        log_factory_([this](bool incoming, const std::string& text) { record(incoming, text); }) {
    if (config_.port == 0) {
      config_.port = find_free_port();
    }
    session_id_ = FIX::SessionID(FIX::BeginString_FIX44, config_.sender_comp_id, config_.target_comp_id);
  }

  ~Impl() override { stop(); }

  void start() {
    FIX::Dictionary defaults;
    defaults.setString(FIX::CONNECTION_TYPE, "acceptor");
    defaults.setBool(FIX::SOCKET_NODELAY, true);
    defaults.setBool(FIX::SOCKET_REUSE_ADDRESS, true);
    FIX::Dictionary session;
    session.setString(FIX::BEGINSTRING, FIX::BeginString_FIX44);
    session.setString(FIX::SENDERCOMPID, config_.sender_comp_id);
    session.setString(FIX::TARGETCOMPID, config_.target_comp_id);
    session.setInt(FIX::SOCKET_ACCEPT_PORT, config_.port);
    session.setString(FIX::START_TIME, "00:00:00");
    session.setString(FIX::END_TIME, "00:00:00");
    session.setBool(FIX::USE_DATA_DICTIONARY, false);
    session.setBool(FIX::RESET_ON_LOGON, config_.reset_on_logon);
    session.setBool(FIX::CHECK_LATENCY, false);
    session.setInt(FIX::TIMESTAMP_PRECISION, 3);
    FIX::SessionSettings settings;
    settings.set(defaults);
    settings.set(session_id_, session);
    if (config_.store_directory.empty()) {
      store_factory_.reset(new FIX::MemoryStoreFactory());
    } else {
      store_factory_.reset(new FIX::FileStoreFactory(config_.store_directory));
    }
    acceptor_.reset(new FIX::SocketAcceptor(*this, *store_factory_, settings, log_factory_));
    session_ = acceptor_->getSession(session_id_);
    session_->setDataDictionaryProvider(make_gateway_dictionary_provider());
    acceptor_->start();
  }

  void stop() {
    if (acceptor_) {
      acceptor_->stop(true);
      acceptor_.reset();
      session_ = nullptr;
    }
  }

  int port() const { return config_.port; }
  bool logged_on() const { return session_ != nullptr && session_->isLoggedOn(); }

  bool wait(int timeout_ms, const std::function<bool()>& condition) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!condition()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
  }

  void set_order_mode(OrderMode mode) {
    std::lock_guard<std::mutex> lock(mutex_);
    mode_ = mode;
  }

  bool fill(const std::string& client_order_id, std::int64_t quantity, std::int64_t price_e8) {
    std::lock_guard<std::mutex> lock(mutex_);
    VenueOrder* order = find_by_original(client_order_id);
    if (order == nullptr || !order->open) {
      return false;
    }
    execute(*order, std::min(quantity, order->quantity - order->filled), price_e8, "");
    return true;
  }

  bool cancel(const std::string& client_order_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    VenueOrder* order = find_by_original(client_order_id);
    if (order == nullptr || !order->open) {
      return false;
    }
    order->open = false;
    send_report(*order, FIX::ExecType_CANCELED, FIX::OrdStatus_CANCELED, 0, 0, order->current_id, "", "");
    return true;
  }

  bool drop(const std::string& client_order_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    VenueOrder* order = find_by_original(client_order_id);
    if (order == nullptr || !order->open) {
      return false;
    }
    order->open = false;
    return true;
  }

  VenueOrder order(const std::string& client_order_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    VenueOrder* order = find_by_original(client_order_id);
    return order == nullptr ? VenueOrder() : *order;
  }

  std::size_t open_orders() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::size_t count = 0;
    for (const VenueOrder& order : orders_) {
      count += order.open ? 1 : 0;
    }
    return count;
  }

  void set_position(const std::string& symbol, std::int64_t position) {
    std::lock_guard<std::mutex> lock(mutex_);
    positions_[symbol] = position;
  }

  bool send(const std::string& body) {
    std::string text = soh(body);
    if (text.empty() || text.back() != '\x01') {
      text += '\x01';
    }
    const std::string head = "8=FIX.4.4\x01"
                             "9=" +
                             std::to_string(text.size()) + "\x01" + text;
    const std::string wire = head + "10=" + checksum(head) + "\x01";
    FIX::Message message(wire, make_gateway_dictionary(), false);
    FIX::Header& header = message.getHeader();
    const int header_tags[] = {34, 43, 49, 50, 52, 56, 57, 97, 115, 122, 128};
    for (int tag : header_tags) {
      header.removeField(tag);
    }
    return send_message(message);
  }

  bool resend_last_execution_report() {
    std::string last;
    {
      std::lock_guard<std::mutex> lock(log_mutex_);
      last = last_execution_report_;
    }
    return !last.empty() && send(pipes(body_of(last)));
  }

  void reset_sequence(int new_sequence) {
    FIX44::SequenceReset reset;
    reset.set(FIX::NewSeqNo(new_sequence));
    reset.set(FIX::GapFillFlag(false));
    session_->send(reset);
    session_->setNextSenderMsgSeqNum(new_sequence);
  }

  void skip_sequence_numbers(int count) { session_->setNextSenderMsgSeqNum(session_->getExpectedSenderNum() + count); }

  void disconnect() {
    if (session_ != nullptr) {
      session_->disconnect();
    }
  }

  std::vector<std::string> received() const {
    std::lock_guard<std::mutex> lock(log_mutex_);
    return received_;
  }
  std::size_t received_count() const {
    std::lock_guard<std::mutex> lock(log_mutex_);
    return received_.size();
  }
  std::vector<std::string> received_logons() const {
    std::lock_guard<std::mutex> lock(log_mutex_);
    return logons_;
  }
  std::size_t resend_requests() const {
    std::lock_guard<std::mutex> lock(log_mutex_);
    return resend_requests_;
  }
  std::vector<std::string> sent() const {
    std::lock_guard<std::mutex> lock(log_mutex_);
    return sent_;
  }

  // ---- QuickFIX callbacks (the acceptor's thread) ----

  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override {}
  void onLogout(const FIX::SessionID&) override {}
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}

  void fromAdmin(const FIX::Message& message, const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                           FIX::IncorrectTagValue,
                                                                           FIX::RejectLogon) override {
    if (message.getHeader().getField(FIX::FIELD::MsgType) != FIX::MsgType_Logon) {
      return;
    }
    const std::string username = message.isSetField(553) ? message.getField(553) : "";
    const std::string password = message.isSetField(554) ? message.getField(554) : "";
    if (!config_.client_id.empty() && username != config_.client_id) {
      throw FIX::RejectLogon("unknown username");
    }
    if (config_.deribit) {
      const std::string raw = message.isSetField(96) ? message.getField(96) : "";
      if (raw.empty() || password != deribit::password(raw, config_.secret)) {
        throw FIX::RejectLogon("invalid credentials");
      }
      if (!message.isSetField(9001) || message.getField(9001) != "Y") {
        throw FIX::RejectLogon("CancelOnDisconnect missing");
      }
    } else if (!config_.secret.empty() && password != config_.secret) {
      throw FIX::RejectLogon("invalid credentials");
    }
  }

  void fromApp(const FIX::Message& message, const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                         FIX::IncorrectTagValue,
                                                                         FIX::UnsupportedMessageType) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!config_.automatic) {
      return;
    }
    const std::string& type = message.getHeader().getField(FIX::FIELD::MsgType);
    if (type == FIX::MsgType_NewOrderSingle) {
      on_new_order(message);
    } else if (type == FIX::MsgType_OrderCancelRequest) {
      on_cancel(message);
    } else if (type == FIX::MsgType_OrderCancelReplaceRequest) {
      on_replace(message);
    } else if (type == FIX::MsgType_OrderMassCancelRequest) {
      on_mass_cancel(message);
    } else if (type == FIX::MsgType_RequestForPositions) {
      on_position_request(message);
    } else if (type == FIX::MsgType_OrderStatusRequest) {
      on_status_request(message);
    } else if (type == FIX::MsgType_CollateralInquiry) {
      on_collateral_inquiry(message);
    }
  }

private:
  static std::string get(const FIX::FieldMap& message, int tag) {
    return message.isSetField(tag) ? message.getField(tag) : std::string();
  }

  static std::string body_of(const std::string& wire) {
    // From 35= to just before 10=, header fields and all (send() strips them).
    const std::size_t begin = wire.find("\x01"
                                        "35=");
    const std::size_t end = wire.rfind("\x01"
                                       "10=");
    return wire.substr(begin + 1, end - begin);
  }

  void record(bool incoming, const std::string& text) {
    const std::string type = message_type(text);
    std::lock_guard<std::mutex> lock(log_mutex_);
    if (incoming) {
      if (type == "A") {
        logons_.push_back(text);
      } else if (type == "2") {
        ++resend_requests_;
      } else if (!is_admin(type)) {
        received_.push_back(text);
      }
    } else if (!is_admin(type)) {
      sent_.push_back(text);
      if (type == "8") {
        last_execution_report_ = text;
      }
    }
  }

  bool send_message(FIX::Message& message) { return session_ != nullptr && session_->send(message); }

  VenueOrder* find_by_original(const std::string& id) {
    for (VenueOrder& order : orders_) {
      if (order.client_order_id == id || order.order_id == id) {
        return &order;
      }
    }
    return nullptr;
  }

  // The order a cancel/replace/status request names: Deribit puts the
  // order's own ClOrdID in 11; FIX puts the current one in 41.
  VenueOrder* find_for_request(const FIX::Message& message) {
    const std::string id = config_.deribit ? get(message, FIX::FIELD::ClOrdID) : get(message, FIX::FIELD::OrigClOrdID);
    for (VenueOrder& order : orders_) {
      if (order.current_id == id || order.client_order_id == id) {
        return &order;
      }
    }
    if (!config_.deribit) {
      const std::string own = get(message, FIX::FIELD::ClOrdID); // OrderStatusRequest names the current id in 11
      for (VenueOrder& order : orders_) {
        if (order.current_id == own) {
          return &order;
        }
      }
    }
    return nullptr;
  }

  // ExecutionReport for order. report_id: the ClOrdID the request carried
  // (generic: a cancel's or replace's own id).
  void send_report(const VenueOrder& order, char exec_type, char status, std::int64_t last_quantity,
                   std::int64_t last_price_e8, const std::string& report_id, const std::string& original_id,
                   const std::string& text) {
    FIX::Message report;
    report.getHeader().setField(FIX::MsgType(FIX::MsgType_ExecutionReport));
    report.setField(FIX::FIELD::OrderID, order.order_id);
    if (config_.deribit) {
      report.setField(FIX::FIELD::ClOrdID, order.order_id); // Deribit: its own id in 11
      report.setField(FIX::FIELD::OrigClOrdID, order.client_order_id);
    } else {
      report.setField(FIX::FIELD::ClOrdID, report_id);
      if (!original_id.empty()) {
        report.setField(FIX::FIELD::OrigClOrdID, original_id);
      }
    }
    report.setField(FIX::FIELD::ExecID, "E" + std::to_string(++exec_counter_));
    report.setField(FIX::FIELD::ExecType, std::string(1, exec_type));
    report.setField(FIX::FIELD::OrdStatus, std::string(1, status));
    report.setField(FIX::FIELD::Symbol, order.symbol);
    report.setField(FIX::FIELD::Side, std::string(1, order.side));
    report.setField(FIX::FIELD::OrderQty, std::to_string(order.quantity));
    if (order.price_e8 > 0) {
      report.setField(FIX::FIELD::Price, format_decimal_e8(order.price_e8));
    }
    report.setField(FIX::FIELD::CumQty, std::to_string(order.filled));
    report.setField(FIX::FIELD::LeavesQty, std::to_string(order.open ? order.quantity - order.filled : 0));
    if (last_quantity > 0) {
      report.setField(FIX::FIELD::LastQty, std::to_string(last_quantity));
      report.setField(FIX::FIELD::LastPx, format_decimal_e8(last_price_e8));
    }
    report.setField(FIX::FIELD::AvgPx, format_decimal_e8(order.filled > 0 ? average_price(order) : 0));
    report.setField(FIX::TransactTime(FIX::UtcTimeStamp(), 3));
    if (!text.empty()) {
      report.setField(FIX::FIELD::Text, text);
    }
    send_message(report);
  }

  std::int64_t average_price(const VenueOrder& order) const {
    auto it = notional_.find(order.order_id);
    if (it == notional_.end() || order.filled == 0) {
      return 0;
    }
    return static_cast<std::int64_t>(it->second / order.filled);
  }

  void execute(VenueOrder& order, std::int64_t quantity, std::int64_t price_e8, const std::string&) {
    if (quantity <= 0) {
      return;
    }
    order.filled += quantity;
    notional_[order.order_id] += static_cast<__int128>(quantity) * price_e8;
    positions_[order.symbol] += order.side == '1' ? quantity : -quantity;
    const bool complete = order.filled >= order.quantity;
    order.open = !complete;
    send_report(order, FIX::ExecType_TRADE, complete ? FIX::OrdStatus_FILLED : FIX::OrdStatus_PARTIALLY_FILLED,
                quantity, price_e8, order.current_id, "", "");
  }

  void on_new_order(const FIX::Message& message) {
    VenueOrder order;
    order.client_order_id = get(message, FIX::FIELD::ClOrdID);
    order.current_id = order.client_order_id;
    order.order_id = "V" + std::to_string(++order_counter_);
    order.symbol = get(message, FIX::FIELD::Symbol);
    const std::string side = get(message, FIX::FIELD::Side);
    order.side = side.empty() ? '1' : side[0];
    const std::int64_t wire_quantity = units(get(message, FIX::FIELD::OrderQty));
    order.quantity = wire_quantity / config_.units_per_contract;
    order.price_e8 = decimal(get(message, FIX::FIELD::Price));
    const std::string type = get(message, FIX::FIELD::OrdType);
    const std::string time_in_force = get(message, FIX::FIELD::TimeInForce);
    orders_.push_back(order);
    VenueOrder& stored = orders_.back();

    if (mode_ == OrderMode::silent) {
      stored.open = true;
      return;
    }
    if (mode_ == OrderMode::business_reject) {
      FIX::Message reject;
      reject.getHeader().setField(FIX::MsgType(FIX::MsgType_BusinessMessageReject));
      reject.setField(FIX::FIELD::RefSeqNum, get(message.getHeader(), FIX::FIELD::MsgSeqNum));
      reject.setField(FIX::FIELD::RefMsgType, FIX::MsgType_NewOrderSingle);
      reject.setField(FIX::FIELD::BusinessRejectRefID, stored.client_order_id);
      reject.setField(FIX::FIELD::BusinessRejectReason, "6"); // not authorized
      reject.setField(FIX::FIELD::Text, "orders not accepted on this session");
      send_message(reject);
      return;
    }
    if (mode_ == OrderMode::reject || wire_quantity > config_.maximum_quantity || order.quantity <= 0) {
      send_report(stored, FIX::ExecType_REJECTED, FIX::OrdStatus_REJECTED, 0, 0, stored.current_id, "",
                  "order quantity above limit");
      return;
    }
    stored.open = true;
    send_report(stored, FIX::ExecType_NEW, FIX::OrdStatus_NEW, 0, 0, stored.current_id, "", "");
    if (mode_ != OrderMode::automatic) {
      return;
    }
    if (type == std::string(1, FIX::OrdType_MARKET)) {
      execute(stored, stored.quantity, config_.market_price_e8, "");
    } else if (time_in_force == std::string(1, FIX::TimeInForce_FILL_OR_KILL)) {
      execute(stored, stored.quantity, stored.price_e8, "");
    } else if (time_in_force == std::string(1, FIX::TimeInForce_IMMEDIATE_OR_CANCEL)) {
      execute(stored, stored.quantity / 2, stored.price_e8, "");
      if (stored.open) {
        stored.open = false;
        send_report(stored, FIX::ExecType_CANCELED, FIX::OrdStatus_CANCELED, 0, 0, stored.current_id, "", "");
      }
    }
  }

  void cancel_reject(const FIX::Message& message, char response_to, const std::string& text) {
    FIX::Message reject;
    reject.getHeader().setField(FIX::MsgType(FIX::MsgType_OrderCancelReject));
    reject.setField(FIX::FIELD::OrderID, "NONE");
    reject.setField(FIX::FIELD::ClOrdID, get(message, FIX::FIELD::ClOrdID));
    const std::string original = get(message, FIX::FIELD::OrigClOrdID);
    reject.setField(FIX::FIELD::OrigClOrdID, original.empty() ? get(message, FIX::FIELD::ClOrdID) : original);
    reject.setField(FIX::FIELD::OrdStatus, "8");
    reject.setField(FIX::FIELD::CxlRejResponseTo, std::string(1, response_to));
    reject.setField(FIX::FIELD::CxlRejReason, "1"); // unknown order
    reject.setField(FIX::FIELD::Text, text);
    send_message(reject);
  }

  void on_cancel(const FIX::Message& message) {
    VenueOrder* order = find_for_request(message);
    if (order == nullptr || !order->open) {
      cancel_reject(message, FIX::CxlRejResponseTo_ORDER_CANCEL_REQUEST, "unknown or closed order");
      return;
    }
    order->open = false;
    const std::string request_id = get(message, FIX::FIELD::ClOrdID);
    send_report(*order, FIX::ExecType_CANCELED, FIX::OrdStatus_CANCELED, 0, 0, request_id, order->current_id, "");
    if (!config_.deribit) {
      order->current_id = request_id;
    }
  }

  void on_replace(const FIX::Message& message) {
    VenueOrder* order = find_for_request(message);
    if (order == nullptr || !order->open) {
      cancel_reject(message, FIX::CxlRejResponseTo_ORDER_CANCEL_REPLACE_REQUEST, "unknown or closed order");
      return;
    }
    const std::string request_id = get(message, FIX::FIELD::ClOrdID);
    const std::string previous = order->current_id;
    order->quantity = units(get(message, FIX::FIELD::OrderQty)) / config_.units_per_contract;
    order->price_e8 = decimal(get(message, FIX::FIELD::Price));
    if (!config_.deribit) {
      order->current_id = request_id;
    }
    send_report(*order, FIX::ExecType_REPLACED,
                order->filled > 0 ? FIX::OrdStatus_PARTIALLY_FILLED : FIX::OrdStatus_NEW, 0, 0, request_id, previous,
                "");
  }

  void on_mass_cancel(const FIX::Message& message) {
    std::vector<std::string> affected;
    for (VenueOrder& order : orders_) {
      if (!order.open) {
        continue;
      }
      order.open = false;
      affected.push_back(order.client_order_id);
      if (!config_.mass_cancel_lists_orders) {
        send_report(order, FIX::ExecType_CANCELED, FIX::OrdStatus_CANCELED, 0, 0, order.current_id, "", "");
      }
    }
    std::string body = "35=r|11=" + get(message, FIX::FIELD::ClOrdID) + "|37=MASS" + std::to_string(++order_counter_) +
                       "|530=7|531=7|533=" + std::to_string(affected.size()) + "|";
    if (config_.mass_cancel_lists_orders && !affected.empty()) {
      body += "534=" + std::to_string(affected.size()) + "|";
      for (const std::string& id : affected) {
        body += "41=" + id + "|";
      }
    }
    send(body);
  }

  void on_position_request(const FIX::Message& message) {
    const std::string request = get(message, 710);
    std::string body = "35=AP|721=R" + std::to_string(++report_counter_) + "|710=" + request + "|724=0|";
    std::vector<std::pair<std::string, std::int64_t>> held;
    for (const auto& entry : positions_) {
      if (entry.second != 0) {
        held.push_back(entry);
      }
    }
    if (held.empty()) {
      body += "728=2|";
      send(body);
      return;
    }
    body += "728=0|702=" + std::to_string(held.size()) + "|";
    for (const auto& entry : held) {
      const std::int64_t long_quantity = entry.second > 0 ? entry.second : 0;
      const std::int64_t short_quantity = entry.second < 0 ? -entry.second : 0;
      body += "703=TQ|704=" + std::to_string(long_quantity) + "|705=" + std::to_string(short_quantity) +
              "|55=" + entry.first + "|";
    }
    send(body);
  }

  void on_collateral_inquiry(const FIX::Message& message) {
    if (config_.collateral_btc.empty()) {
      return;
    }
    const std::string& amount = config_.collateral_btc;
    send("35=BA|1=" + config_.target_comp_id + "|15=BTC|899=" + amount + "|900=" + amount + "|901=" + amount +
         "|908=C" + std::to_string(++collateral_counter_) + "|909=" + get(message, 909) +
         "|910=3|9110=0|9111=0|9112=0|");
  }

  void on_status_request(const FIX::Message& message) {
    VenueOrder* order = find_for_request(message);
    if (order == nullptr) {
      return;
    }
    char status = FIX::OrdStatus_NEW;
    if (!order->open) {
      status = order->filled >= order->quantity ? FIX::OrdStatus_FILLED : FIX::OrdStatus_CANCELED;
    } else if (order->filled > 0) {
      status = FIX::OrdStatus_PARTIALLY_FILLED;
    }
    send_report(*order, FIX::ExecType_ORDER_STATUS, status, 0, 0, order->current_id, "", "");
  }

  TestVenueConfig config_;
  FIX::SessionID session_id_;
  std::unique_ptr<FIX::MessageStoreFactory> store_factory_;
  RecordingLogFactory log_factory_;
  std::unique_ptr<FIX::SocketAcceptor> acceptor_;
  FIX::Session* session_ = nullptr;

  std::mutex mutex_; // order state; taken before QuickFIX's session lock, never after
  OrderMode mode_ = OrderMode::automatic;
  std::vector<VenueOrder> orders_;
  std::map<std::string, std::int64_t> positions_;
  std::map<std::string, __int128> notional_;
  std::uint64_t order_counter_ = 0;
  std::uint64_t exec_counter_ = 0;
  std::uint64_t report_counter_ = 0;
  std::uint64_t collateral_counter_ = 0;

  mutable std::mutex log_mutex_; // a leaf lock
  std::vector<std::string> received_;
  std::vector<std::string> sent_;
  std::vector<std::string> logons_;
  std::size_t resend_requests_ = 0;
  std::string last_execution_report_;
};

#pragma GCC diagnostic pop

TestVenue::TestVenue(TestVenueConfig config) : impl_(new Impl(std::move(config))) {}
TestVenue::~TestVenue() = default;
void TestVenue::start() { impl_->start(); }
void TestVenue::stop() { impl_->stop(); }
int TestVenue::port() const { return impl_->port(); }
bool TestVenue::logged_on() const { return impl_->logged_on(); }
bool TestVenue::wait_logged_on(int timeout_ms) const {
  return impl_->wait(timeout_ms, [this] { return impl_->logged_on(); });
}
bool TestVenue::wait_logged_out(int timeout_ms) const {
  return impl_->wait(timeout_ms, [this] { return !impl_->logged_on(); });
}
void TestVenue::set_order_mode(OrderMode mode) { impl_->set_order_mode(mode); }
bool TestVenue::fill(const std::string& id, std::int64_t quantity, std::int64_t price_e8) {
  return impl_->fill(id, quantity, price_e8);
}
bool TestVenue::cancel(const std::string& id) { return impl_->cancel(id); }
bool TestVenue::drop(const std::string& id) { return impl_->drop(id); }
VenueOrder TestVenue::order(const std::string& id) const { return impl_->order(id); }
std::size_t TestVenue::open_orders() const { return impl_->open_orders(); }
void TestVenue::set_position(const std::string& symbol, std::int64_t position) {
  impl_->set_position(symbol, position);
}
bool TestVenue::send(const std::string& body) { return impl_->send(body); }
bool TestVenue::resend_last_execution_report() { return impl_->resend_last_execution_report(); }
void TestVenue::reset_sequence(int new_sequence) { impl_->reset_sequence(new_sequence); }
void TestVenue::skip_sequence_numbers(int count) { impl_->skip_sequence_numbers(count); }
void TestVenue::disconnect() { impl_->disconnect(); }
std::vector<std::string> TestVenue::received() const { return impl_->received(); }
bool TestVenue::wait_for_received(std::size_t count, int timeout_ms) const {
  return impl_->wait(timeout_ms, [this, count] { return impl_->received_count() >= count; });
}
std::vector<std::string> TestVenue::received_logons() const { return impl_->received_logons(); }
std::size_t TestVenue::resend_requests_received() const { return impl_->resend_requests(); }
std::size_t TestVenue::logons_received() const { return impl_->received_logons().size(); }
std::vector<std::string> TestVenue::sent() const { return impl_->sent(); }

} // namespace testing
} // namespace fix
} // namespace synthusd
