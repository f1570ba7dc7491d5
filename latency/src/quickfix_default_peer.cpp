// The QuickFIX-default send path, as an application written from QuickFIX's
// own examples would do it: a SocketInitiator with FileStore and FileLog
// (every message stored and logged before it is sent), a new
// FIX44::NewOrderSingle built per order and sent with Session::sendToTarget.
// Only SocketNodelay=Y differs from QuickFIX's defaults, so the comparison
// measures QuickFIX's work, not Nagle's algorithm. C++14 (QuickFIX headers).

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>

#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>
#include <quickfix/fix44/NewOrderSingle.h>

#include "trigger_frame.hpp"

// FIX::Application's virtual functions carry dynamic exception
// specifications, which an override must repeat; C++14 deprecates them.
#pragma GCC diagnostic ignored "-Wdeprecated"

namespace synthusd {
namespace latency {
namespace {

class DefaultApplication : public FIX::Application {
public:
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID& session) override {
    session_ = session;
    logged_on_.store(true, std::memory_order_release);
  }
  void onLogout(const FIX::SessionID&) override { logged_on_.store(false, std::memory_order_release); }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message&, const FIX::SessionID&) throw(FIX::DoNotSend) override {}
  void fromAdmin(const FIX::Message&, const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                   FIX::IncorrectTagValue, FIX::RejectLogon) override {}
  void fromApp(const FIX::Message&, const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                                                 FIX::IncorrectTagValue,
                                                                 FIX::UnsupportedMessageType) override {}

  bool logged_on() const { return logged_on_.load(std::memory_order_acquire); }
  const FIX::SessionID& session() const { return session_; }

private:
  std::atomic<bool> logged_on_{false};
  FIX::SessionID session_;
};

} // namespace

int run_quickfix_default_peer(std::uint16_t trigger_port, std::uint16_t fix_port, const char* directory) {
  std::ostringstream text;
  text << "[DEFAULT]\nConnectionType=initiator\nSocketConnectHost=127.0.0.1\nSocketConnectPort=" << fix_port
       << "\nHeartBtInt=30\nReconnectInterval=1\nStartTime=00:00:00\nEndTime=00:00:00\nUseDataDictionary=N\n"
       << "ResetOnLogon=Y\nSocketNodelay=Y\nFileStorePath=" << directory << "/store\nFileLogPath=" << directory
       << "/log\n[SESSION]\nBeginString=FIX.4.4\nSenderCompID=DEFAULT\nTargetCompID=LATENCY\n";
  std::istringstream stream(text.str());
  try {
    FIX::SessionSettings settings(stream);
    DefaultApplication application;
    FIX::FileStoreFactory store(settings);
    FIX::FileLogFactory log(settings);
    FIX::SocketInitiator initiator(application, store, settings, log);
    initiator.start();
    for (int i = 0; i < 1000 && !application.logged_on(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!application.logged_on()) {
      initiator.stop();
      return 1;
    }
    const int fd = connect_loopback(trigger_port);
    if (fd < 0) {
      initiator.stop();
      return 1;
    }
    std::string input;
    char buffer[16384];
    long long next_id = 1;
    for (;;) {
      const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
      if (got == 0 || (got < 0 && errno != EINTR)) {
        break;
      }
      if (got < 0) {
        continue;
      }
      input.append(buffer, static_cast<std::size_t>(got));
      for (std::size_t length = complete_frame(input.data(), input.size()); length > 0;
           length = complete_frame(input.data(), input.size())) {
        input.erase(0, length);
        FIX44::NewOrderSingle order(FIX::ClOrdID("Q" + std::to_string(next_id++)), FIX::Side(FIX::Side_SELL),
                                    FIX::TransactTime(), FIX::OrdType(FIX::OrdType_LIMIT));
        order.set(FIX::Symbol("BTC_USDC-PERPETUAL"));
        order.set(FIX::OrderQty(1960));
        order.set(FIX::Price(49975.5));
        order.set(FIX::TimeInForce(FIX::TimeInForce_IMMEDIATE_OR_CANCEL));
        FIX::Session::sendToTarget(order, application.session());
      }
    }
    ::close(fd);
    initiator.stop();
  } catch (const std::exception&) {
    return 1;
  }
  return 0;
}

} // namespace latency
} // namespace synthusd
