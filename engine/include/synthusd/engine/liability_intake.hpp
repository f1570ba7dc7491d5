#pragma once
// The engine side of engine/LIABILITY_PROTOCOL.md: JSON lines from wallet
// backends and the Core Lightning plugin over a Unix socket or loopback TCP,
// turned into kernel LiabilityChange events. Each event is journaled and
// acknowledged only after the journal made it durable (group commit per
// batch of lines). Duplicates (by id) are acknowledged as such and change
// nothing; malformed lines are rejected with a reason and counted, and the
// connection stays up.
//
// One thread runs poll_once(); it is an I/O thread, not the kernel's hot
// path. Deduplication keeps a 64-bit hash of every id ever accepted
// (rebuilt from the journal at start-up): two different ids collide with
// probability ~n^2 / 2^65, about 3e-6 after ten million events.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "synthusd/engine/journal.hpp"
#include "synthusd/hedging/events.hpp"

namespace synthusd::engine {

struct LiabilityRequest {
  std::string id;
  bool credit = true;
  std::optional<std::int64_t> usd_cents;
  std::optional<std::int64_t> sats;
  std::int64_t ts_ms = 0;
  std::optional<std::uint64_t> pay_index;
};

// Parses one line (without its newline). Returns false and a reason for
// anything the protocol does not allow.
[[nodiscard]] bool parse_liability_line(std::string_view line, LiabilityRequest& out, std::string& reason);

// The id's 64-bit identity in the kernel and the journal (FNV-1a).
[[nodiscard]] std::uint64_t liability_event_id(std::string_view id) noexcept;

struct IntakeOptions {
  std::string unix_socket_path; // empty: none
  std::string tcp_host = "127.0.0.1";
  int tcp_port = -1; // -1: none; 0: pick a free port (tcp_port() says which)
  std::size_t max_line_bytes = 4096;
  hedging::Ratio conversion_spread{}; // applied against the user when converting sats (credit: fewer dollars)
};

struct IntakeCounters {
  std::uint64_t lines = 0;
  std::uint64_t accepted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t rejected = 0;
  std::uint64_t connections = 0;
};

class LiabilityIntake {
public:
  // current_price: the index price for converting sats when a line has no
  // usd_cents (0: none known, such lines are rejected). on_event: each
  // accepted event, after it is journaled (the kernel's queue).
  LiabilityIntake(IntakeOptions options, JournalWriter& journal, std::function<hedging::Price()> current_price,
                  std::function<void(const hedging::LiabilityChange&)> on_event);
  ~LiabilityIntake();
  LiabilityIntake(const LiabilityIntake&) = delete;
  LiabilityIntake& operator=(const LiabilityIntake&) = delete;

  // Rebuilds the duplicate set from a journal (call before serving).
  void remember_journal(const std::string& journal_path);

  // Waits up to timeout_ms for I/O, handles every complete line, commits the
  // journal once for the batch, then writes the acks. Returns lines handled.
  std::size_t poll_once(int timeout_ms);

  [[nodiscard]] int tcp_port() const noexcept { return bound_tcp_port_; }
  [[nodiscard]] const IntakeCounters& counters() const noexcept { return counters_; }

private:
  struct Connection;
  void accept_from(int listener);
  bool read_from(Connection& connection);
  void handle_line(Connection& connection, std::string_view line);
  void close_connection(std::size_t index);

  IntakeOptions options_;
  JournalWriter& journal_;
  std::function<hedging::Price()> current_price_;
  std::function<void(const hedging::LiabilityChange&)> on_event_;
  int epoll_fd_ = -1;
  int unix_listener_ = -1;
  int tcp_listener_ = -1;
  int bound_tcp_port_ = -1;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::unordered_set<std::uint64_t> seen_;
  IntakeCounters counters_;
};

} // namespace synthusd::engine
