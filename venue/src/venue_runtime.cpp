#include "synthusd/venue/venue_runtime.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <system_error>
#include <utility>

#include "synthusd/hedging/price_path.hpp"
#include "synthusd/venue/decimal.hpp"
#include "synthusd/venue/fix_messages.hpp"

namespace synthusd::venue {
namespace {

using hedging::int128;

constexpr std::int64_t kNanosecondsPerMillisecond = 1'000'000;

} // namespace

std::vector<hedging::PricePoint> build_price_path(const PricePathSettings& settings) {
  if (!settings.csv_path.empty()) {
    return load_price_csv(settings.csv_path);
  }
  hedging::PricePathConfig config;
  config.start = settings.start_price;
  config.start_time = settings.start_time;
  config.step = settings.step;
  config.steps = static_cast<std::size_t>(settings.steps);
  config.annual_drift = settings.annual_drift;
  config.annual_volatility = settings.annual_volatility;
  config.jumps_per_year = settings.jumps_per_year;
  config.jump_mean = settings.jump_mean;
  config.jump_volatility = settings.jump_volatility;
  config.seed = settings.seed;
  return hedging::generate_price_path(config);
}

FundingSchedule build_funding(const VenueConfig& config, Timestamp path_start) {
  if (config.funding_csv.empty()) {
    return FundingSchedule(config.funding_rate);
  }
  FundingSchedule schedule(load_funding_csv(config.funding_csv));
  schedule.rebase(path_start);
  return schedule;
}

namespace {

std::vector<std::string> instrument_names(const std::string& perpetual, const std::vector<DatedFuture>& futures) {
  std::vector<std::string> names{perpetual};
  for (const DatedFuture& future : futures) {
    names.push_back(future.name);
  }
  return names;
}

} // namespace

VenueRuntime::VenueRuntime(VenueConfig config, Engine engine, std::vector<DatedFuture> futures)
    : config_(std::move(config)), engine_(std::move(engine)), futures_(std::move(futures)),
      feed_(instrument_names(config_.engine.symbol, futures_)) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  fix_ = std::make_unique<FixServer>(config_.fix, this);
}

VenueRuntime::~VenueRuntime() {
  fix_.reset(); // stops QuickFIX's thread before the inbox goes away
  ::close(wake_fd_);
}

void VenueRuntime::start() {
  fix_->start();
  if (config_.websocket_enabled) {
    websocket_ = std::make_unique<WebSocketServer>(config_.websocket_port);
  }
  start_wallet();
  wall_start_ = std::chrono::steady_clock::now();
  wall_start_milliseconds_ = wall_milliseconds();
  simulated_start_ = engine_.now();
}

std::uint16_t VenueRuntime::fix_port() const { return fix_->port(); }

std::uint16_t VenueRuntime::websocket_port() const { return websocket_ ? websocket_->port() : 0; }

Timestamp VenueRuntime::simulated_now() const {
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - wall_start_);
  const int128 simulated = static_cast<int128>(elapsed.count()) * config_.time_scale_millionths / 1'000'000;
  return Timestamp{simulated_start_.nanoseconds + static_cast<std::int64_t>(simulated)};
}

std::int64_t VenueRuntime::wall_milliseconds() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TickerSnapshot VenueRuntime::snapshot() const {
  TickerSnapshot snapshot;
  snapshot.instrument = config_.engine.symbol;
  snapshot.quote = engine_.quote();
  snapshot.timestamp =
      config_.wall_clock_timestamps ? Timestamp{wall_milliseconds() * kNanosecondsPerMillisecond} : engine_.now();
  snapshot.contract_value = config_.engine.contract_value;
  snapshot.touch_size = config_.engine.touch_size;
  snapshot.tick_size = config_.engine.tick_size;
  return snapshot;
}

std::vector<TickerSnapshot> VenueRuntime::snapshots() const {
  std::vector<TickerSnapshot> all{snapshot()};
  for (const DatedFuture& future : futures_) {
    if (future.engine.settled()) {
      continue;
    }
    TickerSnapshot entry = all.front();
    entry.instrument = future.name;
    entry.quote = future.engine.quote();
    entry.quote.index = engine_.quote().index; // the future's book prices the future; the index is the venue's
    entry.quote.funding_rate = Ratio{0};
    // The expiry in the clock the timestamps use: simulated, or the wall
    // time at which the simulated clock reaches it.
    const std::int64_t simulated_ms = future.expiry.nanoseconds / kNanosecondsPerMillisecond;
    entry.expiration_ms = simulated_ms;
    if (config_.wall_clock_timestamps && config_.time_scale_millionths > 0) {
      const int128 after_start_ns = static_cast<int128>((future.expiry - simulated_start_).nanoseconds) * 1'000'000 /
                                    config_.time_scale_millionths;
      entry.expiration_ms =
          wall_start_milliseconds_ + static_cast<std::int64_t>(after_start_ns / kNanosecondsPerMillisecond);
    }
    all.push_back(entry);
  }
  return all;
}

void VenueRuntime::advance_futures() {
  const Timestamp now = simulated_now();
  for (DatedFuture& future : futures_) {
    future.engine.advance_to(now, events_);
    if (!future.engine.settled() && now >= future.expiry) {
      settle_expired(future);
    }
  }
}

void VenueRuntime::settle_expired(DatedFuture& future) {
  // The book's path ends at the expiry on the index price: its mark is the
  // delivery price.
  const Price delivery = future.engine.quote().mark;
  future.engine.settle(delivery, events_);
  std::int64_t accounts = 0;
  for (const auto& [name, account] : future.engine.accounts()) {
    // What the isolated account gained or lost goes to the main account.
    const Sats result = account.balance - config_.engine.initial_collateral;
    if (result.value > 0) {
      engine_.deposit(name, result, events_);
    } else if (result.value < 0) {
      [[maybe_unused]] const Sats taken = engine_.withdraw(name, Sats{-result.value}, events_);
    }
    ++accounts;
  }
  // stderr: a supervisor that closed stdout after reading the ports must not
  // end the venue with SIGPIPE.
  std::cerr << "synthusd-venue: " << future.name << " expired and settled at " << format_price(delivery) << " ("
            << accounts << " accounts)" << std::endl;
}

Engine& VenueRuntime::book(std::string_view symbol) {
  for (DatedFuture& future : futures_) {
    if (future.name == symbol) {
      return future.engine;
    }
  }
  return engine_;
}

void VenueRuntime::apply(const std::string& client, const Command& command) {
  std::visit(
      [&](const auto& request) {
        using T = std::decay_t<decltype(request)>;
        if constexpr (std::is_same_v<T, NewOrder>) {
          book(request.symbol).new_order(client, request, events_);
        } else if constexpr (std::is_same_v<T, CancelOrder>) {
          book(request.symbol).cancel_order(client, request, events_);
        } else if constexpr (std::is_same_v<T, ReplaceOrder>) {
          book(request.symbol).replace_order(client, request, events_);
        } else if constexpr (std::is_same_v<T, MassCancel>) {
          if (request.scope != MassCancelScope::symbol) {
            for (DatedFuture& future : futures_) {
              future.engine.cancel_all(client, "mass cancel", events_);
            }
          }
          book(request.symbol).mass_cancel(client, request, events_);
        } else if constexpr (std::is_same_v<T, PositionRequest>) {
          // One PositionReport for the account, as Deribit answers: the
          // perpetual's, to which send_events() adds the futures' positions.
          // The futures' books only take the subscription.
          engine_.request_positions(client, request, events_);
          std::vector<Event> subscribed;
          for (DatedFuture& future : futures_) {
            future.engine.request_positions(client, request, subscribed);
          }
        } else if constexpr (std::is_same_v<T, StatusRequest>) {
          if (request.all_open) {
            engine_.order_status(client, request, events_);
            for (DatedFuture& future : futures_) {
              future.engine.order_status(client, request, events_);
            }
          } else {
            book(request.symbol).order_status(client, request, events_);
          }
        } else {
          engine_.inquire_collateral(client, request, events_);
        }
      },
      command);
}

// ---- QuickFIX's thread -----------------------------------------------------------

void VenueRuntime::post(InboxItem item) {
  {
    const std::lock_guard<std::mutex> lock(inbox_mutex_);
    inbox_.push_back(std::move(item));
  }
  const std::uint64_t one = 1;
  // A full counter (2^64 - 2 pending wakes) cannot happen; EAGAIN is harmless.
  [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof one);
}

void VenueRuntime::on_logon(const std::string& client) {
  InboxItem item;
  item.kind = InboxKind::logon;
  item.message.client = client;
  post(std::move(item));
}

void VenueRuntime::on_logout(const std::string& client) {
  InboxItem item;
  item.kind = InboxKind::logout;
  item.message.client = client;
  post(std::move(item));
}

void VenueRuntime::on_message(InboundMessage message) {
  InboxItem item;
  item.message = std::move(message);
  post(std::move(item));
}

// ---- the venue thread ----------------------------------------------------------

void VenueRuntime::add_other_positions(PositionEvent& event) {
  if (!event.valid_request || futures_.empty()) {
    return;
  }
  std::vector<PositionEntry> entries{
      {event.symbol, event.position, event.entry_price, event.mark_price, event.contract_value}};
  bool any_open = !event.position.is_zero();
  const auto add = [&](Engine& book) {
    if (book.config().symbol == event.symbol || book.settled()) {
      return;
    }
    const AccountState& account = book.account(event.account);
    entries.push_back(
        {book.config().symbol, account.position, account.entry_price, book.quote().mark, book.config().contract_value});
    any_open = any_open || !account.position.is_zero();
  };
  add(engine_);
  for (DatedFuture& future : futures_) {
    add(future.engine);
  }
  if (!any_open) {
    return; // no entries: flat everywhere, which is what Deribit's shape says
  }
  // Every instrument trading, flat ones included, so each is reconciled; a
  // position first, as a report led by a flat entry reads as flat everywhere
  // in Deribit's shape (fix_deribit_replies.cpp).
  const auto open = std::find_if(entries.begin(), entries.end(),
                                 [](const PositionEntry& entry) { return !entry.position.is_zero(); });
  std::iter_swap(entries.begin(), open);
  const PositionEntry& first = entries.front();
  event.symbol = first.symbol;
  event.position = first.position;
  event.entry_price = first.entry_price;
  event.mark_price = first.mark_price;
  event.contract_value = first.contract_value;
  event.other_positions.assign(entries.begin() + 1, entries.end());
}

void VenueRuntime::send_events() {
  for (Event& event : events_) {
    if (auto* position = std::get_if<PositionEvent>(&event)) {
      add_other_positions(*position);
    }
  }
  for (const Event& event : events_) {
    const std::string& account = account_of(event);
    fix_->send(account,
               config_.fix.deribit_replies ? encode_deribit(event, fix_->fills_as_reports(account)) : encode(event));
  }
  events_.clear();
}

void VenueRuntime::drain_inbox() {
  std::uint64_t count = 0;
  [[maybe_unused]] const ssize_t read_bytes = ::read(wake_fd_, &count, sizeof count);
  std::deque<InboxItem> items;
  {
    const std::lock_guard<std::mutex> lock(inbox_mutex_);
    items.swap(inbox_);
  }
  for (InboxItem& item : items) {
    advance_futures();
    engine_.advance_to(simulated_now(), events_);
    const std::string& client = item.message.client;
    if (item.kind == InboxKind::logout && config_.cancel_on_disconnect) {
      engine_.cancel_all(client, "cancel on disconnect", events_);
      for (DatedFuture& future : futures_) {
        future.engine.cancel_all(client, "cancel on disconnect", events_);
      }
    }
    if (item.kind == InboxKind::message) {
      Decoded decoded = config_.fix.deribit_replies ? decode_deribit(item.message, config_.engine)
                                                    : decode(item.message, config_.engine);
      if (decoded.reject) {
        fix_->send(client, *decoded.reject);
      } else {
        apply(client, *decoded.command);
      }
    }
    send_events();
  }
}

void VenueRuntime::tick() {
  advance_futures();
  engine_.advance_to(simulated_now(), events_);
  advance_wallet();
  send_events();
  if (!websocket_) {
    return;
  }
  std::vector<WebSocketMessage> out;
  for (const TickerSnapshot& current : snapshots()) {
    feed_.publish(current, out);
  }
  std::vector<ConnectionId> expired;
  feed_.heartbeat(wall_milliseconds(), out, expired);
  for (const WebSocketMessage& message : out) {
    if (!websocket_->send_text(message.connection, message.text)) {
      feed_.on_close(message.connection);
    }
  }
  for (const ConnectionId connection : expired) {
    websocket_->close(connection, 1000, "heartbeat test_request not answered");
    feed_.on_close(connection);
  }
}

void VenueRuntime::handle_websocket(const std::vector<pollfd>& fds) {
  std::vector<WebSocketMessage> requests;
  std::vector<ConnectionId> closed;
  websocket_->handle_ready(fds, requests, closed);
  for (const ConnectionId connection : closed) {
    feed_.on_close(connection);
  }
  if (requests.empty()) {
    return;
  }
  advance_futures();
  engine_.advance_to(simulated_now(), events_);
  send_events();
  const std::vector<TickerSnapshot> current = snapshots();
  std::vector<WebSocketMessage> replies;
  for (const WebSocketMessage& request : requests) {
    feed_.on_message(request, current, wall_milliseconds(), replies);
  }
  for (const WebSocketMessage& reply : replies) {
    if (!websocket_->send_text(reply.connection, reply.text)) {
      feed_.on_close(reply.connection);
    }
  }
}

void VenueRuntime::run(int stop_fd) {
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::nanoseconds(config_.ticker_interval.nanoseconds);
  auto next_tick = Clock::now();
  std::vector<pollfd> fds;
  while (true) {
    fds.clear();
    fds.push_back(pollfd{stop_fd, POLLIN, 0});
    fds.push_back(pollfd{wake_fd_, POLLIN, 0});
    if (websocket_) {
      websocket_->add_poll_fds(fds);
    }
    if (wallet_server_) {
      wallet_server_->add_poll_fds(fds);
    }
    // Woken by the tick or by the nearest wallet connection deadline, so a
    // stalled connection is closed on time without a sleep or a thread.
    auto wake = next_tick;
    if (wallet_server_) {
      if (const auto deadline = wallet_server_->next_deadline()) {
        wake = std::min(wake, *deadline);
      }
    }
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now()).count();
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<std::int64_t>(wait, 0)));
    if (ready < 0 && errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    if ((fds[0].revents & POLLIN) != 0) {
      break;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      drain_inbox();
    }
    if (websocket_ && ready > 0) {
      handle_websocket(fds);
    }
    if (wallet_server_ && ready > 0) {
      handle_wallet(fds);
    }
    const auto now = Clock::now();
    if (wallet_server_) {
      wallet_server_->close_expired(now);
    }
    if (now >= next_tick) {
      tick();
      next_tick += interval;
      if (next_tick < now) {
        next_tick = now + interval; // fell behind: skip rather than burst
      }
    }
  }
  if (wallet_server_) {
    // The wallet's counters, for an operator wondering why a client was cut off.
    std::cerr << "synthusd-venue: wallet connections closed: " << wallet_server_->timed_out_connections() << " at the "
              << wallet_server_->idle_timeout().count() << " ms idle timeout, " << wallet_server_->refused_connections()
              << " refused at the cap of " << WalletServer::kMaxConnections << ", "
              << wallet_server_->handshake_failures() << " failed TLS handshakes" << std::endl;
  }
  fix_->stop();
}

} // namespace synthusd::venue
