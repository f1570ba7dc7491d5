#include "synthusd/liabilities/lnd_source.hpp"

#include <openssl/crypto.h>
#include <poll.h>

#include <algorithm>
#include <stdexcept>

#include "lnd_exchange.hpp"
#include "lnd_index_file.hpp"

namespace synthusd::liabilities {
namespace {

using Clock = std::chrono::steady_clock;
using Exchange = detail::LndExchange;

} // namespace

LndInvoiceSource::LndInvoiceSource(LndOptions options, LiabilityAdmission& admission)
    : options_(std::move(options)), admission_(admission), backoff_(detail::checked_reconnect_backoff(options_)) {
  macaroon_hex_ = detail::read_macaroon_hex(options_.macaroon_file);
  if (options_.backfill_page_size < 1) {
    throw std::invalid_argument("lnd: backfill_page_size must be at least 1");
  }
  exchange_ = std::make_unique<detail::LndExchange>(options_, macaroon_hex_);
  if (detail::read_index_file(options_.state_file, persisted_)) {
    acknowledged_ = persisted_;
    state_file_written_ = true;
  }
  // First start: no cursor anywhere. Without a state file to say the
  // backfill was done, it is done (again: what a crash interrupted dedupes).
  if (!state_file_written_ && options_.backfill_from_add_index >= 0) {
    backfilling_ = true;
    backfill_offset_ = static_cast<std::uint64_t>(options_.backfill_from_add_index);
  }
}

LndInvoiceSource::~LndInvoiceSource() { OPENSSL_cleanse(macaroon_hex_.data(), macaroon_hex_.size()); }

bool LndInvoiceSource::streaming() const noexcept { return !backfilling_ && exchange_->request_sent(); }

bool LndInvoiceSource::up() const noexcept { return exchange_->request_sent() || page_ready_; }

std::uint64_t LndInvoiceSource::subscribe_settle_index() const noexcept {
  // Lower than acknowledged would only replay more; never below the
  // backfill's cursor, as settle_index=0 asks lnd for no backlog at all.
  return std::max(acknowledged_, subscribe_from_);
}

void LndInvoiceSource::start_request() {
  std::string target;
  if (backfilling_) {
    target = "/v1/invoices?index_offset=" + std::to_string(backfill_offset_) +
             "&num_max_invoices=" + std::to_string(options_.backfill_page_size) + "&reversed=false";
  } else {
    // Resume after the last settlement known durable: LND replays every
    // invoice settled after it.
    target = "/v1/invoices/subscribe?settle_index=" + std::to_string(subscribe_settle_index());
    if (subscribe_add_index_ > 0 && subscribe_settle_index() == 0) {
      // Nothing settled before the backfill's first open invoice: replay
      // the additions from it on, in their current state (top of the header).
      target += "&add_index=" + std::to_string(subscribe_add_index_);
    }
  }
  lines_.clear();
  if (exchange_->start(target) == Exchange::Status::failed) {
    disconnect(exchange_->error());
    return;
  }
  deadline_ = Clock::now() + std::chrono::milliseconds(options_.connect_timeout_ms);
}

void LndInvoiceSource::advance(short revents) {
  std::uint64_t connections_before = exchange_->connections();
  bool first = true;
  // One read per step, so that a held message stops the reading at once.
  while (exchange_->active() && !blocked_ && (first || exchange_->more_to_read())) {
    const Exchange::Status status = exchange_->advance(first ? revents : 0, lines_, true);
    first = false;
    // Per step: the loop may go on reading after the step that connected,
    // and that connection is counted once (adding the difference since
    // before the loop on every step counted it once per step: 69 for one
    // connection when a loaded machine let many reads queue up).
    counters_.connections += exchange_->connections() - connections_before;
    connections_before = exchange_->connections();
    if (exchange_->answered_ok() || status == Exchange::Status::done) {
      backoff_.reset(); // lnd answered 200 (an error answer keeps the backoff growing)
    }
    if (status == Exchange::Status::failed) {
      disconnect(exchange_->error());
      return;
    }
    if (backfilling_) {
      if (lines_.size() > kMaxLndPageBytes) {
        disconnect("lnd's ListInvoices page is larger than " + std::to_string(kMaxLndPageBytes) + " bytes");
        return;
      }
      if (status == Exchange::Status::done) {
        ++counters_.backfill_pages;
        page_ = parse_lnd_invoice_page(lines_);
        lines_.clear();
        if (!page_.ok) {
          ++counters_.rejected;
          rejections_.record(page_.reason, "index_offset " + std::to_string(backfill_offset_));
          disconnect("backfill: " + page_.reason);
          return;
        }
        page_at_ = 0;
        page_ready_ = true;
        process_page();
        return;
      }
      continue;
    }
    process_lines();
    if (status == Exchange::Status::done) {
      // Go keeps the connection open after the last chunk: only the end
      // of the body says the subscription is over.
      body_done_ = true;
      if (!blocked_) {
        disconnect("lnd ended the stream");
      }
      return;
    }
  }
}

void LndInvoiceSource::reject(std::string reason) {
  ++counters_.messages;
  ++counters_.rejected;
  last_error_ = "rejected: " + reason;
  rejections_.record(reason);
}

void LndInvoiceSource::process_lines() {
  std::size_t start = 0;
  blocked_ = false;
  const auto too_long = [this] { reject("line longer than " + std::to_string(options_.max_line_bytes) + " bytes"); };
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
  return handle_message(parse_lnd_invoice_message(line), false);
}

bool LndInvoiceSource::handle_message(const LndInvoiceMessage& message, bool backfill) {
  switch (message.kind) {
  case LndInvoiceMessage::Kind::rejected:
    reject(message.reason);
    return true;
  case LndInvoiceMessage::Kind::ignored:
    ++counters_.messages;
    ++counters_.ignored;
    return true;
  case LndInvoiceMessage::Kind::settled:
    break;
  }
  // One message can carry several payments (AMP sets): each is admitted in
  // order, and a held one resumes where it stopped.
  for (; admitted_of_message_ < message.settlements.size(); ++admitted_of_message_) {
    const LndSettlement& settlement = message.settlements[admitted_of_message_];
    if (holding_ && !admission_.sink().index_price().is_valid()) {
      return false; // still no price: not asked again, as admission counts every refusal
    }
    const Admission admission = admission_.admit(settlement.request);
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
    // A backfilled settlement acknowledges no stream index by itself: the
    // backfill's cursor does, once everything before it is durable.
    pending_.push_back({backfill ? 0 : settlement.settle_index, admission.ticket});
  }
  admitted_of_message_ = 0;
  ++counters_.messages;
  return true;
}

void LndInvoiceSource::process_page() {
  blocked_ = false;
  while (page_at_ < page_.invoices.size()) {
    const LndInvoiceMessage& message = page_.invoices[page_at_];
    if (!handle_message(message, true)) {
      blocked_ = true;
      return;
    }
    // The resume rule (top of the header): settlements count toward the
    // cursor only before the first invoice that could still settle.
    if (!open_seen_) {
      for (const LndSettlement& settlement : message.settlements) {
        backfill_cursor_ = std::max(backfill_cursor_, settlement.settle_index);
      }
      if (message.may_settle) {
        open_seen_ = true;
        subscribe_add_index_ = message.add_index > 0 ? message.add_index - 1 : 0;
      }
    }
    ++page_at_;
  }
  finish_page();
}

void LndInvoiceSource::finish_page() {
  page_ready_ = false;
  const bool last = page_.invoices.empty() || page_.last_index_offset <= backfill_offset_;
  const std::uint64_t next_offset = page_.last_index_offset;
  page_ = LndInvoicePage{};
  exchange_->close();
  if (!last) {
    backfill_offset_ = next_offset;
    start_request(); // the next page at once: no backoff between pages
    return;
  }
  // Done: the stream takes over from the cursor, which is acknowledged (and
  // the state file written) once every backfilled event is durable.
  backfilling_ = false;
  subscribe_from_ = backfill_cursor_;
  pending_.push_back({backfill_cursor_, 0, true});
  start_request();
}

void LndInvoiceSource::disconnect(std::string why) {
  if (exchange_->take_dropped() || exchange_->tcp_connected()) {
    ++counters_.disconnects;
  }
  exchange_->close();
  // Whatever was not admitted yet is settled after the acknowledged index,
  // so LND sends it again on the next connection (a backfill page is
  // fetched again from its offset).
  lines_.clear();
  discarding_ = false;
  body_done_ = false;
  blocked_ = false;
  holding_ = false;
  admitted_of_message_ = 0;
  page_ready_ = false;
  page_ = LndInvoicePage{};
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
      // The state file says the backfill is done, even at index 0.
      must_persist_ = must_persist_ || pending_.front().ends_backfill;
      pending_.pop_front();
    }
  }
  if (acknowledged_ > persisted_ || must_persist_) {
    persist();
  }
}

void LndInvoiceSource::persist() {
  if (options_.state_file.empty()) {
    persisted_ = acknowledged_;
    must_persist_ = false;
    return;
  }
  std::string error;
  if (!detail::write_index_file(options_.state_file, acknowledged_, error)) {
    last_error_ = std::move(error);
    return; // tried again on the next poll
  }
  persisted_ = acknowledged_;
  must_persist_ = false;
  state_file_written_ = true;
}

int LndInvoiceSource::wait_ms(int timeout_ms) const {
  const auto now = Clock::now();
  int wait = std::max(timeout_ms, 0);
  if (!exchange_->active()) {
    wait = std::min(wait, detail::milliseconds_until(next_attempt_, now));
  } else if (!exchange_->request_sent()) {
    wait = std::min(wait, detail::milliseconds_until(deadline_, now));
  } else if (!backfilling_ && options_.idle_resubscribe_ms > 0) {
    wait =
        std::min(wait, detail::milliseconds_until(
                           exchange_->last_received() + std::chrono::milliseconds(options_.idle_resubscribe_ms), now));
  }
  if (blocked_) {
    wait = std::min(wait, 10); // the sink may have room (or a price) soon
  }
  if (!pending_.empty()) {
    wait = std::min(wait, 1); // acknowledgements wait for durability: look again soon
  }
  if (!blocked_ && exchange_->active() && exchange_->more_to_read()) {
    wait = 0; // decrypted bytes the socket will not announce
  }
  return wait;
}

std::size_t LndInvoiceSource::poll_once(int timeout_ms) {
  const std::uint64_t messages_before = counters_.messages;
  if (blocked_) {
    // The held message first, in stream (or page) order.
    if (page_ready_) {
      process_page();
    } else {
      process_lines();
      if (!blocked_ && body_done_) {
        disconnect("lnd ended the stream");
      }
    }
  }
  if (!exchange_->active() && !blocked_ && Clock::now() >= next_attempt_) {
    start_request();
  }
  const int wait = wait_ms(timeout_ms);
  pollfd descriptor{exchange_->fd(), 0, 0};
  // While blocked the socket is not watched at all: a readable or hung-up
  // socket we do not read would wake poll() at once, again and again.
  const bool watch = exchange_->active() && !blocked_;
  if (watch) {
    descriptor.events = exchange_->poll_events();
  }
  const int ready = ::poll(watch ? &descriptor : nullptr, watch ? 1 : 0, wait);
  if (watch && (ready > 0 || exchange_->more_to_read())) {
    advance(ready > 0 ? descriptor.revents : 0);
  }
  const auto now = Clock::now();
  if (exchange_->active() && !exchange_->request_sent() && now >= deadline_) {
    disconnect("lnd did not take the request within " + std::to_string(options_.connect_timeout_ms) + " ms");
  } else if (exchange_->request_sent() && !backfilling_ && !blocked_ && options_.idle_resubscribe_ms > 0 &&
             now >= exchange_->last_received() + std::chrono::milliseconds(options_.idle_resubscribe_ms)) {
    // lnd's normal silence, not a failure: resubscribe at once, no backoff.
    ++counters_.idle_resubscribes;
    if (exchange_->tcp_connected()) {
      ++counters_.disconnects;
    }
    exchange_->close();
    lines_.clear();
    discarding_ = false;
    start_request();
  }
  release_acknowledgements();
  return static_cast<std::size_t>(counters_.messages - messages_before);
}

} // namespace synthusd::liabilities
