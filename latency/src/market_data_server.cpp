#include "market_data_server.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace synthusd::latency {
namespace {

std::string price_text(std::int64_t cents) {
  std::string text = std::to_string(cents / 100);
  const std::int64_t fraction = cents % 100;
  text += fraction < 10 ? ".0" : ".";
  text += std::to_string(fraction);
  return text;
}

} // namespace

MarketDataServer::MarketDataServer() : server_(0) {}

void MarketDataServer::handle_ready(const std::vector<pollfd>& fds) {
  std::vector<venue::WebSocketMessage> messages;
  std::vector<venue::ConnectionId> closed;
  server_.handle_ready(fds, messages, closed);
  for (const venue::ConnectionId id : closed) {
    subscriptions_.erase(std::remove(subscriptions_.begin(), subscriptions_.end(), id), subscriptions_.end());
  }
  for (const venue::WebSocketMessage& message : messages) {
    on_message(message);
  }
}

void MarketDataServer::on_message(const venue::WebSocketMessage& message) {
  const nlohmann::json request = nlohmann::json::parse(message.text, nullptr, false);
  if (request.is_discarded() || !request.is_object() || !request.contains("method")) {
    return;
  }
  const nlohmann::json id = request.contains("id") ? request["id"] : nlohmann::json(nullptr);
  const std::string method = request["method"].is_string() ? request["method"].get<std::string>() : "";
  nlohmann::json reply = {{"jsonrpc", "2.0"}, {"id", id}, {"testnet", true}};
  if (method.ends_with("/subscribe")) {
    nlohmann::json accepted = nlohmann::json::array();
    if (request.contains("params") && request["params"].contains("channels")) {
      for (const nlohmann::json& channel : request["params"]["channels"]) {
        if (channel.is_string() && channel.get<std::string>().starts_with("ticker.")) {
          channel_ = channel.get<std::string>();
          accepted.push_back(channel);
        }
      }
    }
    if (!accepted.empty() &&
        std::find(subscriptions_.begin(), subscriptions_.end(), message.connection) == subscriptions_.end()) {
      subscriptions_.push_back(message.connection);
    }
    reply["result"] = accepted;
  } else if (method == "public/test" || method == "public/hello") {
    reply["result"] = {{"version", "synthusd-latency 1.0"}};
  } else {
    reply["result"] = "ok"; // set_heartbeat, disable_heartbeat, unsubscribe ...
  }
  server_.send_text(message.connection, reply.dump());
}

std::string MarketDataServer::ticker_notification(const std::string& channel, const std::string& instrument,
                                                  std::int64_t price_cents, std::int64_t wall_milliseconds) {
  const std::string price = price_text(price_cents);
  const std::string bid = price_text(price_cents - 50);
  const std::string ask = price_text(price_cents + 50);
  std::string text = R"({"jsonrpc":"2.0","method":"subscription","params":{"channel":")";
  text += channel;
  text += R"(","data":{"timestamp":)" + std::to_string(wall_milliseconds);
  text += R"(,"state":"open","instrument_name":")" + instrument;
  text += R"(","index_price":)" + price + R"(,"mark_price":)" + price + R"(,"last_price":)" + price;
  text += R"(,"best_bid_price":)" + bid + R"(,"best_ask_price":)" + ask;
  text += R"(,"best_bid_amount":100000.0,"best_ask_amount":100000.0,"current_funding":0.0,"funding_8h":0.0)";
  text += R"(,"estimated_delivery_price":)" + price + R"(,"open_interest":0}}})";
  return text;
}

bool MarketDataServer::publish(const std::string& text) {
  bool sent = false;
  for (const venue::ConnectionId id : subscriptions_) {
    sent = server_.send_text(id, text) || sent;
  }
  return sent;
}

} // namespace synthusd::latency
