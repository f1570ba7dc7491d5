// Compiled as C++14: includes QuickFIX. See gateway_test_venue.hpp.

#include "gateway_test_venue.hpp"
#include "gateway_test_venue_impl.hpp"

#include "synthusd/fix/deribit.hpp"

#include <quickfix/Session.h>
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

using namespace detail; // NOLINT(google-build-using-namespace)

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated"

void TestVenue::Impl::start() {
  FIX::Dictionary defaults;
  defaults.setString(FIX::CONNECTION_TYPE, "acceptor");
  defaults.setBool(FIX::SOCKET_NODELAY, true);
  defaults.setBool(FIX::SOCKET_REUSE_ADDRESS, true);
  FIX::Dictionary session;
  session.setString(FIX::BEGINSTRING, FIX::BeginString_FIX44);
  session.setString(FIX::SENDERCOMPID, config_.sender_comp_id);
  session.setString(FIX::TARGETCOMPID, config_.target_comp_id);
  session.setString(FIX::START_TIME, "00:00:00");
  session.setString(FIX::END_TIME, "00:00:00");
  session.setBool(FIX::USE_DATA_DICTIONARY, false);
  session.setBool(FIX::RESET_ON_LOGON, config_.reset_on_logon);
  session.setBool(FIX::CHECK_LATENCY, false);
  session.setInt(FIX::TIMESTAMP_PRECISION, 3);
  if (config_.store_directory.empty()) {
    store_factory_.reset(new FIX::MemoryStoreFactory());
  } else {
    store_factory_.reset(new FIX::FileStoreFactory(config_.store_directory));
  }
  for (int attempt = 1;; ++attempt) {
    session.setInt(FIX::SOCKET_ACCEPT_PORT, config_.port);
    FIX::SessionSettings settings;
    settings.set(defaults);
    settings.set(session_id_, session);
    acceptor_.reset(new FIX::SocketAcceptor(*this, *store_factory_, settings, log_factory_));
    session_ = acceptor_->getSession(session_id_);
    session_->setDataDictionaryProvider(make_gateway_dictionary_provider());
    try {
      acceptor_->start();
      port_picked_ = false; // bound: from now on this venue's port is fixed
      return;
    } catch (const FIX::RuntimeError&) { // "Unable to create, bind, or listen to port"
      acceptor_.reset();
      session_ = nullptr;
      if (!port_picked_ || port_read_ || attempt == 5) {
        throw;
      }
      config_.port = find_free_port(); // taken since it was picked: pick again
    }
  }
}

void TestVenue::Impl::stop() {
  if (acceptor_) {
    acceptor_->stop(true);
    acceptor_.reset();
    session_ = nullptr;
  }
}

bool TestVenue::Impl::send(const std::string& body) {
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

bool TestVenue::Impl::resend_last_execution_report() {
  std::string last;
  {
    std::lock_guard<std::mutex> lock(log_mutex_);
    last = last_execution_report_;
  }
  return !last.empty() && send(pipes(body_of(last)));
}

void TestVenue::Impl::reset_sequence(int new_sequence) {
  FIX44::SequenceReset reset;
  reset.set(FIX::NewSeqNo(new_sequence));
  reset.set(FIX::GapFillFlag(false));
  session_->send(reset);
  session_->setNextSenderMsgSeqNum(new_sequence);
}

void TestVenue::Impl::disconnect() {
  if (session_ != nullptr) {
    session_->disconnect();
  }
}

void TestVenue::Impl::fromAdmin(const FIX::Message& message,
                                const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                             FIX::IncorrectTagValue, FIX::RejectLogon) {
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
    // ReportFillsAsExecReports(9015)=Y: one report per fill, else a fills
    // group (docs.deribit.com/fix-api/production/logon).
    fills_as_reports_.store(message.isSetField(9015) && message.getField(9015) == "Y");
  } else if (!config_.secret.empty() && password != config_.secret) {
    throw FIX::RejectLogon("invalid credentials");
  }
}

void TestVenue::Impl::fromApp(const FIX::Message& message,
                              const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                           FIX::IncorrectTagValue, FIX::UnsupportedMessageType) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!config_.automatic) {
    return;
  }
  const std::string& type = message.getHeader().getField(FIX::FIELD::MsgType);
  if (config_.deribit) {
    // Every request costs credits, queries (AN, BE, AF) as much as orders.
    if (!spend_credits()) {
      return;
    }
    if (type == FIX::MsgType_OrderStatusRequest || type == FIX::MsgType_CollateralInquiry) {
      reject_unsupported(message); // not in Deribit's message list
      return;
    }
    if (type == FIX::MsgType_OrderMassStatusRequest) {
      on_mass_status_request(message);
      return;
    }
    if (type == FIX::MsgType_UserRequest) {
      on_user_request(message);
      return;
    }
  }
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

void TestVenue::Impl::record(bool incoming, const std::string& text) {
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
std::size_t TestVenue::logouts_sent_for_rate_limit() const { return impl_->rate_limit_logouts(); }
bool TestVenue::fill_levels(const std::string& id, const std::vector<std::pair<std::int64_t, std::int64_t>>& levels) {
  return impl_->fill_levels(id, levels);
}
std::vector<std::string> TestVenue::sent() const { return impl_->sent(); }

} // namespace testing
} // namespace fix
} // namespace synthusd
