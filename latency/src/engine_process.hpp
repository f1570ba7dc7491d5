#pragma once
// The engine under test: a real `synthusd run` child process with a
// configuration the harness writes (loopback ports of the harness's market
// data server and FIX acceptor, a TCP intake port, a fresh state directory).

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

namespace synthusd::latency {

struct EngineSettings {
  std::filesystem::path executable;    // build/synthusd
  std::filesystem::path run_directory; // config, state and the engine's log go here
  std::uint16_t websocket_port = 0;
  std::uint16_t fix_port = 0;
  std::uint16_t intake_port = 0;
  std::string wait = "auto";                 // [engine] wait
  std::string hot_path = "thread_per_stage"; // [engine] hot_path (one_thread: kernel_cpu is the hot-path's CPU)
  int spin_before_park_microseconds = 0;     // [engine] spin_before_park_us
  int kernel_cpu = -1;                       // [engine.cpus] kernel, fix-latency, feed-latency,
  int gateway_cpu = -1;
  int feed_cpu = -1;
  int io_cpu = -1; // journal and intake; -1: not pinned
};

inline constexpr const char* kInstrumentSymbol = "BTC_USDC-PERPETUAL";
inline constexpr const char* kEngineCompId = "SYNTHUSD";
inline constexpr const char* kVenueCompId = "LATENCY";

// The configuration text: one linear perpetual (its hedge in contracts moves
// with the price, so a price move re-hedges), bands as stablesats, a single
// trusted feed, limits wide enough that no order of the schedule is refused.
[[nodiscard]] std::string engine_config(const EngineSettings& settings);

// A free loopback TCP port (bound, read and released: another process could
// take it in between, which the harness then reports as a failed connect).
[[nodiscard]] std::uint16_t free_loopback_port();

class EngineProcess {
public:
  // Writes the config and starts the engine; throws std::runtime_error.
  explicit EngineProcess(const EngineSettings& settings);
  ~EngineProcess(); // SIGTERM, then waits (SIGKILL after 10 s)
  EngineProcess(const EngineProcess&) = delete;
  EngineProcess& operator=(const EngineProcess&) = delete;

  // False once the child has exited (its status is then in exit_status()).
  [[nodiscard]] bool running();
  [[nodiscard]] int exit_status() const noexcept { return exit_status_; }
  [[nodiscard]] const std::filesystem::path& log_path() const noexcept { return log_path_; }
  [[nodiscard]] std::uint16_t http_port() const; // from the engine's log; 0 before it says

private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
  std::filesystem::path log_path_;
};

} // namespace synthusd::latency
