#pragma once
// The QuickFIX side of the test venue (gateway_test_venue.hpp), shared by its
// translation units: gateway_test_venue.cpp (session, scripting, QuickFIX
// callbacks), gateway_test_venue_orders.cpp (order handling) and
// gateway_test_venue_reports.cpp (execution, position and collateral
// reports). Compiled as C++14: includes QuickFIX. Private to the target.

#include "gateway_test_venue.hpp"

#include "gateway_dictionary.hpp"
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

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace synthusd {
namespace fix {
namespace testing {

namespace detail {

inline std::string message_type(const std::string& wire) { return field(wire, 35); }

inline bool is_admin(const std::string& type) {
  return type == "0" || type == "1" || type == "2" || type == "3" || type == "4" || type == "5" || type == "A";
}

inline std::int64_t decimal(const std::string& text) {
  std::int64_t value = 0;
  parse_decimal_e8(text, value);
  return value;
}

inline std::int64_t units(const std::string& text) { return decimal(text) / kDecimalScale; }

inline std::string checksum(const std::string& text) {
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

} // namespace detail

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated"

class TestVenue::Impl : public FIX::Application {
public:
  explicit Impl(TestVenueConfig config)
      : config_(std::move(config)),
        log_factory_([this](bool incoming, const std::string& text) { record(incoming, text); }) {
    if (config_.port == 0) {
      config_.port = find_free_port();
      port_picked_ = true;
    }
    session_id_ = FIX::SessionID(FIX::BeginString_FIX44, config_.sender_comp_id, config_.target_comp_id);
    credits_ = config_.credit_pool;
    credits_at_ = std::chrono::steady_clock::now();
  }

  ~Impl() override { stop(); }

  void start();

  void stop();

  int port() const {
    port_read_ = true;
    return config_.port;
  }
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

  bool fill(const std::string& client_order_id, std::int64_t quantity, std::int64_t price_e8);

  bool fill_levels(const std::string& client_order_id,
                   const std::vector<std::pair<std::int64_t, std::int64_t>>& levels);

  std::size_t rate_limit_logouts() const { return rate_limit_logouts_.load(); }

  bool cancel(const std::string& client_order_id);

  bool drop(const std::string& client_order_id);

  VenueOrder order(const std::string& client_order_id);

  std::size_t open_orders();

  void set_position(const std::string& symbol, std::int64_t position);

  bool send(const std::string& body);

  bool resend_last_execution_report();

  void reset_sequence(int new_sequence);

  void skip_sequence_numbers(int count) { session_->setNextSenderMsgSeqNum(session_->getExpectedSenderNum() + count); }

  void disconnect();

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
  void onLogout(const FIX::SessionID&) override {
    // Session::logout() disables the session, and a disabled acceptor
    // refuses the next logon; after a rate-limit logout Deribit takes the
    // client back once credits refill, so enable it again.
    if (rate_limit_logout_pending_.exchange(false) && session_ != nullptr) {
      session_->logon();
    }
  }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}

  void fromAdmin(const FIX::Message& message, const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                           FIX::IncorrectTagValue,
                                                                           FIX::RejectLogon) override;

  void fromApp(const FIX::Message& message, const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                         FIX::IncorrectTagValue,
                                                                         FIX::UnsupportedMessageType) override;

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

  void record(bool incoming, const std::string& text);

  bool send_message(FIX::Message& message) { return session_ != nullptr && session_->send(message); }

  VenueOrder* find_by_original(const std::string& id);

  // The order a cancel/replace/status request names: Deribit puts the
  // order's own ClOrdID in 11; FIX puts the current one in 41.
  VenueOrder* find_for_request(const FIX::Message& message);

  // ExecutionReport for order. report_id: the ClOrdID the request carried
  // (generic: a cancel's or replace's own id).
  void send_report(const VenueOrder& order, char exec_type, char status, std::int64_t last_quantity,
                   std::int64_t last_price_e8, const std::string& report_id, const std::string& original_id,
                   const std::string& text, int reject_reason = -1);

  std::int64_t average_price(const VenueOrder& order) const;

  void execute(VenueOrder& order, std::int64_t quantity, std::int64_t price_e8, const std::string&);

  void on_new_order(const FIX::Message& message);

  void cancel_reject(const FIX::Message& message, char response_to, const std::string& text);

  void on_cancel(const FIX::Message& message);

  void on_replace(const FIX::Message& message);

  void on_mass_cancel(const FIX::Message& message);

  void on_position_request(const FIX::Message& message);

  void on_collateral_inquiry(const FIX::Message& message);

  void on_status_request(const FIX::Message& message);

  // ---- Deribit shapes (gateway_test_venue_deribit.cpp) ----
  // The report's fields as Deribit writes them: its id in 11, ours in 41,
  // SecondaryExecID(527) except on status reports, no ExecID(17).
  void deribit_identify(FIX::Message& report, const VenueOrder& order, char exec_type);
  // A match of `levels` (report units, price_e8) on order, as Deribit reports it.
  void deribit_execute(VenueOrder& order, const std::vector<std::pair<std::int64_t, std::int64_t>>& levels);
  // AvgPx(6) text: the harmonic mean of the fills (an inverse instrument's
  // average: USD over BTC), with 12 decimals.
  std::string deribit_average_price(const VenueOrder& order) const;
  void deribit_position_report(const FIX::Message& message);
  void on_mass_status_request(const FIX::Message& message);
  void on_user_request(const FIX::Message& message);
  // BusinessMessageReject(j) 380=3 for a message type Deribit does not list (H, BB).
  void reject_unsupported(const FIX::Message& message);
  // False (and the session ended with error 10028) when the request finds
  // too few credits.
  bool spend_credits();

  TestVenueConfig config_;
  // find_free_port() closes its socket before QuickFIX binds the port, and
  // in between another test's bind, or any outgoing connection (same
  // ephemeral range), can take it: start() then picks another, but only
  // for a port it picked itself that nobody has been told yet.
  bool port_picked_ = false;
  mutable bool port_read_ = false;
  FIX::SessionID session_id_;
  std::unique_ptr<FIX::MessageStoreFactory> store_factory_;
  detail::RecordingLogFactory log_factory_;
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
  // Deribit: sum over an order's fills of quantity * 1e30 / price_e8 (its
  // BTC value, scaled), for the harmonic AvgPx.
  std::map<std::string, __int128> inverse_value_;
  std::uint64_t secondary_exec_counter_ = 0;
  std::int64_t credits_ = 0;
  std::chrono::steady_clock::time_point credits_at_{};
  std::atomic<bool> fills_as_reports_{false}; // 9015=Y at the last logon
  std::atomic<std::size_t> rate_limit_logouts_{0};
  std::atomic<bool> rate_limit_logout_pending_{false};

  mutable std::mutex log_mutex_; // a leaf lock
  std::vector<std::string> received_;
  std::vector<std::string> sent_;
  std::vector<std::string> logons_;
  std::size_t resend_requests_ = 0;
  std::string last_execution_report_;
};

#pragma GCC diagnostic pop

} // namespace testing
} // namespace fix
} // namespace synthusd
