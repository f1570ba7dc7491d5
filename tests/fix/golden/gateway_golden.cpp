// C++20: golden FIX sessions; see gateway_golden.hpp.

#include "gateway_golden.hpp"

#include "synthusd/fix/gateway_decimal.hpp"

#include <chrono>
#include <istream>
#include <memory>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <variant>

namespace synthusd::fix::golden {
namespace {

constexpr char kSoh = '\x01';

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument(what); }

std::map<std::string, std::string> parse_pairs(const std::string& text) {
  std::map<std::string, std::string> pairs;
  std::istringstream in(text);
  std::string token;
  while (in >> token) {
    const std::size_t equals = token.find('=');
    if (equals == std::string::npos || equals == 0) {
      bad("expected key=value, got '" + token + "'");
    }
    pairs[token.substr(0, equals)] = token.substr(equals + 1);
  }
  return pairs;
}

std::int64_t to_integer(const std::string& key, const std::string& value) {
  std::size_t used = 0;
  long long result = 0;
  try {
    result = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || value.empty()) {
    bad(key + " is not an integer: '" + value + "'");
  }
  return result;
}

std::int64_t to_price(const std::string& key, const std::string& value) {
  std::int64_t result = 0;
  if (!parse_decimal_e8(value, result)) {
    bad(key + " is not a decimal: '" + value + "'");
  }
  return result;
}

bool to_flag(const std::string& key, const std::string& value) {
  if (value == "1") {
    return true;
  }
  if (value == "0") {
    return false;
  }
  bad(key + " must be 0 or 1, got '" + value + "'");
}

const std::string& required(const std::map<std::string, std::string>& arguments, const std::string& key,
                            const std::string& verb) {
  const auto it = arguments.find(key);
  if (it == arguments.end()) {
    bad("intent " + verb + " needs " + key + "=");
  }
  return it->second;
}

TimeInForce to_time_in_force(const std::string& value) {
  if (value == "day") {
    return TimeInForce::day;
  }
  if (value == "gtc") {
    return TimeInForce::good_till_cancel;
  }
  if (value == "ioc") {
    return TimeInForce::immediate_or_cancel;
  }
  if (value == "fok") {
    return TimeInForce::fill_or_kill;
  }
  bad("tif must be day, gtc, ioc or fok, got '" + value + "'");
}

// Splits "a=b<sep>c=d<sep>" into (tag, value) pairs.
std::vector<std::pair<int, std::string>> split_fields(const std::string& message) {
  std::vector<std::pair<int, std::string>> fields;
  std::size_t position = 0;
  while (position < message.size()) {
    std::size_t end = position;
    while (end < message.size() && message[end] != kSoh && message[end] != '|') {
      ++end;
    }
    const std::string text = message.substr(position, end - position);
    const std::size_t equals = text.find('=');
    int tag = -1;
    if (equals != std::string::npos) {
      try {
        tag = std::stoi(text.substr(0, equals));
      } catch (const std::exception&) {
        tag = -1;
      }
    }
    fields.emplace_back(tag, equals == std::string::npos ? text : text.substr(equals + 1));
    position = end + 1;
  }
  return fields;
}

std::string message_type_of(const std::string& message) {
  for (const auto& [tag, value] : split_fields(message)) {
    if (tag == 35) {
      return value;
    }
  }
  return "";
}

std::string with_pipes(std::string text) {
  for (char& c : text) {
    if (c == kSoh) {
      c = '|';
    }
  }
  return text;
}

// Free text in an event line: spaces would split it, so they become '_'.
std::string word(std::string text) {
  for (char& c : text) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      c = '_';
    }
  }
  return text.empty() ? "-" : text;
}

const char* status_name(hedging::OrderStatus status) {
  switch (status) {
  case hedging::OrderStatus::accepted:
    return "accepted";
  case hedging::OrderStatus::partially_filled:
    return "partially_filled";
  case hedging::OrderStatus::filled:
    return "filled";
  case hedging::OrderStatus::canceled:
    return "canceled";
  case hedging::OrderStatus::rejected:
    return "rejected";
  }
  return "rejected";
}

} // namespace

std::string GoldenConfig::format() const {
  std::ostringstream out;
  out << "config dialect=" << to_string(dialect) << " sender=" << sender_comp_id << " target=" << target_comp_id
      << " venue=" << venue << " instrument=" << instrument << " symbol=" << symbol
      << " order_multiplier=" << order_quantity_multiplier << " report_multiplier=" << report_quantity_multiplier
      << " prefix=" << client_order_id_prefix << " mass_cancel=" << (mass_cancel ? 1 : 0)
      << " collateral=" << (collateral ? 1 : 0) << " clock_start=" << clock_start << " clock_step=" << clock_step;
  return out.str();
}

GoldenConfig GoldenConfig::parse(const std::string& text) {
  GoldenConfig config;
  for (const auto& [key, value] : parse_pairs(text)) {
    if (key == "dialect") {
      if (!parse_dialect(value, config.dialect)) {
        bad("unknown dialect '" + value + "'");
      }
    } else if (key == "sender") {
      config.sender_comp_id = value;
    } else if (key == "target") {
      config.target_comp_id = value;
    } else if (key == "venue") {
      config.venue = static_cast<hedging::VenueId>(to_integer(key, value));
    } else if (key == "instrument") {
      config.instrument = static_cast<hedging::InstrumentId>(to_integer(key, value));
    } else if (key == "symbol") {
      config.symbol = value;
    } else if (key == "order_multiplier") {
      config.order_quantity_multiplier = to_integer(key, value);
    } else if (key == "report_multiplier") {
      config.report_quantity_multiplier = to_integer(key, value);
    } else if (key == "prefix") {
      config.client_order_id_prefix = value;
    } else if (key == "mass_cancel") {
      config.mass_cancel = to_flag(key, value);
    } else if (key == "collateral") {
      config.collateral = to_flag(key, value);
    } else if (key == "clock_start") {
      config.clock_start = to_integer(key, value);
    } else if (key == "clock_step") {
      config.clock_step = to_integer(key, value);
    } else {
      bad("unknown config key '" + key + "'");
    }
  }
  return config;
}

GatewayConfig make_gateway_config(const GoldenConfig& golden, const std::string& host, int port,
                                  const std::string& work_directory) {
  GatewayConfig config;
  config.dialect = golden.dialect;
  config.venue = golden.venue;
  config.sender_comp_id = golden.sender_comp_id;
  config.target_comp_id = golden.target_comp_id;
  config.host = host;
  config.port = port;
  config.reconnect_interval_seconds = 1;
  config.file_store = false;
  config.store_directory = work_directory + "/store";
  config.client_order_id_path = work_directory + "/client_order_id";
  config.client_order_id_prefix = golden.client_order_id_prefix;
  config.position_request_interval_seconds = 0;
  config.mass_cancel_supported = golden.mass_cancel;
  config.collateral_request_interval_seconds = 0;
  config.collateral_inquiry_supported = golden.collateral;
  config.instruments.push_back(GatewayInstrument{golden.instrument, golden.symbol, golden.order_quantity_multiplier,
                                                 golden.report_quantity_multiplier});
  config.transact_clock = stepping_clock(golden.clock_start, golden.clock_step);
  return config;
}

std::function<std::int64_t()> stepping_clock(std::int64_t start, std::int64_t step) {
  auto next = std::make_shared<std::int64_t>(start);
  return [next, step] {
    const std::int64_t now = *next;
    *next += step;
    return now;
  };
}

IntentLine IntentLine::parse(const std::string& text) {
  IntentLine intent;
  std::istringstream in(text);
  in >> intent.verb;
  std::string rest;
  std::getline(in, rest);
  intent.arguments = parse_pairs(rest);
  if (intent.verb != "order" && intent.verb != "cancel" && intent.verb != "replace" && intent.verb != "cancel_all" &&
      intent.verb != "positions") {
    bad("unknown intent '" + intent.verb + "'");
  }
  return intent;
}

SubmitResult apply_intent(OrderGateway& gateway, const IntentLine& intent, const GoldenConfig& golden) {
  const auto& arguments = intent.arguments;
  if (intent.verb == "order") {
    hedging::OrderIntent order;
    order.client_order_id = static_cast<hedging::ClientOrderId>(to_integer("id", required(arguments, "id", "order")));
    order.venue = golden.venue;
    order.instrument = golden.instrument;
    const std::string& side = required(arguments, "side", "order");
    if (side != "buy" && side != "sell") {
      bad("side must be buy or sell");
    }
    order.side = side == "buy" ? hedging::Side::buy : hedging::Side::sell;
    order.quantity = hedging::Contracts{to_integer("quantity", required(arguments, "quantity", "order"))};
    const std::string& type = required(arguments, "type", "order");
    OrderPolicy policy;
    const auto tif = arguments.find("tif");
    if (type == "limit") {
      order.type = hedging::OrderType::limit;
      order.limit_price = hedging::Price{to_price("price", required(arguments, "price", "order"))};
      if (tif != arguments.end()) {
        policy.limit_time_in_force = to_time_in_force(tif->second);
      }
    } else if (type == "market") {
      order.type = hedging::OrderType::market;
      // Optional: the collar price a dialect that requires Price(44) on
      // market orders (Deribit) sends.
      if (const auto price = arguments.find("price"); price != arguments.end()) {
        order.limit_price = hedging::Price{to_price("price", price->second)};
      }
      if (tif != arguments.end()) {
        policy.market_time_in_force = to_time_in_force(tif->second);
      }
    } else {
      bad("type must be limit or market");
    }
    if (const auto it = arguments.find("post_only"); it != arguments.end()) {
      policy.post_only_limits = to_flag("post_only", it->second);
    }
    if (const auto it = arguments.find("reduce_only"); it != arguments.end()) {
      order.reduce_only = to_flag("reduce_only", it->second);
    }
    gateway.set_policy(policy);
    return gateway.submit(order);
  }
  if (intent.verb == "cancel") {
    return gateway.submit(hedging::CancelIntent{
        static_cast<hedging::ClientOrderId>(to_integer("id", required(arguments, "id", "cancel"))), golden.venue});
  }
  if (intent.verb == "replace") {
    return gateway.replace(static_cast<hedging::ClientOrderId>(to_integer("id", required(arguments, "id", "replace"))),
                           hedging::Contracts{to_integer("quantity", required(arguments, "quantity", "replace"))},
                           hedging::Price{to_price("price", required(arguments, "price", "replace"))});
  }
  if (intent.verb == "cancel_all") {
    return gateway.cancel_all();
  }
  return gateway.request_positions();
}

std::string format_event(const hedging::Event& event) {
  std::ostringstream out;
  if (const auto* report = std::get_if<hedging::ExecutionReport>(&event)) {
    out << "execution id=" << report->client_order_id << " status=" << status_name(report->status)
        << " last_quantity=" << report->last_quantity.value
        << " last_price=" << format_decimal_e8(report->last_price.raw);
  } else if (const auto* position = std::get_if<hedging::PositionSnapshot>(&event)) {
    out << "position venue=" << position->venue << " instrument=" << position->instrument
        << " position=" << position->position.value;
  } else if (const auto* collateral = std::get_if<hedging::CollateralSnapshot>(&event)) {
    out << "collateral venue=" << collateral->venue << " equity=" << collateral->equity.value;
  } else if (const auto* status = std::get_if<hedging::VenueStatus>(&event)) {
    out << "venue_status venue=" << status->venue << " up=" << (status->up ? 1 : 0);
  } else {
    out << "other index=" << event.index();
  }
  return out.str();
}

std::string format_alert(const GatewayAlert& alert) {
  std::ostringstream out;
  out << "alert kind=" << to_string(alert.kind) << " user_order_id=" << alert.user_order_id;
  if (!alert.client_order_id.empty()) {
    out << " client_order_id=" << word(alert.client_order_id.str());
  }
  if (!alert.original_client_order_id.empty()) {
    out << " original_client_order_id=" << word(alert.original_client_order_id.str());
  }
  if (!alert.exec_id.empty()) {
    out << " exec_id=" << word(alert.exec_id.str());
  }
  if (alert.reason >= 0) {
    out << " reason=" << alert.reason;
  }
  if (alert.kind != AlertKind::logon && alert.kind != AlertKind::logout && !alert.text.empty()) {
    out << " text=" << word(alert.text.str());
  }
  return out.str();
}

std::string format_replaced(const ExecutionEvent& event) {
  std::ostringstream out;
  out << "replaced id=" << event.user_order_id << " quantity=" << event.order_quantity
      << " price=" << format_decimal_e8(event.price_e8);
  return out.str();
}

bool is_admin_message_type(const std::string& type) {
  return type == "0" || type == "1" || type == "2" || type == "3" || type == "4" || type == "5" || type == "A";
}

std::string compare_messages(const std::string& expected, const std::string& actual) {
  const auto ignored = [](int tag) { return tag == 9 || tag == 10 || tag == 52; };
  std::vector<std::pair<int, std::string>> want;
  std::vector<std::pair<int, std::string>> got;
  for (auto& field : split_fields(expected)) {
    if (!ignored(field.first)) {
      want.push_back(std::move(field));
    }
  }
  for (auto& field : split_fields(actual)) {
    if (!ignored(field.first)) {
      got.push_back(std::move(field));
    }
  }
  const std::size_t common = std::min(want.size(), got.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (want[i] != got[i]) {
      return "field " + std::to_string(i) + ": expected " + std::to_string(want[i].first) + "=" + want[i].second +
             ", got " + std::to_string(got[i].first) + "=" + got[i].second;
    }
  }
  if (want.size() != got.size()) {
    return "expected " + std::to_string(want.size()) + " fields, got " + std::to_string(got.size());
  }
  return "";
}

GoldenSession read_golden(std::istream& in) {
  GoldenSession session;
  bool has_config = false;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') {
      continue;
    }
    const std::size_t space = line.find(' ');
    const std::string keyword = line.substr(0, space);
    const std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
    try {
      if (keyword == "config") {
        session.config = GoldenConfig::parse(rest);
        has_config = true;
      } else if (keyword == "intent") {
        (void)IntentLine::parse(rest);
        session.entries.push_back({GoldenEntry::Kind::intent, rest, number});
      } else if (keyword == "out") {
        session.entries.push_back({GoldenEntry::Kind::out, rest, number});
      } else if (keyword == "in") {
        session.entries.push_back({GoldenEntry::Kind::in, rest, number});
      } else if (keyword == "event") {
        session.entries.push_back({GoldenEntry::Kind::event, rest, number});
      } else {
        bad("unknown keyword '" + keyword + "'");
      }
    } catch (const std::invalid_argument& error) {
      bad("golden line " + std::to_string(number) + ": " + error.what());
    }
  }
  if (!has_config) {
    bad("golden file has no config line");
  }
  return session;
}

GoldenRecorder::GoldenRecorder(std::ostream& out, const GoldenConfig& config, OrderGatewayListener* forward)
    : out_(out), forward_(forward) {
  out_ << "# synthusd golden FIX session, format 1. Replayed by tests/fix/replay_test.cpp;\n"
       << "# see fix/GATEWAY.md (\"Golden sessions\") to record a new one.\n"
       << config.format() << "\n";
}

void GoldenRecorder::note(const std::string& line) {
  if (recording_.load() && session_ != nullptr) {
    session_->annotate(line);
  }
}

void GoldenRecorder::write(const LogRecord& record) {
  const bool message = record.direction == LogDirection::incoming || record.direction == LogDirection::outgoing;
  if (record.direction == LogDirection::note) {
    out_ << record.text << "\n";
  } else if (message && recording_.load() && !is_admin_message_type(message_type_of(record.text))) {
    out_ << (record.direction == LogDirection::incoming ? "in " : "out ") << with_pipes(record.text) << "\n";
  } else {
    return; // session events, admin messages, anything after recording stopped
  }
  lines_.fetch_add(1);
}

void GoldenRecorder::flush() { out_.flush(); }

void GoldenRecorder::on_event(const hedging::Event& event) {
  note("event " + format_event(event));
  if (forward_ != nullptr) {
    forward_->on_event(event);
  }
}

void GoldenRecorder::on_alert(const GatewayAlert& alert) {
  note("event " + format_alert(alert));
  if (forward_ != nullptr) {
    forward_->on_alert(alert);
  }
}

void GoldenRecorder::on_replaced(const ExecutionEvent& event) {
  note("event " + format_replaced(event));
  if (forward_ != nullptr) {
    forward_->on_replaced(event);
  }
}

void run_script(OrderGateway& gateway, GoldenRecorder& recorder, const GoldenConfig& config, std::istream& script,
                const std::function<bool(const std::string&)>& venue, int quiet_ms) {
  const auto settle = [&](int minimum_ms) {
    const auto start = std::chrono::steady_clock::now();
    const auto limit = start + std::chrono::seconds(5);
    auto last_change = start;
    std::uint64_t seen = recorder.lines();
    for (;;) {
      gateway.poll();
      gateway.session().flush_log();
      const auto now = std::chrono::steady_clock::now();
      if (recorder.lines() != seen) {
        seen = recorder.lines();
        last_change = now;
      }
      if ((now - last_change >= std::chrono::milliseconds(quiet_ms) &&
           now - start >= std::chrono::milliseconds(minimum_ms)) ||
          now >= limit) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  settle(0);
  std::string line;
  int number = 0;
  while (std::getline(script, line)) {
    ++number;
    if (line.empty() || line[0] == '#') {
      continue;
    }
    const std::size_t space = line.find(' ');
    const std::string keyword = line.substr(0, space);
    const std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
    try {
      if (keyword == "intent") {
        const IntentLine intent = IntentLine::parse(rest);
        recorder.note("intent " + rest);
        (void)apply_intent(gateway, intent, config);
        settle(0);
      } else if (keyword == "venue") {
        if (!venue || !venue(rest)) {
          bad("venue command '" + rest + "' is not supported here (venue lines need the in-process test venue)");
        }
        settle(0);
      } else if (keyword == "wait") {
        settle(static_cast<int>(to_integer("wait", rest)));
      } else {
        bad("unknown script keyword '" + keyword + "'");
      }
    } catch (const std::invalid_argument& error) {
      bad("script line " + std::to_string(number) + ": " + error.what());
    }
  }
}

} // namespace synthusd::fix::golden
