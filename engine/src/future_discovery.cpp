#include "synthusd/engine/future_discovery.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "durable_file.hpp"
#include "synthusd/feeds/event_loop.hpp"
#include "synthusd/feeds/websocket_client.hpp"
#include "synthusd/hedging/config.hpp"

namespace synthusd::engine {
namespace {

constexpr std::int64_t kRequestId = 7'301; // our one request on the connection

bool valid_name(std::string_view name, std::string_view currency) {
  if (name.empty() || name.size() > hedging::Symbol::kCapacity || name.size() <= currency.size() ||
      name.substr(0, currency.size()) != currency || name[currency.size()] != '-') {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; });
}

// contract_size is USD per contract for an inverse future: compare in cents,
// exactly (a JSON number of whole dollars or cents).
bool same_contract_value(const simdjson::dom::element& size, hedging::UsdCents expected) {
  double value = 0;
  if (size.get_double().get(value) != simdjson::SUCCESS || value <= 0 || value > 1e9) {
    return false;
  }
  const double cents = value * 100;
  return std::llround(cents) == expected.value && std::fabs(cents - static_cast<double>(expected.value)) < 1e-6;
}

class InstrumentsRequest final : public feeds::WebSocketHandler {
public:
  explicit InstrumentsRequest(std::string request) : request_(std::move(request)) {}
  void subscribe(feeds::WebSocketClient& client) override { sent_ = client.send_text(request_); }
  void on_message(const char* data, std::size_t size, std::size_t capacity) override {
    static_cast<void>(capacity);
    const std::string_view text(data, size);
    // The answer carries our id; anything else (a heartbeat) is not it.
    if (text.find("\"id\":" + std::to_string(kRequestId)) != std::string_view::npos) {
      answer_.assign(text);
      done_ = true;
    }
  }
  [[nodiscard]] bool done() const noexcept { return done_; }
  [[nodiscard]] std::string& answer() noexcept { return answer_; }

private:
  std::string request_;
  std::string answer_;
  bool sent_ = false;
  bool done_ = false;
};

} // namespace

ListedFutures parse_listed_futures(std::string_view answer, const hedging::InstrumentSpec& spec,
                                   hedging::Timestamp now) {
  ListedFutures out;
  if (answer.size() > kMaxInstrumentsAnswerBytes) {
    out.problem = "answer larger than " + std::to_string(kMaxInstrumentsAnswerBytes) + " bytes";
    return out;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(simdjson::padded_string(answer)).get(root) != simdjson::SUCCESS) {
    out.problem = "not JSON";
    return out;
  }
  simdjson::dom::array result;
  if (root["result"].get_array().get(result) != simdjson::SUCCESS) {
    std::string_view message;
    const bool has_error = root["error"]["message"].get_string().get(message) == simdjson::SUCCESS;
    out.problem = has_error ? "venue error: " + std::string(message) : "no result array";
    return out;
  }
  if (result.size() > kMaxInstrumentsAnswerEntries) {
    out.problem = std::to_string(result.size()) + " entries, more than " + std::to_string(kMaxInstrumentsAnswerEntries);
    return out;
  }
  const std::string_view currency = spec.symbol.view();
  for (const simdjson::dom::element entry : result) {
    std::string_view name, kind, period;
    bool active = false;
    std::int64_t expiration_ms = 0;
    if (entry["instrument_name"].get_string().get(name) != simdjson::SUCCESS ||
        entry["kind"].get_string().get(kind) != simdjson::SUCCESS ||
        entry["settlement_period"].get_string().get(period) != simdjson::SUCCESS) {
      out.skipped.push_back("an entry without instrument_name, kind or settlement_period");
      continue;
    }
    if (kind != "future" || period == "perpetual" || name.substr(0, currency.size()) != currency) {
      continue; // not a dated future of this currency: not ours
    }
    const std::string label(name.substr(0, hedging::Symbol::kCapacity + 1));
    if (entry["is_active"].get_bool().get(active) != simdjson::SUCCESS || !active) {
      out.skipped.push_back(label + ": not active");
      continue;
    }
    if (!valid_name(name, currency)) {
      out.skipped.push_back(label + ": not a name of at most 31 characters of A-Z, 0-9, '-', '_'");
      continue;
    }
    if (entry["expiration_timestamp"].get_int64().get(expiration_ms) != simdjson::SUCCESS ||
        expiration_ms > (now + kMaxListedHorizon).nanoseconds / 1'000'000 ||
        expiration_ms <= now.nanoseconds / 1'000'000) {
      out.skipped.push_back(label + ": expiration_timestamp missing or outside (now, now + 400 days]");
      continue;
    }
    simdjson::dom::element size;
    if (entry["contract_size"].get(size) != simdjson::SUCCESS || !same_contract_value(size, spec.contract_value)) {
      out.skipped.push_back(label + ": contract_size is not the configured contract_value_usd");
      continue;
    }
    out.futures.push_back({std::string(name), hedging::Timestamp{expiration_ms * 1'000'000}});
  }
  std::sort(out.futures.begin(), out.futures.end(),
            [](const ListedFuture& a, const ListedFuture& b) { return a.expiry < b.expiry; });
  if (out.futures.size() > kMaxListedFutures) {
    out.futures.resize(kMaxListedFutures);
  }
  return out;
}

std::string request_instruments(const FeedSection& feed, std::string_view currency, std::chrono::milliseconds timeout) {
  feeds::EventLoopOptions loop_options;
  loop_options.max_connections = 1;
  loop_options.queue_depth = 16;
  loop_options.receive_buffer_count = 16;
  feeds::EventLoop loop(loop_options);
  InstrumentsRequest handler(R"({"jsonrpc":"2.0","id":)" + std::to_string(kRequestId) +
                             R"(,"method":"public/get_instruments","params":{"currency":")" + std::string(currency) +
                             R"(","kind":"future"}})");
  feeds::WebSocketClientOptions options;
  options.host = feed.host;
  options.port = static_cast<std::uint16_t>(feed.port);
  options.path = feed.path;
  options.tls = feed.tls;
  options.tls_options.extra_ca_file = feed.ca_file;
  options.max_message_size = kMaxInstrumentsAnswerBytes;
  options.connect_timeout = timeout;
  feeds::WebSocketClient client(loop, handler, options);
  client.start();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!handler.done() && std::chrono::steady_clock::now() < deadline) {
    loop.run_once(feeds::WaitMode::blocking, std::chrono::milliseconds(20));
  }
  client.stop();
  const auto closing = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (!client.stopped() && std::chrono::steady_clock::now() < closing) {
    loop.run_once(feeds::WaitMode::blocking, std::chrono::milliseconds(20));
  }
  if (!handler.done()) {
    throw std::runtime_error("no answer from " + feed.host + ":" + std::to_string(feed.port) + " within " +
                             std::to_string(timeout.count()) + " ms (" + std::string(client.last_error()) + ")");
  }
  return std::move(handler.answer());
}

std::vector<ListedFuture> read_remembered_futures(const std::string& path) {
  std::vector<std::uint8_t> bytes;
  if (!read_whole_file(path, bytes)) {
    if (errno == ENOENT) {
      return {};
    }
    throw std::runtime_error("listed futures: cannot read " + path);
  }
  std::vector<ListedFuture> remembered;
  std::istringstream text(std::string(bytes.begin(), bytes.end()));
  std::string line;
  while (std::getline(text, line)) {
    std::istringstream fields(line);
    std::string symbol;
    std::int64_t expiry_ms = -1;
    std::string rest;
    if (!(fields >> symbol >> expiry_ms) || (fields >> rest) || symbol.size() > hedging::Symbol::kCapacity ||
        expiry_ms < 0 || expiry_ms > INT64_MAX / 1'000'000 || remembered.size() == kMaxListedFutures) {
      throw std::runtime_error("listed futures: " + path + " is damaged at line " +
                               std::to_string(remembered.size() + 1) + " (move it away to renumber)");
    }
    remembered.push_back({symbol, hedging::Timestamp{expiry_ms * 1'000'000}});
  }
  return remembered;
}

std::vector<ListedFuture> merge_listed_futures(std::vector<ListedFuture> remembered,
                                               const std::vector<ListedFuture>& listed,
                                               std::vector<std::string>& report) {
  for (const ListedFuture& future : listed) {
    const bool known = std::any_of(remembered.begin(), remembered.end(),
                                   [&](const ListedFuture& other) { return other.symbol == future.symbol; });
    if (known) {
      continue;
    }
    if (remembered.size() == kMaxListedFutures) {
      report.push_back("no id left for " + future.symbol + ": the series' " + std::to_string(kMaxListedFutures) +
                       " ids are taken in this state directory");
      continue;
    }
    remembered.push_back(future);
  }
  return remembered;
}

std::vector<std::string> discover_venue_futures(EngineConfig& config, hedging::Timestamp now,
                                                std::chrono::milliseconds timeout) {
  std::vector<std::string> report;
  for (const VenueFutureSeries& series : config.venue_series) {
    const std::string currency(series.spec.symbol.view());
    const auto feed = std::find_if(config.run.feeds.begin(), config.run.feeds.end(), [&](const FeedSection& f) {
      return f.venue == series.venue && f.protocol == feeds::Venue::deribit;
    });
    if (feed == config.run.feeds.end()) {
      report.push_back(series.venue + ": no deribit [[feeds]] entry to ask for " + currency + " futures");
      continue;
    }
    ListedFutures listed;
    try {
      listed = parse_listed_futures(request_instruments(*feed, currency, timeout), series.spec, now);
    } catch (const std::exception& error) {
      listed.problem = error.what();
    }
    if (!listed.problem.empty()) {
      report.push_back(series.venue + ": " + currency + " futures not discovered: " + listed.problem);
    }
    for (const std::string& reason : listed.skipped) {
      report.push_back(series.venue + ": skipped " + reason);
    }
    const std::string path = config.run.engine.state_directory + "/listed_futures." + std::to_string(series.spec.id);
    const std::vector<ListedFuture> remembered = read_remembered_futures(path);
    std::vector<std::string> merge_report;
    const std::vector<ListedFuture> futures = merge_listed_futures(remembered, listed.futures, merge_report);
    for (const std::string& line : merge_report) {
      report.push_back(series.venue + ": " + line);
    }
    if (futures.size() != remembered.size()) {
      std::string text;
      for (const ListedFuture& future : futures) {
        text += future.symbol + ' ' + std::to_string(future.expiry.nanoseconds / 1'000'000) + '\n';
      }
      std::filesystem::create_directories(config.run.engine.state_directory);
      replace_file_durably("listed futures", path, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
    }
    const std::size_t added = add_listed_futures(config, series.spec, series.venue, futures, now);
    for (std::size_t i = 0; i < added; ++i) {
      report.push_back(series.venue + ": " + (i < remembered.size() ? "kept " : "listed ") + futures[i].symbol +
                       " as instrument " + std::to_string(series.spec.id + i) + ", expiry " +
                       std::to_string(futures[i].expiry.nanoseconds / 1'000'000) + " ms" +
                       (futures[i].expiry <= now ? " (expired: not traded)" : ""));
    }
  }
  hedging::validate(config.kernel);
  return report;
}

} // namespace synthusd::engine
