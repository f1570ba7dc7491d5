#include "synthusd/liabilities/lnd_source.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "lnd_transport.hpp"

namespace synthusd::liabilities {
namespace {

using Clock = std::chrono::steady_clock;
using Io = detail::LndTransport::Io;

constexpr std::size_t kMaxResponseHead = 64 * 1024;
constexpr std::size_t kMaxErrorBody = 512;

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error(std::string("lnd: cannot read the ") + what + " " + path);
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int until(Clock::time_point when, Clock::time_point now) {
  if (when <= now) {
    return 0;
  }
  // Rounded up: waking a little early would only spin until the moment.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(when - now).count();
  return static_cast<int>(std::min<std::int64_t>(ms, 1'000'000));
}

} // namespace

LndInvoiceSource::LndInvoiceSource(LndOptions options, LiabilityAdmission& admission)
    : options_(std::move(options)), admission_(admission),
      backoff_(std::chrono::milliseconds(options_.reconnect_min_ms),
               std::chrono::milliseconds(options_.reconnect_max_ms), 0.2,
               static_cast<std::uint64_t>(Clock::now().time_since_epoch().count())) {
  if (options_.port <= 0 || options_.port > 65535) {
    throw std::invalid_argument("lnd: port must be 1 to 65535");
  }
  if (!options_.macaroon_file.empty()) {
    std::string macaroon = read_file(options_.macaroon_file, "macaroon file");
    if (macaroon.empty()) {
      throw std::runtime_error("lnd: the macaroon file is empty: " + options_.macaroon_file);
    }
    macaroon_hex_ = hex_encode(macaroon);
    OPENSSL_cleanse(macaroon.data(), macaroon.size());
  }
  transport_ =
      std::make_unique<detail::LndTransport>(options_.host, options_.port, options_.tls, options_.tls_cert_file);
  if (!options_.state_file.empty() && std::filesystem::exists(options_.state_file)) {
    std::string text = read_file(options_.state_file, "state file");
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
      text.pop_back();
    }
    if (!parse_decimal_u64(text, persisted_)) {
      // Starting from 0 would silently skip every payment settled meanwhile.
      throw std::runtime_error("lnd: the state file does not hold a settle_index: " + options_.state_file);
    }
    acknowledged_ = persisted_;
  }
}

LndInvoiceSource::~LndInvoiceSource() {
  OPENSSL_cleanse(out_.data(), out_.size());
  OPENSSL_cleanse(macaroon_hex_.data(), macaroon_hex_.size());
}

void LndInvoiceSource::start_connect() {
  if (transport_->connect() == Io::failed) {
    disconnect(transport_->error());
    return;
  }
  phase_ = Phase::connecting;
  want_write_ = true;
  deadline_ = Clock::now() + std::chrono::milliseconds(options_.connect_timeout_ms);
}

void LndInvoiceSource::advance(short revents) {
  if (phase_ == Phase::connecting) {
    const bool was_connected = transport_->tcp_connected();
    const Io step = transport_->establish(revents);
    if (!was_connected && transport_->tcp_connected()) {
      ++counters_.connections;
    }
    if (step == Io::failed) {
      disconnect(transport_->error());
      return;
    }
    if (step != Io::done) {
      want_write_ = step == Io::wait_write;
      return;
    }
    // Resume after the last settlement known durable: LND replays every
    // invoice settled after it (add_index stays 0: no replay of additions).
    const std::string host = options_.host.find(':') != std::string::npos ? "[" + options_.host + "]" : options_.host;
    OPENSSL_cleanse(out_.data(), out_.size());
    out_ = "GET /v1/invoices/subscribe?settle_index=" + std::to_string(acknowledged_) + " HTTP/1.1\r\nHost: " + host +
           ":" + std::to_string(options_.port) + "\r\n";
    if (!macaroon_hex_.empty()) {
      out_ += "Grpc-Metadata-macaroon: " + macaroon_hex_ + "\r\n";
    }
    out_ += "Accept: application/json\r\n\r\n";
    out_sent_ = 0;
    phase_ = Phase::sending;
  }
  if (phase_ == Phase::sending) {
    while (out_sent_ < out_.size()) {
      std::size_t sent = 0;
      switch (transport_->write(out_.data() + out_sent_, out_.size() - out_sent_, sent)) {
      case Io::done:
        out_sent_ += sent;
        continue;
      case Io::wait_read:
        want_write_ = false;
        return;
      case Io::wait_write:
        want_write_ = true;
        return;
      case Io::closed:
      case Io::failed:
        disconnect("sending the request failed: " + transport_->error());
        return;
      }
    }
    OPENSSL_cleanse(out_.data(), out_.size()); // the macaroon need not stay in memory twice
    want_write_ = false;
    phase_ = Phase::reading_head;
  }
  read_available();
}

void LndInvoiceSource::read_available() {
  char buffer[16 * 1024];
  // Not while a message is held: TCP backpressure then reaches LND.
  while (phase_ >= Phase::reading_head && !blocked_) {
    std::size_t got = 0;
    switch (transport_->read(buffer, sizeof buffer, got)) {
    case Io::done:
      on_bytes(std::string_view(buffer, got));
      continue;
    case Io::wait_read:
      want_write_ = false;
      return;
    case Io::wait_write:
      want_write_ = true;
      return;
    case Io::closed:
      if (phase_ == Phase::streaming && response_.status != 200) {
        disconnect("lnd answered " + response_.status_line + ": " + error_body_);
      } else if (phase_ == Phase::streaming && body_.finish() == HttpBodyDecoder::Status::error) {
        disconnect("lnd closed the connection inside the stream");
      } else {
        disconnect(phase_ == Phase::streaming ? "lnd ended the stream" : "lnd closed the connection");
      }
      return;
    case Io::failed:
      disconnect("reading from lnd failed: " + transport_->error());
      return;
    }
  }
}

void LndInvoiceSource::on_bytes(std::string_view bytes) {
  std::string rest;
  if (phase_ == Phase::reading_head) {
    head_.append(bytes);
    const std::size_t end = head_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (head_.size() > kMaxResponseHead) {
        disconnect("lnd's response head is too long");
      }
      return;
    }
    std::string reason;
    if (!parse_http_response_head(std::string_view(head_).substr(0, end), response_, reason)) {
      disconnect("bad HTTP response from lnd: " + reason);
      return;
    }
    body_.reset(response_);
    rest = head_.substr(end + 4);
    head_.clear();
    phase_ = Phase::streaming;
    if (response_.status == 200) {
      backoff_.reset();
    }
    bytes = rest;
  }
  if (response_.status != 200) {
    // LND says why in the body ({"error":...}, an expired macaroon...).
    const HttpBodyDecoder::Status status = body_.feed(bytes, error_body_);
    if (error_body_.size() > kMaxErrorBody) {
      error_body_.resize(kMaxErrorBody);
    }
    if (status != HttpBodyDecoder::Status::more) {
      while (!error_body_.empty() && (error_body_.back() == '\n' || error_body_.back() == '\r')) {
        error_body_.pop_back();
      }
      disconnect("lnd answered " + response_.status_line + ": " + error_body_);
    }
    return;
  }
  const HttpBodyDecoder::Status status = body_.feed(bytes, lines_);
  process_lines();
  if (status == HttpBodyDecoder::Status::error) {
    disconnect("bad chunked framing from lnd: " + body_.error());
  } else if (status == HttpBodyDecoder::Status::done) {
    // Go keeps the connection open after the last chunk (keep-alive): only
    // the end of the body says the subscription is over.
    body_done_ = true;
    if (!blocked_) {
      disconnect("lnd ended the stream");
    }
  }
}

void LndInvoiceSource::process_lines() {
  std::size_t start = 0;
  blocked_ = false;
  const auto too_long = [this] {
    ++counters_.messages;
    ++counters_.rejected;
    last_error_ = "rejected: line longer than " + std::to_string(options_.max_line_bytes) + " bytes";
  };
  while (start < lines_.size()) {
    const std::size_t newline = lines_.find('\n', start);
    if (discarding_) {
      if (newline == std::string::npos) {
        start = lines_.size();
        break;
      }
      discarding_ = false;
      too_long();
      start = newline + 1;
      continue;
    }
    if (newline == std::string::npos) {
      if (lines_.size() - start > options_.max_line_bytes) {
        discarding_ = true; // keep no more than the limit in memory
        start = lines_.size();
      }
      break;
    }
    if (newline - start > options_.max_line_bytes) {
      too_long();
      start = newline + 1;
      continue;
    }
    if (!handle_line(std::string_view(lines_).substr(start, newline - start))) {
      blocked_ = true;
      break;
    }
    start = newline + 1;
  }
  lines_.erase(0, start);
}

bool LndInvoiceSource::handle_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (line.empty()) {
    return true;
  }
  const LndInvoiceMessage message = parse_lnd_invoice_message(line);
  switch (message.kind) {
  case LndInvoiceMessage::Kind::rejected:
    ++counters_.messages;
    ++counters_.rejected;
    last_error_ = "rejected: " + message.reason;
    return true;
  case LndInvoiceMessage::Kind::ignored:
    ++counters_.messages;
    ++counters_.ignored;
    return true;
  case LndInvoiceMessage::Kind::settled:
    break;
  }
  if (holding_ && !admission_.sink().index_price().is_valid()) {
    return false; // still no price: not asked again, as admission counts every refusal
  }
  const Admission admission = admission_.admit(message.request);
  switch (admission.outcome) {
  case Admission::Outcome::full:
  case Admission::Outcome::unpriced:
  case Admission::Outcome::rejected:
    // A real payment: never skipped. It stays first in line and is tried
    // again on every poll (the index price comes back; a refusal by the
    // bounds needs an operator, and says so in last_error).
    if (!holding_) {
      ++counters_.held;
      holding_ = true;
    }
    last_error_ = admission.outcome == Admission::Outcome::full ? "held: the liability sink is full"
                                                                : std::string("held: ") + admission.reason;
    return false;
  case Admission::Outcome::duplicate:
    ++counters_.duplicates;
    break;
  case Admission::Outcome::accepted:
    ++counters_.settled;
    break;
  }
  holding_ = false;
  ++counters_.messages;
  pending_.push_back({message.settle_index, admission.ticket});
  return true;
}

void LndInvoiceSource::disconnect(std::string why) {
  if (transport_->tcp_connected()) {
    ++counters_.disconnects;
  }
  transport_->close();
  phase_ = Phase::idle;
  want_write_ = false;
  OPENSSL_cleanse(out_.data(), out_.size());
  out_.clear();
  head_.clear();
  response_ = HttpResponseHead{};
  // Whatever was not admitted yet is settled after the acknowledged index,
  // so LND sends it again on the next connection.
  lines_.clear();
  error_body_.clear();
  discarding_ = false;
  body_done_ = false;
  blocked_ = false;
  holding_ = false;
  last_error_ = std::move(why);
  next_attempt_ = Clock::now() + backoff_.next();
}

void LndInvoiceSource::release_acknowledgements() {
  if (!pending_.empty()) {
    const std::uint64_t durable = admission_.make_durable();
    // In stream order: an index is acknowledged only when every settlement
    // received before it is durable too.
    while (!pending_.empty() && pending_.front().ticket <= durable) {
      acknowledged_ = std::max(acknowledged_, pending_.front().settle_index);
      pending_.pop_front();
    }
  }
  if (acknowledged_ > persisted_) {
    persist();
  }
}

void LndInvoiceSource::persist() {
  if (options_.state_file.empty()) {
    persisted_ = acknowledged_;
    return;
  }
  // tmp + fsync + rename + fsync(directory): the file holds the old index or
  // the new one after a crash, never a torn one.
  const std::string temporary = options_.state_file + ".tmp";
  const std::string text = std::to_string(acknowledged_) + "\n";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int error = errno;
  if (fd >= 0) {
    ok = ::close(fd) == 0 && ok;
  }
  ok = ok && ::rename(temporary.c_str(), options_.state_file.c_str()) == 0;
  if (!ok) {
    last_error_ = "cannot write " + options_.state_file + ": " + std::strerror(error != 0 ? error : errno);
    return; // tried again on the next poll
  }
  std::string directory = std::filesystem::path(options_.state_file).parent_path().string();
  if (directory.empty()) {
    directory = ".";
  }
  if (const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
  persisted_ = acknowledged_;
}

int LndInvoiceSource::wait_ms(int timeout_ms) const {
  const auto now = Clock::now();
  int wait = std::max(timeout_ms, 0);
  if (phase_ == Phase::idle) {
    wait = std::min(wait, until(next_attempt_, now));
  } else if (!streaming()) {
    wait = std::min(wait, until(deadline_, now));
  }
  if (blocked_) {
    wait = std::min(wait, 10); // the sink may have room (or a price) soon
  }
  if (!pending_.empty()) {
    wait = std::min(wait, 1); // acknowledgements wait for durability: look again soon
  }
  if (!blocked_ && transport_->pending()) {
    wait = 0; // decrypted bytes the socket will not announce
  }
  return wait;
}

std::size_t LndInvoiceSource::poll_once(int timeout_ms) {
  const std::uint64_t messages_before = counters_.messages;
  if (blocked_) {
    process_lines(); // the held message first, in stream order
    if (!blocked_ && body_done_) {
      disconnect("lnd ended the stream");
    }
  }
  if (phase_ == Phase::idle && Clock::now() >= next_attempt_) {
    start_connect();
  }
  const int wait = wait_ms(timeout_ms);
  pollfd descriptor{transport_->fd(), 0, 0};
  // While blocked the socket is not watched at all: a readable or hung-up
  // socket we do not read would wake poll() at once, again and again.
  const bool watch = phase_ != Phase::idle && !blocked_;
  if (watch) {
    descriptor.events = static_cast<short>(want_write_ ? POLLOUT : POLLIN);
    if (phase_ == Phase::reading_head || phase_ == Phase::streaming) {
      descriptor.events |= POLLIN;
    }
  }
  const int ready = ::poll(watch ? &descriptor : nullptr, watch ? 1 : 0, wait);
  if (watch && (ready > 0 || transport_->pending())) {
    advance(ready > 0 ? descriptor.revents : 0);
  }
  if (phase_ != Phase::idle && !streaming() && Clock::now() >= deadline_) {
    disconnect("lnd did not answer within " + std::to_string(options_.connect_timeout_ms) + " ms");
  }
  release_acknowledgements();
  return static_cast<std::size_t>(counters_.messages - messages_before);
}

} // namespace synthusd::liabilities
