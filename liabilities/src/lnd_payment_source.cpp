#include "synthusd/liabilities/lnd_payment_source.hpp"

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

LndPaymentSource::LndPaymentSource(LndOptions options, LiabilityAdmission& admission)
    : options_(std::move(options)), admission_(admission), backoff_(detail::checked_reconnect_backoff(options_)) {
  if (options_.debits_page_size < 1 || options_.debits_poll_ms < 1 || options_.debits_from_payment_index < 0) {
    throw std::invalid_argument("lnd: debits_page_size and debits_poll_ms must be positive, "
                                "debits_from_payment_index not negative");
  }
  macaroon_hex_ = detail::read_macaroon_hex(options_.macaroon_file);
  exchange_ = std::make_unique<detail::LndExchange>(options_, macaroon_hex_);
  if (!detail::read_index_file(options_.debits_state_file, persisted_)) {
    persisted_ = static_cast<std::uint64_t>(options_.debits_from_payment_index);
  }
  acknowledged_ = persisted_;
  frontier_ = persisted_;
}

LndPaymentSource::~LndPaymentSource() = default;

void LndPaymentSource::start_scan() {
  const std::string target = "/v1/payments?index_offset=" + std::to_string(scan_from_) +
                             "&max_payments=" + std::to_string(options_.debits_page_size) +
                             "&include_incomplete=true&reversed=false";
  body_.clear();
  if (exchange_->start(target) == Exchange::Status::failed) {
    fail(exchange_->error());
    return;
  }
  deadline_ = Clock::now() + std::chrono::milliseconds(options_.connect_timeout_ms);
}

void LndPaymentSource::fail(std::string why) {
  exchange_->close();
  ++counters_.failures;
  up_ = false;
  body_.clear();
  last_error_ = std::move(why);
  next_scan_ = Clock::now() + backoff_.next();
}

void LndPaymentSource::on_page() {
  ++counters_.scans;
  page_ = parse_lnd_payment_page(body_);
  body_.clear();
  if (!page_.ok) {
    ++counters_.rejected;
    rejections_.record(page_.reason, "index_offset " + std::to_string(scan_from_));
    fail(page_.reason);
    return;
  }
  backoff_.reset();
  up_ = true;
  page_at_ = 0;
  page_ready_ = true;
  process_page();
}

void LndPaymentSource::process_page() {
  const auto settle = [this](std::uint64_t index, std::uint64_t ticket) {
    if (!frontier_held_ && index > frontier_) {
      pending_.push_back({index, ticket});
      frontier_ = index;
    }
  };
  for (; page_at_ < page_.payments.size(); ++page_at_) {
    const LndPayment& payment = page_.payments[page_at_];
    switch (payment.kind) {
    case LndPayment::Kind::rejected:
      ++counters_.payments;
      ++counters_.rejected;
      rejections_.record(payment.reason, "payment_index " + std::to_string(payment.payment_index));
      last_error_ = "rejected: " + payment.reason;
      settle(payment.payment_index, 0); // malformed for good: it holds nothing back
      continue;
    case LndPayment::Kind::failed:
      ++counters_.payments;
      ++counters_.failed;
      settle(payment.payment_index, 0);
      continue;
    case LndPayment::Kind::pending:
      // It may still succeed: the cursor must not pass it.
      frontier_held_ = true;
      continue;
    case LndPayment::Kind::succeeded:
      break;
    }
    if (const auto earlier = beyond_frontier_.find(payment.payment_index); earlier != beyond_frontier_.end()) {
      if (!frontier_held_) {
        settle(payment.payment_index, earlier->second);
        beyond_frontier_.erase(earlier);
      }
      continue; // admitted by an earlier scan
    }
    if (holding_ && !admission_.sink().index_price().is_valid()) {
      return; // still no price: not asked again
    }
    const Admission admission = admission_.admit(payment.request);
    switch (admission.outcome) {
    case Admission::Outcome::full:
    case Admission::Outcome::unpriced:
    case Admission::Outcome::rejected:
      // A real debit: never skipped (see LndInvoiceSource).
      if (!holding_) {
        ++counters_.held;
        holding_ = true;
      }
      last_error_ = admission.outcome == Admission::Outcome::full ? "held: the liability sink is full"
                                                                  : std::string("held: ") + admission.reason;
      return;
    case Admission::Outcome::duplicate:
      ++counters_.duplicates;
      break;
    case Admission::Outcome::accepted:
      ++counters_.debited;
      break;
    }
    holding_ = false;
    ++counters_.payments;
    if (frontier_held_) {
      beyond_frontier_[payment.payment_index] = admission.ticket;
    } else {
      settle(payment.payment_index, admission.ticket);
    }
  }
  page_ready_ = false;
  const bool full = page_.payments.size() >= static_cast<std::size_t>(options_.debits_page_size) &&
                    page_.last_index_offset > scan_from_;
  const std::uint64_t next = page_.last_index_offset;
  page_ = LndPaymentPage{};
  if (full) {
    scan_from_ = next; // the next page of this scan, at once
    start_scan();
    return;
  }
  next_scan_ = Clock::now() + std::chrono::milliseconds(options_.debits_poll_ms);
}

void LndPaymentSource::release_acknowledgements() {
  if (!pending_.empty()) {
    const std::uint64_t durable = admission_.make_durable();
    while (!pending_.empty() && pending_.front().ticket <= durable) {
      acknowledged_ = std::max(acknowledged_, pending_.front().payment_index);
      pending_.pop_front();
    }
  }
  if (acknowledged_ > persisted_) {
    std::string error;
    if (!options_.debits_state_file.empty() &&
        !detail::write_index_file(options_.debits_state_file, acknowledged_, error)) {
      last_error_ = std::move(error);
      return; // tried again on the next poll
    }
    persisted_ = acknowledged_;
  }
}

std::size_t LndPaymentSource::poll_once(int timeout_ms) {
  const std::uint64_t before = counters_.payments;
  if (page_ready_) {
    process_page(); // the held payment first, in index order
  }
  auto now = Clock::now();
  if (!exchange_->active() && !page_ready_ && now >= next_scan_) {
    // A new scan starts at the frontier: everything before it is settled.
    frontier_held_ = false;
    scan_from_ = frontier_;
    start_scan();
  }
  int wait = std::max(timeout_ms, 0);
  if (!exchange_->active()) {
    wait = std::min(wait, page_ready_ ? 10 : detail::milliseconds_until(next_scan_, now));
  } else {
    wait = std::min(wait, detail::milliseconds_until(deadline_, now));
    if (exchange_->more_to_read()) {
      wait = 0;
    }
  }
  if (!pending_.empty()) {
    wait = std::min(wait, 1); // acknowledgements wait for durability: look again soon
  }
  pollfd descriptor{exchange_->fd(), exchange_->poll_events(), 0};
  const bool watch = exchange_->active();
  const int ready = ::poll(watch ? &descriptor : nullptr, watch ? 1 : 0, wait);
  bool first = true;
  while (exchange_->active() && (first ? (ready > 0 || exchange_->more_to_read()) : exchange_->more_to_read())) {
    const Exchange::Status status = exchange_->advance(first && ready > 0 ? descriptor.revents : 0, body_, true);
    first = false;
    if (status == Exchange::Status::failed) {
      fail(exchange_->error());
    } else if (body_.size() > kMaxLndPageBytes) {
      fail("lnd's ListPayments page is larger than " + std::to_string(kMaxLndPageBytes) + " bytes");
    } else if (status == Exchange::Status::done) {
      on_page();
      break;
    }
  }
  now = Clock::now();
  // A unary call: lnd answers at once, so the whole answer is due in time.
  if (exchange_->active() && now >= deadline_ + std::chrono::milliseconds(options_.connect_timeout_ms)) {
    fail("lnd did not answer ListPayments within " + std::to_string(2 * options_.connect_timeout_ms) + " ms");
  }
  release_acknowledgements();
  return static_cast<std::size_t>(counters_.payments - before);
}

} // namespace synthusd::liabilities
