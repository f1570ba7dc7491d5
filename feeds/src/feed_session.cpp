#include "synthusd/feeds/feed_session.hpp"

#include <time.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>

namespace synthusd::feeds {
namespace {

hedging::Timestamp realtime_now() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return hedging::Timestamp{static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec};
}

void log_to_stderr(std::string_view line) noexcept {
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fputc('\n', stderr);
}

// Deribit and OKX chain ids (previous must equal last); Binance's u only grows.
SequenceCheck sequence_check(Venue venue) {
  return venue == Venue::binance_coin_m ? SequenceCheck::monotonic : SequenceCheck::chained;
}

hedging::InstrumentId max_instrument(const FeedSessionConfig& config) {
  hedging::InstrumentId max = 0;
  for (const FeedInstrument& i : config.instruments) {
    max = std::max(max, i.instrument);
  }
  return max;
}

std::vector<SymbolMapping> mappings(const FeedSessionConfig& config) {
  std::vector<SymbolMapping> symbols;
  for (const FeedInstrument& i : config.instruments) {
    symbols.push_back({i.venue_symbol, i.instrument});
  }
  return symbols;
}

} // namespace

WebSocketClientOptions venue_client_options(Venue venue) {
  WebSocketClientOptions options;
  options.tls = true;
  options.port = 443;
  switch (venue) {
  case Venue::deribit:
    options.host = "www.deribit.com";
    options.path = "/ws/api/v2";
    break;
  case Venue::okx:
    options.host = "ws.okx.com";
    options.port = 8443;
    options.path = "/ws/v5/public";
    options.keepalive_interval = std::chrono::milliseconds(20'000);
    options.keepalive_text = std::string(OkxParser::ping_message());
    break;
  case Venue::binance_coin_m:
    options.host = "dstream.binance.com";
    options.path = "/ws";
    break;
  }
  return options;
}

FeedSession::Parser FeedSession::make_parser(const FeedSessionConfig& config, std::span<const SymbolMapping> symbols) {
  switch (config.venue) {
  case Venue::deribit:
    return Parser{std::in_place_type<DeribitParser>, symbols};
  case Venue::okx:
    return Parser{std::in_place_type<OkxParser>, symbols};
  case Venue::binance_coin_m:
    return Parser{std::in_place_type<BinanceParser>, symbols};
  }
  throw std::invalid_argument("feed: unknown venue");
}

FeedSession::FeedSession(FeedSessionConfig config, Queue& queue)
    : config_(std::move(config)), queue_(queue), symbols_(mappings(config_)), parser_(make_parser(config_, symbols_)),
      merger_(config_.venue_id, max_instrument(config_), sequence_check(config_.venue)) {
  if (config_.instruments.empty()) {
    throw std::invalid_argument("feed: at least one instrument is required");
  }
  if (config_.clock == nullptr) {
    config_.clock = realtime_now;
  }
  if (config_.log == nullptr) {
    config_.log = log_to_stderr;
  }
  std::vector<std::string_view> names;
  for (const FeedInstrument& i : config_.instruments) {
    names.push_back(i.venue_symbol);
  }
  switch (config_.venue) {
  case Venue::deribit:
    if (config_.deribit_heartbeat_seconds > 0) {
      subscribe_messages_.push_back(
          DeribitParser::set_heartbeat_message(config_.deribit_heartbeat_seconds, next_request_id_++));
    }
    subscribe_messages_.push_back(DeribitParser::subscribe_message(names, next_request_id_++));
    break;
  case Venue::okx:
    subscribe_messages_.push_back(OkxParser::subscribe_message(names));
    break;
  case Venue::binance_coin_m:
    subscribe_messages_.push_back(BinanceParser::subscribe_message(names, next_request_id_++));
    break;
  }
}

void FeedSession::subscribe(WebSocketClient& client) {
  client_ = &client;
  for (const std::string& message : subscribe_messages_) {
    if (!client.send_text(message)) {
      return; // the client drops the connection and the next session resubscribes
    }
  }
}

void FeedSession::on_message(const char* data, std::size_t size, std::size_t capacity) {
  ++counters_.messages;
  VenueTick tick;
  const ParseStatus status =
      std::visit([&](auto& parser) { return parser.parse(data, size, capacity, tick); }, parser_);
  switch (status) {
  case ParseStatus::tick: {
    ++counters_.ticks;
    hedging::MarketUpdate update;
    const MergeResult merged = merger_.apply(tick, config_.clock(), update);
    if (merged == MergeResult::update) {
      if (queue_.publish(update)) {
        ++counters_.published;
      }
    } else if (merged == MergeResult::gap) {
      ++counters_.gaps;
      log_limited("sequence gap: resubscribing for a fresh snapshot", data, size);
      if (client_ != nullptr) {
        client_->request_resubscribe();
      }
    }
    return;
  }
  case ParseStatus::heartbeat_request: {
    std::array<char, DeribitParser::kHeartbeatResponseMaxBytes> buffer{};
    const std::size_t n = DeribitParser::heartbeat_response(next_request_id_++, buffer);
    if (client_ != nullptr && n > 0 && client_->send_text({buffer.data(), n})) {
      ++counters_.heartbeats_answered;
    }
    return;
  }
  case ParseStatus::subscribed:
    ++counters_.subscribed;
    return;
  case ParseStatus::ignored:
  case ParseStatus::pong:
    ++counters_.ignored;
    return;
  case ParseStatus::venue_error:
    ++counters_.venue_errors;
    log_limited("venue error", data, size);
    return;
  case ParseStatus::malformed:
    ++counters_.malformed;
    log_limited("malformed message dropped", data, size);
    return;
  }
}

void FeedSession::on_disconnect(std::string_view /*reason*/) {
  // the next session starts with fresh snapshots: old chains mean nothing
  merger_.reset_sequences();
}

void FeedSession::log_limited(std::string_view what, const char* data, std::size_t size) noexcept {
  const hedging::Timestamp now = config_.clock();
  const hedging::Duration interval{static_cast<std::int64_t>(config_.log_interval.count()) * 1'000'000};
  if (logged_once_ && now - last_log_ < interval) {
    ++counters_.log_lines_suppressed;
    return;
  }
  logged_once_ = true;
  last_log_ = now;
  // the line is built on the stack: cold, but still allocation free
  std::array<char, 256> line{};
  const int n = std::snprintf(line.data(), line.size(), "feed venue %u: %.*s (%llu suppressed since last): %.*s",
                              static_cast<unsigned>(config_.venue_id), static_cast<int>(what.size()), what.data(),
                              static_cast<unsigned long long>(counters_.log_lines_suppressed),
                              static_cast<int>(std::min<std::size_t>(size, 120)), data);
  config_.log({line.data(), static_cast<std::size_t>(std::clamp(n, 0, static_cast<int>(line.size()) - 1))});
}

} // namespace synthusd::feeds
