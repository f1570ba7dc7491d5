// Compiled as C++14 (target synthusd_fix_quickfix): this file includes
// QuickFIX. See gateway_session.hpp for the threading model.
// GatewaySession and its Impl: construction, start/stop, poll(), the hand-off
// from QuickFIX's thread and the dispatch of inbound records on the owner
// thread. The QuickFIX Application callbacks are gateway_callbacks.cpp; the
// other parts of Impl are listed in gateway_session_internal.hpp.

#include "gateway_session_internal.hpp"

#include "gateway_dictionary.hpp"

#include <quickfix/Exceptions.h>
#include <quickfix/FileStore.h>
#include <quickfix/Values.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated"

GatewaySession::Impl::Impl(GatewayConfig config, GatewayListener& listener)
    : config_(validated(std::move(config))), rules_(rules_for(config_.dialect)), listener_(listener),
      session_id_(FIX::BeginString_FIX44, config_.sender_comp_id, config_.target_comp_id),
      ids_(config_.client_order_id_path, config_.client_order_id_block), collateral_(config_),
      inbound_(config_.inbound_queue_capacity), dedupe_(config_.exec_id_memory), exec_ids_(config_.exec_id_memory),
      sent_messages_(kSentMessageMemory) {
  if (config_.message_log_sink != nullptr) {
    message_log_ = std::make_unique<AsyncMessageLog>(*config_.message_log_sink);
  } else if (!config_.message_log_path.empty()) {
    file_sink_ = std::make_unique<FileMessageLogSink>(config_.message_log_path);
    message_log_ = std::make_unique<AsyncMessageLog>(*file_sink_);
  }
  orders_.reserve(config_.completed_order_memory * 2);
  order_ids_.reserve(config_.completed_order_memory * 4);
  prepare_new_orders();
  // ClOrdID blocks are written and fsync'd by the allocator's own thread:
  // the thread that polls this session (with the one-thread hot path, the
  // one that also reads the feeds) never waits for the disk.
  ids_.reserve_in_background();
}

GatewaySession::Impl::~Impl() { stop(0); }

void GatewaySession::Impl::start() {
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

void GatewaySession::Impl::stop(int logout_wait_ms) {
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

bool GatewaySession::Impl::begin_logout() {
  if (!initiator_ || !logged_on()) {
    return false;
  }
  session_->logout("synthusd gateway stopping");
  return true;
}

// Tracked from onLogon/onLogout rather than read from QuickFIX's session
// state, which QuickFIX's thread writes without synchronisation.
bool GatewaySession::Impl::logged_on() const {
  return session_ != nullptr && logged_on_.load(std::memory_order_acquire);
}

void GatewaySession::Impl::disconnect() {
  if (session_ != nullptr) {
    session_->disconnect();
  }
}

void GatewaySession::Impl::annotate(const std::string& note) {
  if (message_log_) {
    message_log_->push(LogDirection::note, note);
  }
}

void GatewaySession::Impl::flush_log() {
  if (message_log_) {
    message_log_->flush();
  }
}

GatewayCounters GatewaySession::Impl::counters() const {
  GatewayCounters result = counters_;
  result.duplicate_execution_reports = duplicates_.load(std::memory_order_relaxed);
  result.possible_duplicates_received = possible_duplicates_.load(std::memory_order_relaxed);
  result.application_resends_suppressed = resends_suppressed_.load(std::memory_order_relaxed);
  result.exec_ids_reused = exec_ids_reused_.load(std::memory_order_relaxed);
  result.inbound_queue_waits = queue_waits_.load(std::memory_order_relaxed);
  return result;
}

std::size_t GatewaySession::Impl::open_orders() const {
  std::size_t open = 0;
  for (const auto& entry : orders_) {
    open += entry.second.done ? 0 : 1;
  }
  return open;
}

std::size_t GatewaySession::Impl::poll(std::size_t max_messages) {
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
    if (collateral_deferred_ || collateral_.due(now)) {
      request_collateral();
    }
    retry_deferred_requests();
  }
  return handled;
}

bool GatewaySession::Impl::spend_query_credits(bool already_deferred) {
  VenueCreditBudget* budget = config_.request_credits.get();
  if (budget == nullptr) {
    return true;
  }
  const std::int64_t reserve = budget->limit().maximum * config_.query_credit_reserve_percent / 100;
  if (budget->try_spend(wall_clock_ns(), reserve)) {
    return true;
  }
  counters_.requests_deferred_for_credits += already_deferred ? 0 : 1;
  return false;
}

void GatewaySession::Impl::spend_request_credits() {
  if (config_.request_credits != nullptr) {
    config_.request_credits->spend(wall_clock_ns());
  }
}

// Status requests held back for credits, oldest first; the first one still
// short stops the round (the rest would be too).
void GatewaySession::Impl::retry_deferred_requests() {
  std::size_t done = 0;
  for (; done < deferred_status_requests_.size(); ++done) {
    const Order* order = find_open(deferred_status_requests_[done]);
    if (order == nullptr) {
      continue; // finished meanwhile: nothing to ask
    }
    if (!spend_query_credits(true)) {
      break;
    }
    send_status_request_now(*order);
  }
  deferred_status_requests_.erase(deferred_status_requests_.begin(),
                                  deferred_status_requests_.begin() + static_cast<std::ptrdiff_t>(done));
}

GatewayConfig GatewaySession::Impl::validated(GatewayConfig config) {
  if (config.sender_comp_id.empty() || config.target_comp_id.empty()) {
    throw std::invalid_argument("FIX gateway: sender_comp_id and target_comp_id are required");
  }
  if (config.port <= 0 || config.port > 65535) {
    throw std::invalid_argument("FIX gateway: port " + std::to_string(config.port) + " is not a TCP port");
  }
  if (config.query_credit_reserve_percent < 0 || config.query_credit_reserve_percent > 90) {
    throw std::invalid_argument("FIX gateway: query_credit_reserve_percent must be within 0..90");
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
  // A ClOrdID is kept inline (IdText, 64 characters, Deribit's limit): the
  // prefix leaves room for the longest counter.
  if (config.client_order_id_prefix.size() + kMaxClientOrderIdCounterDigits > sizeof(IdText::data) - 1) {
    throw std::invalid_argument("FIX gateway: client_order_id_prefix is longer than " +
                                std::to_string(sizeof(IdText::data) - 1 - kMaxClientOrderIdCounterDigits) +
                                " characters");
  }
  if (config.inbound_queue_capacity == 0 || config.completed_order_memory == 0) {
    throw std::invalid_argument("FIX gateway: queue and memory capacities must be positive");
  }
  return config;
}

FIX::SessionSettings GatewaySession::Impl::make_settings() const {
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

void GatewaySession::Impl::hand_over(const Inbound& inbound) {
  {
    std::lock_guard<std::mutex> lock(producer_mutex_);
    if (!inbound_.push(inbound)) {
      queue_waits_.fetch_add(1, std::memory_order_relaxed);
      while (!inbound_.push(inbound)) {
        if (stopping_.load(std::memory_order_relaxed)) {
          return;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    }
  }
  if (inbound_notifier_ != nullptr) {
    inbound_notifier_(inbound_notifier_context_); // after the push: the owner's re-check sees it
  }
}

GatewayAlert GatewaySession::Impl::make_alert(AlertKind kind, std::int64_t time) const {
  GatewayAlert alert;
  alert.kind = kind;
  alert.receive_time_ns = time;
  return alert;
}

void GatewaySession::Impl::handle(const Inbound& inbound) {
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
    collateral_.on_ack(inbound.collateral, inbound.reference, inbound.text, inbound.malformed, inbound.receive_time_ns,
                       listener_);
    break;
  case InboundKind::logon:
    handle_logon(inbound);
    break;
  case InboundKind::logout: {
    outstanding_position_request_.clear();
    position_answer_.request.clear(); // an answer cut short proves nothing of what it left out
    collateral_.reset();
    // A session that ends before it was ever logged on is a failed logon:
    // alerted as such with the reason either side gave, once per attempt.
    const bool failed = !session_established_;
    session_established_ = false;
    if (failed) {
      ++counters_.logon_failures;
    }
    GatewayAlert alert = make_alert(failed ? AlertKind::logon_failed : AlertKind::logout, inbound.receive_time_ns);
    alert.text = inbound.text;
    if (failed && alert.text.empty()) {
      alert.text.assign("disconnected before logon completed (no reason given)");
    }
    listener_.on_alert(alert);
    break;
  }
  case InboundKind::resend_suppressed:
    handle_resend_suppressed(inbound);
    break;
  case InboundKind::sequence_reset:
    handle_sequence_reset(inbound);
    break;
  case InboundKind::unsupported: {
    GatewayAlert alert = make_alert(AlertKind::unsupported_message, inbound.receive_time_ns);
    alert.reference = inbound.reference;
    alert.text.assign("unsupported application message type " + inbound.reference.str());
    listener_.on_alert(alert);
    break;
  }
  }
}

void GatewaySession::Impl::handle_logon(const Inbound& inbound) {
  session_established_ = true;
  GatewayAlert alert = make_alert(AlertKind::logon, inbound.receive_time_ns);
  alert.text.assign(session_id_.toString());
  listener_.on_alert(alert);
  // Reconcile: where do we stand after (re)connecting?
  outstanding_position_request_.clear();
  position_answer_.request.clear();
  reconcile_wanted_ = false;
  request_positions();
  collateral_.reset();
  if (collateral_.supported()) {
    request_collateral();
  }
  if (config_.order_status_on_logon) {
    (void)request_open_orders_status();
  }
}

std::size_t GatewaySession::Impl::request_open_orders_status() {
  std::vector<std::uint64_t> open;
  for (const auto& entry : orders_) {
    if (!entry.second.done) {
      open.push_back(entry.first);
    }
  }
  std::sort(open.begin(), open.end()); // deterministic message order
  for (const std::uint64_t id : open) {
    send_status_request(orders_[id]);
  }
  return open.size();
}

// The venue asked for a stored application message again and got a gap
// fill. If it was about an order still open here, the venue may or may not
// have that order (or its cancel or replace): ask. A status reply books what
// happened (fills from CumQty), an unknown-order reject releases it, and
// silence leaves it to the kernel's order timeout and the position report.
void GatewaySession::Impl::handle_resend_suppressed(const Inbound& inbound) {
  GatewayAlert alert = alert_from(AlertKind::resend_suppressed, inbound);
  const Order* order = find_order(inbound);
  std::string text = "venue asked to resend " + inbound.reference.str() + " (sequence " +
                     std::to_string(inbound.reference_sequence_number) + "); gap-filled, not re-sent";
  if (order != nullptr && !order->done) {
    alert.user_order_id = order->user_order_id;
    text += "; order status requested";
    send_status_request(*order);
  }
  alert.text.assign(text);
  listener_.on_alert(alert);
}

// Messages the venue skipped may have been execution reports: positions are
// requested, and the status of every order still open. A gap fill with no
// order open is routine (a resend over heartbeats) and only reconciles; a
// reset, or a gap fill while orders are open, is alerted.
void GatewaySession::Impl::handle_sequence_reset(const Inbound& inbound) {
  reconcile_wanted_ = true;
  const std::size_t open = request_open_orders_status();
  const bool gap_fill = inbound.exec_type == 'Y';
  if (gap_fill && open == 0) {
    return;
  }
  GatewayAlert alert = make_alert(AlertKind::sequence_reset, inbound.receive_time_ns);
  alert.reference_sequence_number = inbound.reference_sequence_number;
  alert.text.assign(std::string(gap_fill ? "gap fill" : "sequence reset") + " from " +
                    std::to_string(inbound.reference_sequence_number) + " to " + std::to_string(inbound.reason) +
                    ": reports in between never come; positions and the status of " + std::to_string(open) +
                    " open order(s) requested");
  listener_.on_alert(alert);
}

// A venue that rejects CollateralInquiry outright is not asked again
// periodically until the next logon; the reject itself is alerted.
void GatewaySession::Impl::note_collateral_refusal(const Inbound& inbound) {
  if (inbound.reference_message_type.equals(FIX::MsgType_CollateralInquiry) ||
      inbound.reference_message_type.equals(FIX::MsgType_UserRequest)) {
    collateral_.refused();
  }
}

#pragma GCC diagnostic pop

GatewaySession::GatewaySession(GatewayConfig config, GatewayListener& listener)
    : impl_(new Impl(std::move(config), listener)) {}

GatewaySession::~GatewaySession() = default;

void GatewaySession::start() { impl_->start(); }
void GatewaySession::stop(int logout_wait_ms) { impl_->stop(logout_wait_ms); }
bool GatewaySession::begin_logout() { return impl_->begin_logout(); }
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

bool GatewaySession::reserve_ahead() noexcept {
  try {
    return impl_->reserve_ahead();
  } catch (const std::exception&) {
    return false;
  }
}

bool GatewaySession::has_inbound() const noexcept { return impl_->has_inbound(); }

bool GatewaySession::client_order_id_reservation_pending() const noexcept {
  return impl_->client_order_id_reservation_pending();
}

void GatewaySession::set_inbound_notifier(InboundNotifier notifier, void* context) noexcept {
  impl_->set_inbound_notifier(notifier, context);
}

void GatewaySession::set_send_observer(SendObserver observer, void* context) noexcept {
  impl_->set_send_observer(observer, context);
}

std::uint64_t GatewaySession::client_order_id_reservations_on_order_path() const {
  return impl_->client_order_ids().reservations_in_next();
}
std::size_t GatewaySession::open_orders() const { return impl_->open_orders(); }
void GatewaySession::disconnect() { impl_->disconnect(); }

} // namespace fix
} // namespace synthusd
