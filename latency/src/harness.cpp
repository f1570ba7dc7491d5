#include "harness.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <deque>
#include <stdexcept>
#include <string>

#include "fix_acceptor.hpp"
#include "fix_wire.hpp"
#include "market_data_server.hpp"
#include "monotonic_clock.hpp"
#include "synthusd/venue/websocket_server.hpp"
#include "trigger_frame.hpp"

namespace synthusd::latency {
namespace {

constexpr std::int64_t kMillisecond = 1'000'000;
constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kOrderTimeout = kSecond;    // a trigger with no order after this is missing
constexpr std::int64_t kSpinBeforeSend = 30'000;   // busy-poll this long before a send: a timer wake-up is late
constexpr std::int64_t kLateSend = 10'000;         // a send this late is counted in late_sends
constexpr std::int64_t kLevelA = 5'000'000;        // $50,000.00 in cents
constexpr std::int64_t kLevelB = 5'500'000;        // +10 %: outside every band, so the hedge is adjusted
constexpr std::int64_t kPaymentCents = 10'000'000; // $100,000: the liability doubles or halves
constexpr int kSlotsPerCycle = 8;

std::int64_t wall_milliseconds() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Matches orders to the triggers expected to cause them, in order.
class Matcher {
public:
  void expect(PathResult* path, std::int64_t start, bool record) {
    ++path->expected;
    pending_.push_back({path, start, record});
  }
  void on_order(std::int64_t read_nanoseconds, const OrderSeen* order = nullptr) {
    expire(read_nanoseconds);
    if (pending_.empty()) {
      ++unexpected_sink->unexpected;
      return;
    }
    // Engine phase: which kind of trigger caused this order shows in its
    // size. A price jump adjusts the hedge by about a tenth, a payment by
    // half or all of it. When the oldest trigger is of the other kind and
    // the next one is of this kind, the oldest caused no order (the kernel
    // sized one order for two triggers while the last was still open): it
    // is counted missing instead of being matched to this order, which
    // would shift every later sample by one trigger.
    if (order != nullptr && payment_path != nullptr && pending_.size() >= 2) {
      const std::int64_t position = order->position_before < 0 ? -order->position_before : order->position_before;
      PathResult* kind = order->quantity * 10 >= position * 3 ? payment_path : tick_path;
      if (pending_[0].path != kind && pending_[1].path == kind) {
        ++pending_.front().path->missing;
        pending_.pop_front();
      }
    }
    const Pending front = pending_.front();
    pending_.pop_front();
    ++front.path->matched;
    if (front.record) {
      front.path->histogram.record(read_nanoseconds - front.start);
    }
  }
  void expire(std::int64_t now) {
    while (!pending_.empty() && now - pending_.front().start > kOrderTimeout) {
      ++pending_.front().path->missing;
      pending_.pop_front();
    }
  }
  [[nodiscard]] bool idle() const noexcept { return pending_.empty(); }
  PathResult* unexpected_sink = nullptr;
  PathResult* tick_path = nullptr; // engine phase: orders are told apart by size
  PathResult* payment_path = nullptr;

private:
  struct Pending {
    PathResult* path;
    std::int64_t start;
    bool record;
  };
  std::deque<Pending> pending_;
};

// Everything one phase polls: market data, the FIX acceptor, the intake
// connection (acks are read and counted), a peer's trigger connection.
struct Loop {
  MarketDataServer* market_data = nullptr;
  FixAcceptor* fix = nullptr;
  int intake_fd = -1;
  int trigger_fd = -1;
  Matcher matcher;
  std::string intake_input;
  std::string trigger_input;
  std::uint64_t intake_rejects = 0;
  std::string first_intake_reject;
  std::vector<pollfd> fds;
  std::vector<OrderSeen> orders;

  // Waits up to `timeout` for input and handles all of it.
  void pump(std::int64_t timeout) {
    fds.clear();
    if (market_data != nullptr) {
      market_data->add_poll_fds(fds);
    }
    if (fix != nullptr) {
      fix->add_poll_fds(fds);
    }
    if (intake_fd >= 0) {
      fds.push_back({intake_fd, POLLIN, 0});
    }
    if (trigger_fd >= 0) {
      fds.push_back({trigger_fd, POLLIN, 0});
    }
    const timespec wait{static_cast<time_t>(timeout / kSecond), static_cast<long>(timeout % kSecond)};
    const int ready = ::ppoll(fds.data(), fds.size(), &wait, nullptr);
    if (ready <= 0) {
      return;
    }
    if (fix != nullptr) {
      orders.clear();
      fix->handle_ready(fds, orders);
      for (const OrderSeen& order : orders) {
        matcher.on_order(order.read_nanoseconds, &order);
      }
    }
    for (const pollfd& fd : fds) {
      if (fd.revents == 0) {
        continue;
      }
      if (fd.fd == trigger_fd) {
        read_trigger_replies();
      } else if (fd.fd == intake_fd) {
        read_intake();
      }
    }
    if (market_data != nullptr) {
      market_data->handle_ready(fds);
    }
  }

  void read_trigger_replies() {
    char buffer[16384];
    const ssize_t got = ::recv(trigger_fd, buffer, sizeof buffer, MSG_DONTWAIT);
    const std::int64_t read_nanoseconds = monotonic_nanoseconds();
    if (got <= 0) {
      return;
    }
    trigger_input.append(buffer, static_cast<std::size_t>(got));
    for (std::ptrdiff_t length = fix_wire::complete_message(trigger_input); length > 0;
         length = fix_wire::complete_message(trigger_input)) {
      trigger_input.erase(0, static_cast<std::size_t>(length));
      matcher.on_order(read_nanoseconds);
    }
  }

  void read_intake() {
    char buffer[16384];
    const ssize_t got = ::recv(intake_fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (got <= 0) {
      return;
    }
    intake_input.append(buffer, static_cast<std::size_t>(got));
    for (std::size_t end = intake_input.find('\n'); end != std::string::npos; end = intake_input.find('\n')) {
      if (intake_input.compare(0, 10, R"({"reject":)") == 0) {
        if (intake_rejects++ == 0) {
          first_intake_reject = intake_input.substr(0, end);
        }
      }
      intake_input.erase(0, end + 1);
    }
  }

  // Waits until `ready()` or the deadline; false on timeout.
  template <class Ready>
  bool wait_for(std::int64_t timeout, Ready ready) {
    const std::int64_t deadline = monotonic_nanoseconds() + timeout;
    while (!ready()) {
      if (monotonic_nanoseconds() > deadline) {
        return false;
      }
      pump(10 * kMillisecond);
    }
    return true;
  }

  // Runs `slots` slots of the schedule: `send(slot)` writes the slot's
  // trigger and returns the path it should cause an order on (nullptr: none).
  template <class Send>
  void run_schedule(int slots, std::int64_t interval, int unrecorded_slots, Send send) {
    const std::int64_t begin = monotonic_nanoseconds() + 10 * kMillisecond;
    for (int slot = 0; slot < slots; ++slot) {
      const std::int64_t intended = begin + static_cast<std::int64_t>(slot) * interval;
      for (std::int64_t now = monotonic_nanoseconds(); now < intended; now = monotonic_nanoseconds()) {
        const std::int64_t left = intended - now;
        pump(left > kSpinBeforeSend ? left - kSpinBeforeSend : 0);
      }
      const std::int64_t write_start = monotonic_nanoseconds();
      PathResult* path = send(slot);
      const std::int64_t write_end = monotonic_nanoseconds();
      const std::int64_t late = write_start - intended;
      if (path != nullptr) {
        path->late_sends += late > kLateSend ? 1 : 0;
        matcher.expect(path, write_end - (late > 0 ? late : 0), slot >= unrecorded_slots);
      }
      matcher.expire(write_end);
    }
    const std::int64_t deadline = monotonic_nanoseconds() + kOrderTimeout + 10 * kMillisecond;
    while (!matcher.idle() && monotonic_nanoseconds() < deadline) {
      pump(kMillisecond);
      matcher.expire(monotonic_nanoseconds());
    }
    matcher.expire(monotonic_nanoseconds() + 2 * kOrderTimeout);
  }
};

bool send_all(int fd, const std::string& text) {
  std::size_t sent = 0;
  while (sent < text.size()) {
    const ssize_t wrote = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (wrote < 0 && errno == EINTR) {
      continue;
    }
    if (wrote <= 0) {
      return false;
    }
    sent += static_cast<std::size_t>(wrote);
  }
  return true;
}

// A loopback listener for one peer's trigger connection.
class TriggerListener {
public:
  TriggerListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd_, 1) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("cannot listen for a peer on loopback");
    }
    port_ = ntohs(address.sin_port);
  }
  ~TriggerListener() {
    if (connection_ >= 0) {
      ::close(connection_);
    }
    ::close(fd_);
  }
  TriggerListener(const TriggerListener&) = delete;
  TriggerListener& operator=(const TriggerListener&) = delete;
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  // Non-blocking: true once the peer is connected.
  bool try_accept() {
    if (connection_ >= 0) {
      return true;
    }
    pollfd fd{fd_, POLLIN, 0};
    if (::poll(&fd, 1, 0) == 1) {
      connection_ = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      const int one = 1;
      ::setsockopt(connection_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return connection_ >= 0;
  }
  [[nodiscard]] int connection() const noexcept { return connection_; }
  void close_connection() {
    if (connection_ >= 0) {
      ::close(connection_);
      connection_ = -1;
    }
  }

private:
  int fd_ = -1;
  int connection_ = -1;
  std::uint16_t port_ = 0;
};

// A peer process: this program again with --role.
class Peer {
public:
  explicit Peer(const std::vector<std::string>& arguments) {
    pid_ = ::fork();
    if (pid_ < 0) {
      throw std::runtime_error("fork failed");
    }
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM); // a harness that dies takes its peers with it
      std::vector<char*> argv;
      for (const std::string& argument : arguments) {
        argv.push_back(const_cast<char*>(argument.c_str()));
      }
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~Peer() {
    // The peer exits when its trigger connection closes; a peer that does
    // not (it never connected) is terminated.
    for (int i = 0; i < 300; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        return;
      }
      ::usleep(10'000);
    }
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

private:
  pid_t pid_ = -1;
};

std::string tick_frame() {
  return venue::websocket::server_frame(1, MarketDataServer::ticker_notification("ticker.BTC_USDC-PERPETUAL.raw",
                                                                                 kInstrumentSymbol, kLevelA,
                                                                                 wall_milliseconds()));
}

void run_floor(const HarnessOptions& options, int samples, PathResult& result) {
  TriggerListener listener;
  Peer peer({options.self.string(), "--role", "floor", "--trigger-port", std::to_string(listener.port())});
  Loop loop;
  loop.matcher.unexpected_sink = &result;
  if (!loop.wait_for(10 * kSecond, [&] { return listener.try_accept(); })) {
    throw std::runtime_error("the floor peer did not connect");
  }
  loop.trigger_fd = listener.connection();
  const std::string frame = tick_frame();
  loop.run_schedule(samples, options.interval_nanoseconds * kSlotsPerCycle / 2, 0,
                    [&](int) { return send_all(loop.trigger_fd, frame) ? &result : nullptr; });
  listener.close_connection();
}

void run_quickfix_default(const HarnessOptions& options, int samples, PathResult& result) {
  FixAcceptor acceptor;
  TriggerListener listener;
  const std::filesystem::path directory = options.output / "quickfix-default";
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  Peer peer({options.self.string(), "--role", "quickfix-default", "--trigger-port", std::to_string(listener.port()),
             "--fix-port", std::to_string(acceptor.port()), "--directory", directory.string()});
  Loop loop;
  loop.fix = &acceptor;
  loop.matcher.unexpected_sink = &result;
  if (!loop.wait_for(20 * kSecond, [&] { return acceptor.logged_on("DEFAULT") && listener.try_accept(); })) {
    throw std::runtime_error("the QuickFIX default-path peer did not log on and connect");
  }
  loop.trigger_fd = listener.connection();
  const std::string frame = tick_frame();
  loop.run_schedule(samples, options.interval_nanoseconds * kSlotsPerCycle / 2, 0,
                    [&](int) { return send_all(loop.trigger_fd, frame) ? &result : nullptr; });
  listener.close_connection();
}

int connect_intake(std::uint16_t port) { return connect_loopback(port); }

std::string payment_line(std::uint64_t number, bool credit) {
  return R"({"id":"latency-)" + std::to_string(number) + R"(","kind":")" + (credit ? "usd_credit" : "usd_debit") +
         R"(","usd_cents":)" + std::to_string(kPaymentCents) + R"(,"ts":)" + std::to_string(wall_milliseconds()) +
         "}\n";
}

void run_engine(const HarnessOptions& options, const std::string& hot_path, EngineRunResult& result) {
  MarketDataServer market_data;
  FixAcceptor acceptor;
  EngineSettings settings = options.engine_settings;
  settings.hot_path = hot_path;
  settings.executable = options.engine;
  settings.run_directory = options.output / ("latency-engine-" + hot_path);
  settings.websocket_port = market_data.port();
  settings.fix_port = acceptor.port();
  settings.intake_port = free_loopback_port();
  EngineProcess engine(settings);

  Loop loop;
  loop.market_data = &market_data;
  loop.fix = &acceptor;
  loop.matcher.unexpected_sink = &result.tick_to_order;
  loop.matcher.tick_path = &result.tick_to_order;
  loop.matcher.payment_path = &result.payment_to_order;
  std::int64_t level = kLevelA;
  std::int64_t next_tick = 0;
  const auto tick = [&](std::int64_t price) {
    acceptor.set_market_price(std::to_string(price / 100));
    ++result.ticks_sent;
    return market_data.publish(
        MarketDataServer::ticker_notification(market_data.channel(), kInstrumentSymbol, price, wall_milliseconds()));
  };
  // Start-up: the engine subscribes, logs on and opens its intake port; the
  // feed gets a price every 100 ms so the index is valid.
  const bool started = loop.wait_for(30 * kSecond, [&] {
    if (!engine.running()) {
      return true;
    }
    const std::int64_t now = monotonic_nanoseconds();
    if (market_data.subscribed() && now >= next_tick) {
      tick(kLevelA + (result.ticks_sent % 2) * 50);
      next_tick = now + 100 * kMillisecond;
    }
    if (loop.intake_fd < 0) {
      loop.intake_fd = connect_intake(settings.intake_port);
    }
    return market_data.subscribed() && acceptor.logged_on(kEngineCompId) && loop.intake_fd >= 0;
  });
  if (!engine.running() || !started) {
    result.failure = !engine.running() ? "the engine exited (status " + std::to_string(engine.exit_status()) +
                                             "); see " + engine.log_path().string()
                                       : "the engine did not subscribe, log on and open its intake in 30 s; see " +
                                             engine.log_path().string();
    return;
  }
  // The first liability: the hedge the schedule then moves.
  std::uint64_t payments = 0;
  send_all(loop.intake_fd, payment_line(++payments, true));
  ++result.payments_sent;
  loop.matcher.expect(&result.payment_to_order, monotonic_nanoseconds(), false); // not timed: start-up
  const bool hedged = loop.wait_for(20 * kSecond, [&] {
    const std::int64_t now = monotonic_nanoseconds();
    if (now >= next_tick) {
      tick(kLevelA + (result.ticks_sent % 2) * 50);
      next_tick = now + 100 * kMillisecond;
    }
    return acceptor.orders_received() > 0 || !engine.running();
  });
  if (!hedged || !engine.running()) {
    result.failure = "no order for the first liability within 20 s; see " + engine.log_path().string();
    return;
  }
  loop.wait_for(200 * kMillisecond, [] { return false; }); // the fill settles
  bool credit = true;
  constexpr std::int64_t kNoise[] = {100, -100, 50};
  loop.run_schedule(options.engine_slots, options.interval_nanoseconds, options.warmup_cycles * kSlotsPerCycle,
                    [&](int slot) -> PathResult* {
                      const int phase = slot % kSlotsPerCycle;
                      if (phase == 0) {
                        level = level == kLevelA ? kLevelB : kLevelA;
                        return tick(level) ? &result.tick_to_order : nullptr;
                      }
                      if (phase == kSlotsPerCycle / 2) {
                        credit = !credit;
                        ++result.payments_sent;
                        return send_all(loop.intake_fd, payment_line(++payments, !credit)) ? &result.payment_to_order
                                                                                           : nullptr;
                      }
                      tick(level + kNoise[(slot % kSlotsPerCycle) % 3]);
                      return nullptr;
                    });
  if (loop.intake_rejects > 0) {
    result.failure =
        std::to_string(loop.intake_rejects) + " payments refused by the intake; see " + engine.log_path().string();
  }
  ::close(loop.intake_fd);
}

} // namespace

HarnessResult run_harness(const HarnessOptions& options) {
  // Timer wake-ups as exact as the kernel allows (the default slack is 50 us).
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  std::filesystem::create_directories(options.output);
  HarnessResult result;
  result.floor.name = "floor";
  result.floor.spans = "frame written -> FIX-sized reply read (minimal process, blocking read)";
  for (EngineRunResult* run : {&result.thread_per_stage, &result.one_thread}) {
    const std::string prefix = run == &result.one_thread ? "engine_one_thread_" : "engine_";
    run->tick_to_order.name = prefix + "tick_to_order";
    run->tick_to_order.spans = "ticker frame written to the engine's WebSocket -> NewOrderSingle read";
    run->payment_to_order.name = prefix + "payment_to_order";
    run->payment_to_order.spans = "payment line written to the engine's TCP intake -> NewOrderSingle read";
  }
  result.quickfix_default.name = "quickfix_default";
  result.quickfix_default.spans = "frame written -> NewOrderSingle read (new message per order, FileStore + FileLog)";

  const int cycles = options.engine_slots / kSlotsPerCycle;
  const int samples = cycles * 2; // as many as the engine's expected orders
  run_floor(options, samples, result.floor);
  if (options.thread_per_stage) {
    result.thread_per_stage.measured = true;
    run_engine(options, "thread_per_stage", result.thread_per_stage);
  }
  if (options.one_thread) {
    result.one_thread.measured = true;
    run_engine(options, "one_thread", result.one_thread);
  }
  run_quickfix_default(options, samples, result.quickfix_default);
  return result;
}

} // namespace synthusd::latency
