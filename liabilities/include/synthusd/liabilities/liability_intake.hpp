#pragma once
// The engine side of liabilities/PROTOCOL.md: JSON lines from wallet
// backends and the Core Lightning plugin over a Unix socket or loopback TCP,
// turned into kernel LiabilityChange events. Each event is journaled and
// acknowledged only after the journal made it durable (group commit per
// batch of lines). Duplicates (by id) are acknowledged as such and change
// nothing; malformed lines are rejected with a reason and counted, and the
// connection stays up.
//
// One thread runs poll_once(): its own, or the engine's one-thread hot
// path, which polls it without waiting when readiness_fd() is readable.
// Deduplication (LiabilityAdmission) keeps every id ever accepted, by its
// bytes (rebuilt from the journal at start-up; seen_ids.hpp).
//
// An accepted payment allocates nothing from the read to its answer once
// the connection's buffers have grown to its usual load and the thread that
// polls has called reserve_ahead() since the last burst: the request is
// reused, answers are written into the connection's buffer, and the
// deduplication set grows ahead (tests/liabilities/liability_intake_allocations_test.cpp).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "synthusd/hedging/events.hpp"
#include "synthusd/liabilities/liability_sink.hpp"
#include "synthusd/liabilities/liability_source.hpp"

namespace synthusd::liabilities {

struct IntakeOptions {
  std::string unix_socket_path; // empty: none
  std::string tcp_host = "127.0.0.1";
  int tcp_port = -1; // -1: none; 0: pick a free port (tcp_port() says which)
  std::size_t max_line_bytes = 4096;
  // Answers waiting for one client to read them, at most (then it is not
  // read until it reads: a client that writes and never reads cannot make
  // the intake buffer without bound).
  std::size_t max_output_bytes = 64 * 1024;
};

struct IntakeCounters {
  std::uint64_t lines = 0;
  std::uint64_t accepted = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t rejected = 0;
  std::uint64_t connections = 0;
  std::uint64_t backpressure = 0; // lines held back: the kernel's queue was full, or sats and no price yet
  std::uint64_t paused = 0;       // times a client was not read because it did not read its answers
};

class LiabilityIntake final : public LiabilitySource {
public:
  // Dedupe, conversion and the hand-off to the journal or the kernel's
  // queue are `admission`'s (see liability_sink.hpp); it must outlive this.
  LiabilityIntake(IntakeOptions options, LiabilityAdmission& admission);
  ~LiabilityIntake();
  LiabilityIntake(const LiabilityIntake&) = delete;
  LiabilityIntake& operator=(const LiabilityIntake&) = delete;

  // Waits up to timeout_ms for I/O (less while acks wait for durability),
  // handles every complete line, asks the sink to make the batch durable
  // (one fdatasync for a journal sink), then writes every answer whose event
  // is durable, in order per connection. Returns lines handled.
  std::size_t poll_once(int timeout_ms) override;

  [[nodiscard]] bool up() const noexcept override { return true; } // listening since construction
  [[nodiscard]] SourceCounters source_counters() const noexcept override {
    return {counters_.lines, counters_.accepted, counters_.duplicates, counters_.rejected, counters_.backpressure};
  }
  // Answers waiting for durability or for their client to read them.
  [[nodiscard]] std::size_t unacknowledged() const noexcept override;
  [[nodiscard]] std::vector<RejectionCount> take_rejections() override { return rejections_.take(); }
  // Its epoll descriptor: readable when a client connects or writes.
  [[nodiscard]] int readiness_fd() const noexcept override { return epoll_fd_; }
  [[nodiscard]] DeferredWork deferred_work() const noexcept override;
  // Grows the deduplication set ahead of the next payments (seen_ids.hpp).
  bool reserve_ahead() override { return admission_.reserve_ahead(); }

  // Answer bytes held for clients (waiting for durability or for the client
  // to read them): at most about max_output_bytes per connection.
  [[nodiscard]] std::size_t buffered_answer_bytes() const noexcept;

  [[nodiscard]] int tcp_port() const noexcept { return bound_tcp_port_; }
  [[nodiscard]] const IntakeCounters& counters() const noexcept { return counters_; }

private:
  struct Connection;
  void accept_from(int listener);
  bool read_from(Connection& connection);
  // false: the sink was full, the line stays unread for the next poll
  bool handle_line(Connection& connection, std::string_view line);
  void process_lines(Connection& connection);
  void release_answers(std::uint64_t durable);
  void close_connection(std::size_t index);
  void update_interest(Connection& connection);
  [[nodiscard]] bool output_full(const Connection& connection) const noexcept;

  IntakeOptions options_;
  LiabilityAdmission& admission_;
  int epoll_fd_ = -1;
  int unix_listener_ = -1;
  int tcp_listener_ = -1;
  int bound_tcp_port_ = -1;
  std::vector<std::unique_ptr<Connection>> connections_;
  IntakeCounters counters_;
  RejectionTally rejections_;
  // The line being handled, reused (its strings keep their capacity).
  LiabilityRequest request_;
  std::string reason_;
};

} // namespace synthusd::liabilities
