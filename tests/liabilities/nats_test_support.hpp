#pragma once
// Fixtures for the NATS source tests: a real JetStream nats-server (one per
// test, its own port and store directory), a wallet backend publishing with
// cnats, a temporary journal, and polling helpers.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "synthusd/engine/journal.hpp"
#include "synthusd/liabilities/nats_source.hpp"

namespace synthusd::liabilities::nats_test {

using namespace std::chrono_literals;

[[nodiscard]] int free_port();
[[nodiscard]] bool port_accepts(int port);

// A JetStream-enabled nats-server on a free loopback port with its own store
// directory; stop() and start() again keep port and store (a server restart).
class NatsServer {
public:
  NatsServer() {
    char pattern[] = "/tmp/synthusd_nats_XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    dir_ = pattern;
    // Another test process may grab the port between free_port() and the
    // server's bind: try a few.
    for (int attempt = 0; attempt < 5 && pid_ < 0; ++attempt) {
      port_ = free_port();
      start();
    }
    if (pid_ < 0) {
      throw std::runtime_error("nats-server did not start; see " + dir_ + "/server.log");
    }
  }
  ~NatsServer() {
    stop();
    std::filesystem::remove_all(dir_);
  }
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  // Leaves pid_ at -1 when the server exited instead of listening.
  void start() {
    const std::string binary =
        std::filesystem::exists("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server";
    const std::string port = std::to_string(port_);
    const std::string store = dir_ + "/store";
    const std::string log = dir_ + "/server.log";
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execlp(binary.c_str(), "nats-server", "-js", "-a", "127.0.0.1", "-p", port.c_str(), "-sd", store.c_str(),
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    pid_ = pid;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (port_accepts(port_)) {
        return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(10ms);
    }
    stop();
  }

  void stop() {
    if (pid_ < 0) {
      return;
    }
    ::kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(5ms);
    }
    pid_ = -1;
  }

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

struct ConsumerState {
  std::int64_t ack_pending = -1; // delivered, neither acked nor terminated
  std::uint64_t pending = 0;     // not delivered yet
  std::uint64_t ack_floor = 0;   // stream sequence everything up to which is acked
};

// A wallet backend: publishes events with cnats.
class Wallet {
public:
  explicit Wallet(const std::string& url) {
    if (natsConnection_ConnectTo(&connection_, url.c_str()) != NATS_OK ||
        natsConnection_JetStream(&js_, connection_, nullptr) != NATS_OK) {
      throw std::runtime_error("test publisher cannot connect to " + url);
    }
  }
  ~Wallet() {
    jsCtx_Destroy(js_);
    natsConnection_Destroy(connection_);
  }
  Wallet(const Wallet&) = delete;
  Wallet& operator=(const Wallet&) = delete;

  void create_stream(const char* stream = "SYNTHUSD_LIABILITY", const char* subject = "synthusd.liability") {
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    const char* subjects[] = {subject};
    config.Name = stream;
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    jsStreamInfo* info = nullptr;
    ASSERT_EQ(js_AddStream(&info, js_, &config, nullptr, nullptr), NATS_OK) << nats_GetLastError(nullptr);
    jsStreamInfo_Destroy(info);
  }

  // Returns the stream sequence; `msg_id` is JetStream's own dedupe key.
  std::uint64_t publish(const std::string& payload, const char* msg_id = nullptr) {
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MsgId = msg_id;
    jsPubAck* ack = nullptr;
    const natsStatus status = js_Publish(&ack, js_, "synthusd.liability", payload.data(),
                                         static_cast<int>(payload.size()), &options, nullptr);
    EXPECT_EQ(status, NATS_OK) << nats_GetLastError(nullptr);
    const std::uint64_t sequence = ack != nullptr ? ack->Sequence : 0;
    jsPubAck_Destroy(ack);
    return sequence;
  }

  void delete_consumer(const char* durable = "synthusd-engine") {
    EXPECT_EQ(js_DeleteConsumer(js_, "SYNTHUSD_LIABILITY", durable, nullptr, nullptr), NATS_OK);
  }

  // What the server knows about the durable consumer.
  ConsumerState consumer(const char* durable = "synthusd-engine") {
    jsConsumerInfo* info = nullptr;
    ConsumerState state;
    if (js_GetConsumerInfo(&info, js_, "SYNTHUSD_LIABILITY", durable, nullptr, nullptr) == NATS_OK) {
      state = {info->NumAckPending, info->NumPending, info->AckFloor.Stream};
      jsConsumerInfo_Destroy(info);
    }
    return state;
  }

private:
  natsConnection* connection_ = nullptr;
  jsCtx* js_ = nullptr;
};

std::string event(const std::string& id, const char* kind, const char* amount_field, std::int64_t amount);
std::string credit(const std::string& id, std::int64_t cents);

class TempJournal {
public:
  TempJournal()
      : path_(std::filesystem::temp_directory_path() /
              ("synthusd_nats_journal_" + std::to_string(::getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove(path_);
  }
  ~TempJournal() { std::filesystem::remove(path_); }
  [[nodiscard]] std::string string() const { return path_.string(); }

  // (event id, delta) of every LiabilityChange, in journal order.
  [[nodiscard]] std::vector<std::pair<std::uint64_t, std::int64_t>> changes() const {
    std::vector<std::pair<std::uint64_t, std::int64_t>> out;
    engine::JournalReader reader(path_.string());
    engine::JournalRecord record;
    while (reader.next(record)) {
      const auto& change = std::get<hedging::LiabilityChange>(record.event);
      out.emplace_back(change.id, change.delta.value);
    }
    return out;
  }

private:
  std::filesystem::path path_;
};

// Polls until `done` or 5 s; returns whether `done` became true.
bool poll_until(NatsLiabilitySource& source, const std::function<bool()>& done);

// The server learns of acks asynchronously; wait for its view.
bool consumer_reaches(Wallet& wallet, const std::function<bool(const ConsumerState&)>& done);

NatsOptions options_for(const NatsServer& server);

std::uint64_t id_of(const char* id);

} // namespace synthusd::liabilities::nats_test
