#pragma once
// Fixtures for the transport tests: a temporary directory, a self-signed
// certificate made with the openssl CLI, the node WebSocket replay server as
// a child process (killed on destruction, and by the kernel if this process
// dies first), and a loop driver with a deadline.

#include "synthusd/feeds/event_loop.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace synthusd::feeds::test {

// The data file the replay tests use: 40 Deribit book messages (a snapshot,
// then changes whose prev_change_id chains to the previous change_id).
[[nodiscard]] std::filesystem::path transport_data_file();
// Its lines, as the server sends them.
[[nodiscard]] std::vector<std::string> read_lines(const std::filesystem::path& file);

class TemporaryDirectory {
public:
  TemporaryDirectory();
  ~TemporaryDirectory();
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
  std::filesystem::path path_;
};

struct Certificate {
  std::filesystem::path certificate; // PEM; also the CA file to trust, as it is self-signed
  std::filesystem::path key;
};

// A self-signed P-256 certificate valid for `subject_alt_names`
// ("DNS:localhost,IP:127.0.0.1,IP:::1" by default). Fails the test on error.
[[nodiscard]] Certificate
make_self_signed_certificate(const std::filesystem::path& directory, std::string_view name = "server",
                             std::string_view subject_alt_names = "DNS:localhost,IP:127.0.0.1,IP:::1");

// tests/support/ws_replay_server.js, run by node. Lines the server prints are
// collected by a reader thread and can be polled from the test thread.
class ReplayServer {
public:
  // Starts the server and waits (up to 15 s) for its port. `arguments` are
  // appended to the script's command line (--data is added here).
  explicit ReplayServer(std::vector<std::string> arguments, const std::filesystem::path& data = transport_data_file());
  ~ReplayServer();
  ReplayServer(const ReplayServer&) = delete;
  ReplayServer& operator=(const ReplayServer&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] bool running() const noexcept { return port_ != 0; }
  // Copies of the event lines printed so far (without LISTENING).
  [[nodiscard]] std::vector<std::string> events() const;
  // Event lines starting with `prefix` ("SUBSCRIBE", "PONG 1"...).
  [[nodiscard]] std::vector<std::string> events_with(std::string_view prefix) const;
  [[nodiscard]] std::size_t count(std::string_view prefix) const { return events_with(prefix).size(); }
  // Everything the server printed, for failure messages.
  [[nodiscard]] std::string transcript() const;

private:
  void read_output(int fd);

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  bool output_closed_ = false;
};

// Runs the loop until `done` is true or `timeout` passes; returns `done()`.
bool run_until(EventLoop& loop, WaitMode mode, const std::function<bool()>& done,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));
// Runs the loop for `duration`.
void run_for(EventLoop& loop, WaitMode mode, std::chrono::milliseconds duration);

} // namespace synthusd::feeds::test
