// The JetStream liability source against a real nats-server (one per test,
// its own port and store directory), publishing with cnats as a wallet
// backend would.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nats/nats.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "liability_test_sinks.hpp"
#include "synthusd/engine/journal.hpp"
#include "synthusd/engine/liability_sink.hpp"
#include "synthusd/engine/nats_source.hpp"

namespace synthusd::engine {
namespace {

using namespace std::chrono_literals;

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool port_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

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

std::string event(const std::string& id, const char* kind, const char* amount_field, std::int64_t amount) {
  return R"({"id":")" + id + R"(","kind":")" + kind + R"(",")" + amount_field + R"(":)" + std::to_string(amount) +
         R"(,"ts":1700000000000})";
}
std::string credit(const std::string& id, std::int64_t cents) { return event(id, "usd_credit", "usd_cents", cents); }

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
    JournalReader reader(path_.string());
    JournalRecord record;
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
bool poll_until(NatsLiabilitySource& source, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    (void)source.poll_once(10);
  }
  return true;
}

// The server learns of acks asynchronously; wait for its view.
bool consumer_reaches(Wallet& wallet, const std::function<bool(const ConsumerState&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done(wallet.consumer())) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

NatsOptions options_for(const NatsServer& server) {
  NatsOptions options;
  options.url = server.url();
  options.reconnect_wait_ms = 50;
  return options;
}

std::uint64_t id_of(const char* id) { return liability_event_id(id); }

TEST(NatsSource, events_become_journaled_changes_with_their_deltas_and_are_acked_once_durable) {
  NatsServer server;
  TempJournal journal_path;
  JournalWriter journal(journal_path.string());
  RecordingSink sink(journal, [] { return hedging::Price::from_dollars(50'000); });
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsOptions options = options_for(server);
  options.create_stream = true; // the stream does not exist yet
  NatsLiabilitySource source(options, admission);

  Wallet wallet(server.url());
  wallet.publish(credit("w-1", 2500));
  wallet.publish(event("w-2", "usd_debit", "usd_cents", 1000));
  wallet.publish(event("w-3", "usd_credit", "sats", 10'000) + "\n"); // a trailing newline is tolerated
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 3; }));

  EXPECT_EQ(source.counters().accepted, 3u);
  EXPECT_EQ(journal.durable_sequence(), 3u);
  // 10,000 sats at $50,000 = $5.00
  const std::vector<std::pair<std::uint64_t, std::int64_t>> expected = {
      {id_of("w-1"), 2500}, {id_of("w-2"), -1000}, {id_of("w-3"), 500}};
  EXPECT_EQ(journal_path.changes(), expected);
  ASSERT_EQ(sink.delivered.size(), 3u);
  EXPECT_EQ(sink.delivered[2].sats, hedging::Sats{10'000});
  EXPECT_TRUE(consumer_reaches(wallet, [](const ConsumerState& c) { return c.ack_pending == 0 && c.ack_floor == 3; }));
}

TEST(NatsSource, nothing_is_acked_before_the_sink_reports_it_durable_and_a_duplicate_waits_for_its_original) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream(); // bind to an existing stream
  ManualSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsLiabilitySource source(options_for(server), admission);

  wallet.publish(credit("d-1", 5));
  wallet.publish(credit("d-2", 7));
  wallet.publish(credit("d-1", 5)); // a wallet retrying after a timeout
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().messages == 3; }));
  for (int round = 0; round < 20; ++round) {
    (void)source.poll_once(2);
  }
  EXPECT_EQ(sink.taken.size(), 2u); // the duplicate changed nothing
  EXPECT_EQ(source.counters().duplicates, 1u);
  EXPECT_EQ(source.counters().acked, 0u);
  EXPECT_EQ(source.unacked(), 3u);
  EXPECT_TRUE(consumer_reaches(wallet, [](const ConsumerState& c) { return c.ack_pending == 3; }));

  sink.durable = 1; // d-1 only: it and its duplicate may go
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 2; }));
  for (int round = 0; round < 10; ++round) {
    (void)source.poll_once(2);
  }
  EXPECT_EQ(source.counters().acked, 2u);
  EXPECT_TRUE(consumer_reaches(wallet, [](const ConsumerState& c) { return c.ack_pending == 1 && c.ack_floor == 1; }));

  sink.durable = 2;
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 3; }));
  EXPECT_TRUE(consumer_reaches(wallet, [](const ConsumerState& c) { return c.ack_pending == 0 && c.ack_floor == 3; }));
}

TEST(NatsSource, the_same_id_published_twice_becomes_one_journaled_event) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  TempJournal journal_path;
  JournalWriter journal(journal_path.string());
  JournalLiabilitySink sink(journal, [] { return hedging::Price{}; });
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsLiabilitySource source(options_for(server), admission);

  // Two wallet backends (or one retrying past JetStream's dedupe window):
  // both copies are in the stream, the engine's dedupe keeps one.
  wallet.publish(credit("x-1", 300), "backend-a-1");
  wallet.publish(credit("x-1", 300), "backend-b-7");
  // Within the window, the same Nats-Msg-Id is dropped by JetStream itself.
  wallet.publish(credit("x-2", 100), "backend-a-2");
  wallet.publish(credit("x-2", 100), "backend-a-2");
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 3; }));
  for (int round = 0; round < 10; ++round) {
    (void)source.poll_once(2);
  }
  EXPECT_EQ(source.counters().messages, 3u);
  EXPECT_EQ(source.counters().accepted, 2u);
  EXPECT_EQ(source.counters().duplicates, 1u);
  const std::vector<std::pair<std::uint64_t, std::int64_t>> expected = {{id_of("x-1"), 300}, {id_of("x-2"), 100}};
  EXPECT_EQ(journal_path.changes(), expected);
}

TEST(NatsSource, unacked_events_come_back_to_the_next_source_and_are_journaled_once) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  TempJournal journal_path;
  {
    // A previous life journaled r-1 but died before its ack went out.
    JournalWriter journal(journal_path.string());
    (void)journal.append(hedging::LiabilityChange{id_of("r-1"), hedging::UsdCents{11}, {}, {}, {}});
    (void)journal.commit();
  }
  wallet.publish(credit("r-1", 11));
  wallet.publish(credit("r-2", 22));
  {
    // This life takes both, but its kernel never makes them durable.
    ManualSink sink;
    LiabilityAdmission admission(sink, hedging::Ratio{});
    NatsLiabilitySource source(options_for(server), admission);
    ASSERT_TRUE(poll_until(source, [&] { return sink.taken.size() == 2; }));
    EXPECT_EQ(source.counters().acked, 0u);
    EXPECT_TRUE(consumer_reaches(wallet, [](const ConsumerState& c) { return c.ack_pending == 2; }));
  }
  wallet.publish(credit("r-3", 33)); // while no engine runs

  JournalWriter journal(journal_path.string());
  RecordingSink sink(journal, [] { return hedging::Price{}; });
  LiabilityAdmission admission(sink, hedging::Ratio{});
  admission.remember_journal(journal_path.string());
  NatsLiabilitySource source(options_for(server), admission);
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked >= 3; }));

  // At least r-1 and r-2 come back; nats-server before 2.10.14 may deliver a
  // naked message a second time with a delivery count of 1 (nats-server
  // #5305), which dedupe absorbs: hence "at least", and the journal below is
  // exact.
  EXPECT_GE(source.counters().redelivered, 1u);
  EXPECT_GE(source.counters().duplicates, 1u); // r-1, already in the journal
  ASSERT_EQ(sink.delivered.size(), 2u);
  EXPECT_EQ(sink.delivered[0].id, id_of("r-2"));
  EXPECT_EQ(sink.delivered[1].id, id_of("r-3"));
  const std::vector<std::pair<std::uint64_t, std::int64_t>> expected = {
      {id_of("r-1"), 11}, {id_of("r-2"), 22}, {id_of("r-3"), 33}};
  EXPECT_EQ(journal_path.changes(), expected);
  EXPECT_TRUE(consumer_reaches(wallet, [](const ConsumerState& c) { return c.ack_pending == 0 && c.pending == 0; }));
}

TEST(NatsSource, malformed_payloads_are_terminated_counted_and_not_redelivered_and_good_ones_still_arrive) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  TempJournal journal_path;
  JournalWriter journal(journal_path.string());
  JournalLiabilitySink sink(journal, [] { return hedging::Price{}; });
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsOptions options = options_for(server);
  options.ack_wait_ms = 300; // an unterminated message would come back within the test
  std::vector<NatsRejection> rejections;
  options.on_reject = [&](const NatsRejection& r) { rejections.push_back(r); };
  NatsLiabilitySource source(options, admission);

  wallet.publish("not json");
  wallet.publish(R"({"id":"m-2","usd_cents":1,"ts":1})");
  wallet.publish(R"({"id":"m-3","kind":"usd_credit","usd_cents":-5,"ts":1})");
  wallet.publish(R"({"id":"m-4","kind":"usd_credit","usd_cents":1,"ts":1,"pad":")" + std::string(5000, 'x') + "\"}");
  wallet.publish(credit("m-5", 42));
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 1; }));
  EXPECT_EQ(source.counters().rejected, 4u);
  ASSERT_EQ(rejections.size(), 4u);
  EXPECT_EQ(rejections[0].reason, "not a JSON object");
  EXPECT_EQ(rejections[1].reason, "kind is missing");
  EXPECT_EQ(rejections[2].reason, "usd_cents must be a positive integer");
  EXPECT_EQ(rejections[3].reason, "payload longer than 4096 bytes");
  EXPECT_EQ(rejections[2].stream_sequence, 3u);
  EXPECT_EQ(journal_path.changes(), (std::vector<std::pair<std::uint64_t, std::int64_t>>{{id_of("m-5"), 42}}));

  // Past the ack wait, nothing came back.
  const auto until = std::chrono::steady_clock::now() + 700ms;
  while (std::chrono::steady_clock::now() < until) {
    (void)source.poll_once(20);
  }
  EXPECT_EQ(source.counters().messages, 5u);
  EXPECT_EQ(source.counters().redelivered, 0u);
  EXPECT_TRUE(consumer_reaches(wallet, [](const ConsumerState& c) { return c.ack_pending == 0 && c.ack_floor == 5; }));
}

TEST(NatsSource, a_restarted_source_resumes_from_its_durable_consumer) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  TempJournal journal_path;
  wallet.publish(credit("s-1", 1));
  {
    JournalWriter journal(journal_path.string());
    JournalLiabilitySink sink(journal, [] { return hedging::Price{}; });
    LiabilityAdmission admission(sink, hedging::Ratio{});
    NatsLiabilitySource source(options_for(server), admission);
    ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 1; }));
  }
  wallet.publish(credit("s-2", 2)); // while the engine is down
  wallet.publish(credit("s-3", 3));

  JournalWriter journal(journal_path.string());
  JournalLiabilitySink sink(journal, [] { return hedging::Price{}; });
  LiabilityAdmission admission(sink, hedging::Ratio{});
  admission.remember_journal(journal_path.string());
  NatsLiabilitySource source(options_for(server), admission);
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 2; }));
  for (int round = 0; round < 10; ++round) {
    (void)source.poll_once(2);
  }
  // Only what it had not acked: s-1 is not seen again.
  EXPECT_EQ(source.counters().messages, 2u);
  EXPECT_EQ(source.counters().duplicates, 0u);
  EXPECT_EQ(source.counters().redelivered, 0u);
  const std::vector<std::pair<std::uint64_t, std::int64_t>> expected = {
      {id_of("s-1"), 1}, {id_of("s-2"), 2}, {id_of("s-3"), 3}};
  EXPECT_EQ(journal_path.changes(), expected);
}

TEST(NatsSource, a_full_sink_holds_messages_back_in_order_without_losing_them) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  ManualSink sink;
  sink.room = 2;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsLiabilitySource source(options_for(server), admission);
  for (int i = 1; i <= 5; ++i) {
    wallet.publish(credit("q-" + std::to_string(i), i));
  }
  ASSERT_TRUE(poll_until(source, [&] { return source.unacked() == 5; }));
  for (int round = 0; round < 10; ++round) {
    (void)source.poll_once(2);
  }
  EXPECT_EQ(sink.taken.size(), 2u);
  EXPECT_GT(source.counters().backpressure, 0u);
  EXPECT_EQ(source.counters().messages, 2u); // the rest are not handled yet

  sink.room = 5; // the kernel drained its queue
  sink.durable = 5;
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 5; }));
  ASSERT_EQ(sink.taken.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(sink.taken[static_cast<std::size_t>(i)].delta, hedging::UsdCents{i + 1});
  }
  EXPECT_EQ(source.counters().redelivered, 0u); // held here, not sent back
  EXPECT_EQ(source.counters().messages, 5u);
}

TEST(NatsSource, an_event_waiting_on_a_slow_sink_is_kept_alive_instead_of_redelivered) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  ManualSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsOptions options = options_for(server);
  options.ack_wait_ms = 400;
  NatsLiabilitySource source(options, admission);
  wallet.publish(credit("k-1", 9));
  ASSERT_TRUE(poll_until(source, [&] { return sink.taken.size() == 1; }));
  // The kernel takes well over the ack wait to make it durable.
  const auto until = std::chrono::steady_clock::now() + 1000ms;
  while (std::chrono::steady_clock::now() < until) {
    (void)source.poll_once(10);
  }
  EXPECT_EQ(source.counters().redelivered, 0u);
  EXPECT_EQ(source.counters().messages, 1u);
  sink.durable = 1;
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 1; }));
}

TEST(NatsSource, sats_without_an_index_price_are_retried_later_not_dropped) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  TempJournal journal_path;
  JournalWriter journal(journal_path.string());
  hedging::Price price{};
  JournalLiabilitySink sink(journal, [&] { return price; });
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsOptions options = options_for(server);
  options.retry_delay_ms = 50;
  NatsLiabilitySource source(options, admission);

  wallet.publish(event("p-1", "usd_credit", "sats", 20'000));
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().deferred >= 1; }));
  EXPECT_EQ(source.counters().rejected, 0u);
  EXPECT_EQ(source.counters().acked, 0u);
  price = hedging::Price::from_dollars(60'000);
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 1; }));
  // 20,000 sats at $60,000 = $12.00
  EXPECT_EQ(journal_path.changes(), (std::vector<std::pair<std::uint64_t, std::int64_t>>{{id_of("p-1"), 1200}}));
}

TEST(NatsSource, survives_a_server_restart_and_counts_the_disconnect) {
  NatsServer server;
  TempJournal journal_path;
  JournalWriter journal(journal_path.string());
  JournalLiabilitySink sink(journal, [] { return hedging::Price{}; });
  LiabilityAdmission admission(sink, hedging::Ratio{});
  {
    Wallet wallet(server.url());
    wallet.create_stream();
    wallet.publish(credit("n-1", 1));
  }
  NatsLiabilitySource source(options_for(server), admission);
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 1; }));

  server.stop();
  for (int round = 0; round < 5; ++round) {
    (void)source.poll_once(10); // keeps polling calmly while disconnected
  }
  server.start();
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().reconnects >= 1; }));
  EXPECT_GE(source.counters().disconnects, 1u);

  Wallet wallet(server.url());
  wallet.publish(credit("n-2", 2));
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 2; }));
  EXPECT_EQ(journal_path.changes(),
            (std::vector<std::pair<std::uint64_t, std::int64_t>>{{id_of("n-1"), 1}, {id_of("n-2"), 2}}));
}

TEST(NatsSource, a_deleted_consumer_is_noticed_and_the_backlog_is_reported) {
  NatsServer server;
  Wallet wallet(server.url());
  wallet.create_stream();
  ManualSink sink;
  sink.room = 1;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  NatsOptions options = options_for(server);
  options.fetch_batch = 1;
  options.consumer_check_ms = 20;
  NatsLiabilitySource source(options, admission);
  for (int i = 1; i <= 4; ++i) {
    wallet.publish(credit("b-" + std::to_string(i), i));
  }
  // One taken, one held for room: the rest stays in the stream (one may
  // already sit in our inbox, delivered to a pull whose Fetch timed out).
  ASSERT_TRUE(poll_until(source, [&] { return source.unacked() == 2 && source.counters().backlog >= 1; }))
      << source.unacked() << " unacked, backlog " << source.counters().backlog;
  sink.room = 4;
  sink.durable = 4;
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().acked == 4 && source.counters().backlog == 0; }));
  EXPECT_EQ(source.counters().consumer_missing, 0u);

  // Deleted, the durable looks like an idle stream to a pull: the source
  // has to ask to notice.
  wallet.delete_consumer();
  ASSERT_TRUE(poll_until(source, [&] { return source.counters().consumer_missing > 0; }));
}

TEST(NatsSource, construction_fails_naming_the_url_or_the_stream_but_never_the_password) {
  ManualSink sink;
  LiabilityAdmission admission(sink, hedging::Ratio{});
  const int closed_port = free_port();
  NatsOptions options;
  options.url = "nats://alice:hunter2@127.0.0.1:" + std::to_string(closed_port);
  try {
    NatsLiabilitySource source(options, admission);
    FAIL() << "connected to a closed port";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(closed_port)), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
  }

  NatsServer server;
  options = options_for(server);
  options.stream = "NO_SUCH_STREAM";
  try {
    NatsLiabilitySource source(options, admission);
    FAIL() << "bound to a stream that does not exist";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("NO_SUCH_STREAM"), std::string::npos) << e.what();
  }

  EXPECT_EQ(redact_nats_url("nats://u:p@a:4222,nats://b:4222,tls://tok@c:4222"),
            "nats://***@a:4222,nats://b:4222,tls://***@c:4222");
  EXPECT_EQ(redact_nats_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
}

} // namespace
} // namespace synthusd::engine
