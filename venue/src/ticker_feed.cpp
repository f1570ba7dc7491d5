#include "synthusd/venue/ticker_feed.hpp"

#include <nlohmann/json.hpp>

#include "synthusd/venue/decimal.hpp"

namespace synthusd::venue {
namespace {

using nlohmann::json;

constexpr std::int64_t kUnlimitedAmountCents = 1'000'000'000; // $10M
constexpr std::string_view kVersion = R"({"version":"synthusd-venue 1.0"})";

[[nodiscard]] std::string envelope(const json& id, std::string_view result) {
  std::string text = R"({"jsonrpc":"2.0","id":)";
  text += id.dump();
  text += R"(,"result":)";
  text += result;
  text += R"(,"testnet":true})";
  return text;
}

[[nodiscard]] std::string error(const json& id, int code, std::string_view message) {
  json reply = {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
  return reply.dump();
}

[[nodiscard]] std::string amount(const TickerSnapshot& snapshot, Contracts size) {
  const std::int64_t cents =
      snapshot.touch_size.is_zero() ? kUnlimitedAmountCents : size.value * snapshot.contract_value.value;
  return format_decimal(cents, 2);
}

} // namespace

std::string ticker_json(const TickerSnapshot& snapshot) {
  const Quote& quote = snapshot.quote;
  const std::string funding = format_ratio(quote.funding_rate);
  std::string text = R"({"timestamp":)";
  text += std::to_string(snapshot.timestamp.nanoseconds / 1'000'000);
  text += R"(,"state":"open","instrument_name":")";
  text += snapshot.instrument;
  text += R"(","index_price":)" + format_price(quote.index);
  text += R"(,"mark_price":)" + format_price(quote.mark);
  text += R"(,"last_price":)" + format_price(quote.mark);
  text += R"(,"best_bid_price":)" + format_price(quote.bid);
  text += R"(,"best_ask_price":)" + format_price(quote.ask);
  text += R"(,"best_bid_amount":)" + amount(snapshot, quote.bid_size);
  text += R"(,"best_ask_amount":)" + amount(snapshot, quote.ask_size);
  if (snapshot.expiration_ms == 0) {
    text += R"(,"current_funding":)" + funding;
    text += R"(,"funding_8h":)" + funding;
  }
  text += R"(,"estimated_delivery_price":)" + format_price(quote.index);
  text += R"(,"open_interest":0})";
  return text;
}

std::string instruments_json(std::span<const TickerSnapshot> snapshots) {
  std::string text = "[";
  for (const TickerSnapshot& snapshot : snapshots) {
    const std::string_view name = snapshot.instrument;
    const std::string_view currency = name.substr(0, name.find('-'));
    const std::string contract = format_decimal(snapshot.contract_value.value, 2);
    const bool perpetual = snapshot.expiration_ms == 0;
    text += text.size() > 1 ? "," : "";
    text += R"({"instrument_name":")";
    text += name;
    text += R"(","kind":"future","instrument_type":"reversed","settlement_period":")";
    text += perpetual ? "perpetual" : "month";
    text += R"(","expiration_timestamp":)";
    text += perpetual ? std::string("32503708800000") : std::to_string(snapshot.expiration_ms);
    text += R"(,"is_active":true,"base_currency":")";
    text += currency;
    text += R"(","quote_currency":"USD","counter_currency":"USD","settlement_currency":")";
    text += currency;
    text += R"(","contract_size":)" + contract;
    text += R"(,"min_trade_amount":)" + contract;
    text += R"(,"tick_size":)" + format_price(snapshot.tick_size);
    text += "}";
  }
  text += "]";
  return text;
}

namespace {

// "ticker.<instrument>.<interval>" -> <instrument>, or "" if not that shape.
std::string_view channel_instrument(std::string_view channel) {
  constexpr std::string_view kPrefix = "ticker.";
  const std::size_t last_dot = channel.rfind('.');
  if (!channel.starts_with(kPrefix) || last_dot == std::string_view::npos || last_dot <= kPrefix.size()) {
    return {};
  }
  const std::string_view interval = channel.substr(last_dot + 1);
  if (interval != "100ms" && interval != "raw" && interval != "agg2") {
    return {};
  }
  return channel.substr(kPrefix.size(), last_dot - kPrefix.size());
}

} // namespace

bool TickerFeed::is_ticker_channel(std::string_view channel) const {
  const std::string_view instrument = channel_instrument(channel);
  for (const std::string& name : instruments_) {
    if (!instrument.empty() && instrument == name) {
      return true;
    }
  }
  return false;
}

bool TickerFeed::has_subscribers() const noexcept {
  for (const auto& [id, client] : clients_) {
    if (!client.channels.empty()) {
      return true;
    }
  }
  return false;
}

void TickerFeed::on_message(const WebSocketMessage& message, std::span<const TickerSnapshot> snapshots,
                            std::int64_t wall_milliseconds, std::vector<WebSocketMessage>& out) {
  const json request = json::parse(message.text, nullptr, false);
  auto reply = [&](std::string text) { out.push_back({message.connection, std::move(text)}); };
  if (request.is_discarded() || !request.is_object()) {
    reply(error(nullptr, -32700, "Parse error"));
    return;
  }
  const json id = request.contains("id") ? request["id"] : json(nullptr);
  const auto method_it = request.find("method");
  if (method_it == request.end() || !method_it->is_string()) {
    reply(error(id, -32600, "Invalid Request"));
    return;
  }
  const std::string method = method_it->get<std::string>();
  const json params = request.contains("params") && request["params"].is_object() ? request["params"] : json::object();
  Client& client = clients_[message.connection];

  if (method == "public/subscribe" || method == "public/unsubscribe" || method == "private/subscribe" ||
      method == "private/unsubscribe") {
    const auto channels = params.find("channels");
    if (channels == params.end() || !channels->is_array()) {
      reply(error(id, -32602, "Invalid params: channels must be an array"));
      return;
    }
    const bool subscribe = method.ends_with("/subscribe");
    json accepted = json::array();
    for (const json& channel : *channels) {
      if (!channel.is_string()) {
        continue;
      }
      const std::string name = channel.get<std::string>();
      if (subscribe && is_ticker_channel(name)) {
        client.channels.insert(name);
        accepted.push_back(name);
      } else if (!subscribe && client.channels.erase(name) > 0) {
        accepted.push_back(name);
      }
    }
    reply(envelope(id, accepted.dump()));
  } else if (method == "public/unsubscribe_all" || method == "private/unsubscribe_all") {
    client.channels.clear();
    reply(envelope(id, R"("ok")"));
  } else if (method == "public/set_heartbeat") {
    const auto interval = params.find("interval");
    if (interval == params.end() || !interval->is_number() || interval->get<double>() < 10) {
      reply(error(id, -32602, "Invalid params: interval must be at least 10 seconds"));
      return;
    }
    client.heartbeat_interval_ms = static_cast<std::int64_t>(interval->get<double>() * 1000);
    client.next_heartbeat_ms = wall_milliseconds + client.heartbeat_interval_ms;
    client.awaiting_test = false;
    reply(envelope(id, R"("ok")"));
  } else if (method == "public/disable_heartbeat") {
    client.heartbeat_interval_ms = 0;
    client.awaiting_test = false;
    reply(envelope(id, R"("ok")"));
  } else if (method == "public/test" || method == "public/hello") {
    client.awaiting_test = false;
    reply(envelope(id, kVersion));
  } else if (method == "public/get_time") {
    const std::int64_t now_ms =
        snapshots.empty() ? wall_milliseconds : snapshots.front().timestamp.nanoseconds / 1'000'000;
    reply(envelope(id, std::to_string(now_ms)));
  } else if (method == "public/ticker") {
    const auto instrument = params.find("instrument_name");
    const TickerSnapshot* found = nullptr;
    for (const TickerSnapshot& snapshot : snapshots) {
      if (instrument != params.end() && instrument->is_string() &&
          instrument->get<std::string>() == snapshot.instrument) {
        found = &snapshot;
      }
    }
    if (found == nullptr) {
      reply(error(id, -32602, "Invalid params: unknown instrument_name"));
      return;
    }
    reply(envelope(id, ticker_json(*found)));
  } else if (method == "public/get_instruments") {
    const auto currency = params.find("currency");
    if (currency == params.end() || !currency->is_string()) {
      reply(error(id, -32602, "Invalid params: currency must be a string"));
      return;
    }
    const std::string wanted = currency->get<std::string>();
    const auto kind = params.find("kind");
    const bool kind_matches = kind == params.end() || (kind->is_string() && kind->get<std::string>() == "future");
    std::vector<TickerSnapshot> listed;
    for (const TickerSnapshot& snapshot : snapshots) {
      if (wanted == "any" || snapshot.instrument.starts_with(wanted + "-")) {
        listed.push_back(snapshot);
      }
    }
    reply(envelope(id, kind_matches ? instruments_json(listed) : "[]"));
  } else {
    reply(error(id, -32601, "Method not found"));
  }
}

void TickerFeed::publish(const TickerSnapshot& snapshot, std::vector<WebSocketMessage>& out) const {
  if (!has_subscribers()) {
    return;
  }
  const std::string data = ticker_json(snapshot);
  for (const auto& [connection, client] : clients_) {
    for (const std::string& channel : client.channels) {
      if (channel_instrument(channel) != snapshot.instrument) {
        continue;
      }
      std::string text = R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":")";
      text += channel;
      text += R"(","data":)";
      text += data;
      text += "}}";
      out.push_back({connection, std::move(text)});
    }
  }
}

void TickerFeed::heartbeat(std::int64_t wall_milliseconds, std::vector<WebSocketMessage>& out,
                           std::vector<ConnectionId>& expired) {
  for (auto& [connection, client] : clients_) {
    if (client.heartbeat_interval_ms == 0 || wall_milliseconds < client.next_heartbeat_ms) {
      continue;
    }
    if (client.awaiting_test) {
      expired.push_back(connection);
      continue;
    }
    out.push_back({connection, R"({"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}})"});
    client.awaiting_test = true;
    client.next_heartbeat_ms = wall_milliseconds + client.heartbeat_interval_ms;
  }
}

} // namespace synthusd::venue
