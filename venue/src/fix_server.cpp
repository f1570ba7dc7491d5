// Compiled as C++14: this file includes QuickFIX (see fix_server.hpp).

#include "synthusd/venue/fix_server.hpp"

#include <quickfix/Application.h>
#include <quickfix/Exceptions.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Message.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>

#include <dirent.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/socket.h>

#include <cstdlib>
#include <exception>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

// FIX::Application's virtual functions carry dynamic exception
// specifications, which an override must repeat; C++14 deprecates them
// (hence the NOLINT block around the applications).
#pragma GCC diagnostic ignored "-Wdeprecated"

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace venue {
namespace {

// The application message types the venue handles; QuickFIX answers any
// other one with a BusinessMessageReject when fromApp throws.
bool is_venue_message_type(const std::string& type) {
  return type == "D" || type == "F" || type == "G" || type == "q" || type == "AN" || type == "BB" || type == "BE" ||
         type == "AF";
}

std::string base64(const unsigned char* data, std::size_t size) {
  std::string text(4 * ((size + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&text[0]), data, static_cast<int>(size));
  text.resize(written < 0 ? 0 : static_cast<std::size_t>(written));
  return text;
}

// Deribit's logon signature: base64 of the raw 32-byte SHA-256 of
// RawData(96) followed by the client secret.
std::string logon_password(const std::string& raw_data, const std::string& secret) {
  const std::string input = raw_data + secret;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64(digest, sizeof digest);
}

// Listening TCP sockets of this process, as (fd, port). QuickFIX 1.15.1 does
// not expose the port its acceptor bound, which matters for port 0, so the
// server compares this set before and after SocketAcceptor::start().
std::set<std::pair<int, std::uint16_t>> listening_sockets() {
  std::set<std::pair<int, std::uint16_t>> sockets;
  DIR* directory = opendir("/proc/self/fd");
  if (directory == nullptr) {
    return sockets;
  }
  while (const dirent* entry = readdir(directory)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') {
      continue;
    }
    int listening = 0;
    socklen_t length = sizeof listening;
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || listening == 0) {
      continue;
    }
    sockaddr_storage address{};
    socklen_t address_length = sizeof address;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&address), &address_length) != 0) {
      continue;
    }
    if (address.ss_family == AF_INET) {
      const auto* ipv4 = reinterpret_cast<const sockaddr_in*>(&address);
      sockets.insert(std::make_pair(static_cast<int>(fd), ntohs(ipv4->sin_port)));
    } else if (address.ss_family == AF_INET6) {
      const auto* ipv6 = reinterpret_cast<const sockaddr_in6*>(&address);
      sockets.insert(std::make_pair(static_cast<int>(fd), ntohs(ipv6->sin6_port)));
    }
  }
  closedir(directory);
  return sockets;
}

// NOLINTBEGIN(modernize-use-noexcept)
class ApplicationBase : public FIX::Application {
public:
  explicit ApplicationBase(const FixServerConfig& config) : config_(config) {}

  void onCreate(const FIX::SessionID&) override {}
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}

  void fromAdmin(const FIX::Message& message, const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                           FIX::IncorrectTagValue,
                                                                           FIX::RejectLogon) override {
    if (message.getHeader().getField(FIX::FIELD::MsgType) != FIX::MsgType_Logon) {
      return;
    }
    {
      // Read before the credentials check: a rejected logon never trades.
      const bool per_fill =
          message.isSetField(kReportFillsAsExecReports) && message.getField(kReportFillsAsExecReports) == "Y";
      const std::string client = message.getHeader().getField(FIX::FIELD::SenderCompID);
      std::lock_guard<std::mutex> lock(fills_mutex_);
      if (per_fill) {
        fills_as_reports_.insert(client);
      } else {
        fills_as_reports_.erase(client);
      }
    }
    if (config_.logon_secret.empty()) {
      return;
    }
    if (!message.isSetField(FIX::FIELD::RawData) || !message.isSetField(FIX::FIELD::Password)) {
      throw FIX::RejectLogon("RawData(96) and Password(554) are required");
    }
    const std::string expected = logon_password(message.getField(FIX::FIELD::RawData), config_.logon_secret);
    if (message.getField(FIX::FIELD::Password) != expected) {
      throw FIX::RejectLogon("invalid credentials");
    }
  }

  bool fills_as_reports(const std::string& client) const {
    std::lock_guard<std::mutex> lock(fills_mutex_);
    return fills_as_reports_.count(client) != 0;
  }

protected:
  static constexpr int kReportFillsAsExecReports = 9015; // Deribit's logon flag
  const FixServerConfig& config_;

private:
  mutable std::mutex fills_mutex_;
  std::set<std::string> fills_as_reports_;
};

// QuickFIX's acceptance-test application (src/at_application.h),
// re-implemented for FIX 4.4 only.
class AcceptanceApplication : public ApplicationBase {
public:
  using ApplicationBase::ApplicationBase;

  void onCreate(const FIX::SessionID& session_id) override {
    // As the reference does: start every session from sequence number 1,
    // whatever a FileStore remembers.
    if (FIX::Session* session = FIX::Session::lookupSession(session_id)) {
      session->reset();
    }
  }

  void onLogon(const FIX::SessionID&) override {}

  void onLogout(const FIX::SessionID& session_id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = seen_orders_.begin(); it != seen_orders_.end();) {
      if (it->second == session_id) {
        it = seen_orders_.erase(it);
      } else {
        ++it;
      }
    }
  }

  void fromApp(const FIX::Message& message,
               const FIX::SessionID& session_id) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                       FIX::IncorrectTagValue, FIX::UnsupportedMessageType) override {
    const std::string& type = message.getHeader().getField(FIX::FIELD::MsgType);
    if (type == FIX::MsgType_NewOrderSingle) {
      echo_order(message, session_id);
    } else if (type == FIX::MsgType_SecurityDefinition || type == FIX::MsgType_Email) {
      FIX::Message echo = message;
      FIX::Session::sendToTarget(echo, session_id);
    } else {
      throw FIX::UnsupportedMessageType();
    }
  }

private:
  void echo_order(const FIX::Message& message, const FIX::SessionID& session_id) {
    FIX::PossResend possible_resend(false);
    message.getHeader().getFieldIfSet(possible_resend);
    const std::pair<std::string, FIX::SessionID> key(message.getField(FIX::FIELD::ClOrdID), session_id);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (possible_resend && seen_orders_.count(key) != 0) {
        return;
      }
      seen_orders_.insert(key);
    }
    FIX::Message echo = message;
    FIX::Session::sendToTarget(echo, session_id);
  }

  std::mutex mutex_;
  std::set<std::pair<std::string, FIX::SessionID>> seen_orders_;
};

class VenueApplication : public ApplicationBase {
public:
  VenueApplication(const FixServerConfig& config, FixServerHandler& handler)
      : ApplicationBase(config), handler_(handler) {}

  void onLogon(const FIX::SessionID& session_id) override { handler_.on_logon(session_id.getTargetCompID()); }
  void onLogout(const FIX::SessionID& session_id) override { handler_.on_logout(session_id.getTargetCompID()); }

  void fromApp(const FIX::Message& message,
               const FIX::SessionID& session_id) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                       FIX::IncorrectTagValue, FIX::UnsupportedMessageType) override {
    const FIX::Header& header = message.getHeader();
    InboundMessage inbound;
    inbound.msg_type = header.getField(FIX::FIELD::MsgType);
    if (!is_venue_message_type(inbound.msg_type)) {
      throw FIX::UnsupportedMessageType();
    }
    inbound.client = session_id.getTargetCompID();
    inbound.message_sequence_number = std::atoll(header.getField(FIX::FIELD::MsgSeqNum).c_str());
    inbound.possible_resend =
        header.isSetField(FIX::FIELD::PossResend) && header.getField(FIX::FIELD::PossResend) == "Y";
    append_fields(message, inbound.fields);
    handler_.on_message(std::move(inbound));
  }

private:
  // Body fields in order; with a dictionary, group entries follow.
  static void append_fields(const FIX::FieldMap& map, std::vector<Field>& out) {
    for (const FIX::FieldBase& base : map) {
      Field field;
      field.tag = base.getTag();
      field.value = base.getString();
      out.push_back(std::move(field));
    }
    for (auto group = map.g_begin(); group != map.g_end(); ++group) {
      for (const FIX::FieldMap* entry : group->second) {
        append_fields(*entry, out);
      }
    }
  }

  FixServerHandler& handler_;
};
// NOLINTEND(modernize-use-noexcept)

} // namespace

struct FixServer::Impl {
  FixServerConfig config;
  FixServerHandler* handler = nullptr;
  std::unique_ptr<ApplicationBase> application;
  std::unique_ptr<FIX::MessageStoreFactory> store;
  std::unique_ptr<FIX::LogFactory> log;
  std::unique_ptr<FIX::SocketAcceptor> acceptor;
  std::uint16_t port = 0;
  bool running = false;

  FIX::SessionID session_id(const std::string& client) const {
    return FIX::SessionID(config.begin_string, config.sender_comp_id, client);
  }

  FIX::SessionSettings settings() const {
    FIX::Dictionary defaults;
    defaults.setString("ConnectionType", "acceptor");
    defaults.setInt("SocketAcceptPort", config.port);
    defaults.setBool("SocketReuseAddress", true);
    defaults.setBool("SocketNodelay", true);
    defaults.setString("StartTime", "00:00:00");
    defaults.setString("EndTime", "00:00:00");
    defaults.setString("SenderCompID", config.sender_comp_id);
    defaults.setBool("ResetOnLogon", config.reset_on_logon);
    if (config.data_dictionary.empty()) {
      defaults.setBool("UseDataDictionary", false);
    } else {
      defaults.setBool("UseDataDictionary", true);
      defaults.setString("DataDictionary", config.data_dictionary);
      if (!config.acceptance) {
        defaults.setBool("ValidateUserDefinedFields", config.validate_user_defined_fields);
      }
    }
    if (!config.file_store_path.empty()) {
      defaults.setString("FileStorePath", config.file_store_path);
    }
    if (!config.log_path.empty()) {
      defaults.setString("FileLogPath", config.log_path);
    }
    FIX::SessionSettings settings;
    settings.set(defaults);
    for (const std::string& target : config.target_comp_ids) {
      FIX::Dictionary session;
      session.setString("BeginString", config.begin_string);
      session.setString("TargetCompID", target);
      settings.set(session_id(target), session);
    }
    return settings;
  }
};

FixServer::FixServer(FixServerConfig config, FixServerHandler* handler) : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  impl_->handler = handler;
  if (impl_->config.acceptance) {
    impl_->application = std::make_unique<AcceptanceApplication>(impl_->config);
  } else {
    if (handler == nullptr) {
      throw std::invalid_argument("FixServer: venue mode needs a handler");
    }
    impl_->application = std::make_unique<VenueApplication>(impl_->config, *handler);
  }
}

FixServer::~FixServer() { stop(); }

void FixServer::start() {
  if (impl_->running) {
    return;
  }
  try {
    const FIX::SessionSettings settings = impl_->settings();
    if (impl_->config.file_store_path.empty()) {
      impl_->store = std::make_unique<FIX::MemoryStoreFactory>();
    } else {
      impl_->store = std::make_unique<FIX::FileStoreFactory>(impl_->config.file_store_path);
    }
    if (impl_->config.log_path.empty()) {
      impl_->acceptor = std::make_unique<FIX::SocketAcceptor>(*impl_->application, *impl_->store, settings);
    } else {
      impl_->log = std::make_unique<FIX::FileLogFactory>(impl_->config.log_path);
      impl_->acceptor =
          std::make_unique<FIX::SocketAcceptor>(*impl_->application, *impl_->store, settings, *impl_->log);
    }
    const std::set<std::pair<int, std::uint16_t>> before = listening_sockets();
    impl_->acceptor->start();
    impl_->running = true;
    impl_->port = impl_->config.port;
    if (impl_->port == 0) {
      const std::set<std::pair<int, std::uint16_t>> after = listening_sockets();
      for (const std::pair<int, std::uint16_t>& socket : after) {
        if (before.count(socket) == 0) {
          impl_->port = socket.second;
          break;
        }
      }
      if (impl_->port == 0) {
        throw std::runtime_error("cannot find the port the FIX acceptor listens on");
      }
    }
  } catch (const std::exception& error) {
    // FIX::ConfigError and FIX::RuntimeError are std::logic_errors whose
    // what() names the problem.
    stop();
    throw std::runtime_error(std::string("FIX acceptor: ") + error.what());
  }
}

std::uint16_t FixServer::port() const { return impl_->port; }

bool FixServer::fills_as_reports(const std::string& client) const {
  return impl_->application->fills_as_reports(client);
}

void FixServer::stop() {
  if (impl_->acceptor && impl_->running) {
    impl_->running = false;
    impl_->acceptor->stop();
  }
}

bool FixServer::send(const std::string& client, const OutboundMessage& outbound) {
  FIX::Session* session = FIX::Session::lookupSession(impl_->session_id(client));
  if (session == nullptr || !session->isLoggedOn()) {
    return false;
  }
  FIX::Message message;
  message.getHeader().setField(FIX::MsgType(outbound.msg_type));
  for (const Field& field : outbound.fields) {
    message.setField(field.tag, field.value);
  }
  for (const FieldGroup& group : outbound.groups) {
    if (group.order.empty()) {
      continue;
    }
    std::vector<int> order(group.order);
    order.push_back(0); // QuickFIX's terminator
    for (const std::vector<Field>& fields : group.entries) {
      FIX::Group entry(group.count_tag, group.order.front(), order.data());
      for (const Field& field : fields) {
        entry.setField(field.tag, field.value);
      }
      message.addGroup(entry);
    }
    if (group.entries.empty()) {
      message.setField(group.count_tag, "0");
    }
  }
  try {
    return session->send(message);
  } catch (const std::exception&) {
    return false; // an IOException from the store: the session logs it
  }
}

} // namespace venue
} // namespace synthusd
