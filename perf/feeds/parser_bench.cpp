// Venue ticker parsing: synthusd's simdjson On-Demand parsers against the
// same extraction written with nlohmann::json and RapidJSON
// (competitors/*.hpp). Every library must produce the identical VenueTick,
// to the last fixed-point unit, before anything is timed; a mismatch skips
// the benchmark with an error.
//
// Reported per message: ns (time/iteration), MB/s (bytes_per_second) and
// messages/s (items_per_second). Run:
//   build/synthusd-bench-feeds --benchmark_filter=Parse
//
// simdjson note: Debian's 3.0.1 binds On-Demand's navigation code at compile
// time, so a generic x86-64 build uses its "fallback" kernel for it; stage 1
// (structural indexing and UTF-8 validation) still runs through the library's
// runtime-dispatched implementation (haswell/icelake on this machine).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "competitors/fixed_point.hpp"
#include "competitors/nlohmann_extract.hpp"
#include "competitors/rapidjson_extract.hpp"
#include "synthusd/feeds/binance_parser.hpp"
#include "synthusd/feeds/deribit_parser.hpp"
#include "synthusd/feeds/okx_parser.hpp"

namespace {

using namespace synthusd;
using feeds::ParseStatus;
using feeds::VenueTick;

// ../shared/data/ws_deribit_v2_btc-perpetual_ticker_single_2025-12-12.jsonl (real capture).
constexpr std::string_view kDeribitTicker =
    R"json({"jsonrpc":"2.0","method":"subscription","params":{"channel":"ticker.BTC-PERPETUAL.100ms","data":{"timestamp":1765541474086,"state":"open","stats":{"high":93612.0,"low":89277.5,"price_change":2.3275,"volume":11897.27640428,"volume_usd":1092371540.0,"volume_notional":1092371540.0},"index_price":92263.55,"instrument_name":"BTC-PERPETUAL","last_price":92283.5,"settlement_price":92464.66,"min_price":90897.5,"max_price":93666.5,"open_interest":1132329370.0,"mark_price":92281.78,"interest_value":0.0028213400122472977,"best_ask_price":92284.0,"best_bid_price":92283.5,"estimated_delivery_price":92263.55,"best_ask_amount":186520.0,"best_bid_amount":117660.0,"current_funding":0.0,"funding_8h":1.742e-05}}})json";
// tests/data/feeds/okx.jsonl line 8.
constexpr std::string_view kOkxTickers =
    R"json({"arg":{"channel":"tickers","instId":"BTC-USD-SWAP"},"data":[{"instType":"SWAP","instId":"BTC-USD-SWAP","last":"100037.4","lastSz":"12","askPx":"100037.5","askSz":"341","bidPx":"100037.4","bidSz":"1967","open24h":"98612.1","high24h":"101877.9","low24h":"98008.2","sodUtc0":"99450.3","sodUtc8":"100212.6","volCcy24h":"5321.8426","vol24h":"5319840","ts":"1734000000112"}]})json";
// tests/data/feeds/binance.jsonl line 2.
constexpr std::string_view kBinanceBookTicker =
    R"json({"stream":"btcusd_perp@bookTicker","data":{"e":"bookTicker","u":1046237561042,"s":"BTCUSD_PERP","ps":"BTCUSD","b":"100038.2","B":"1520","a":"100038.3","A":"417","T":1734000000098,"E":1734000000102}})json";
// ../shared/data/ws_deribit_v2_public_capture_2021-04-17.jsonl: an option
// ticker for an instrument nobody configured (what most of a busy feed is).
constexpr std::string_view kDeribitOtherTicker =
    R"json({"jsonrpc":"2.0","method":"subscription","params":{"channel":"ticker.BTC-30APR21-54000-C.raw","data":{"underlying_price":61350.69,"underlying_index":"BTC-30APR21","timestamp":1618677848158,"stats":{"volume":null,"price_change":null,"low":null,"high":null},"state":"open","settlement_price":0.15,"open_interest":0.0,"min_price":0.097,"max_price":0.171,"mark_price":0.13099568,"mark_iv":71.48,"last_price":null,"interest_rate":0.0,"instrument_name":"BTC-30APR21-54000-C","index_price":60615.97,"greeks":{"vega":26.90111,"theta":-76.08752,"rho":15.21906,"gamma":0.00003,"delta":0.84757},"estimated_delivery_price":60615.97,"bid_iv":61.63,"best_bid_price":0.127,"best_bid_amount":1.1,"best_ask_price":0.135,"best_ask_amount":1.5,"ask_iv":80.12}}})json";

using NlohmannMember = ParseStatus (perf::nlohmann_extract::Extractor::*)(std::string_view, const feeds::SymbolTable&,
                                                                          VenueTick&);
using RapidJsonMember = ParseStatus (perf::rapidjson_extract::Extractor::*)(std::string_view, const feeds::SymbolTable&,
                                                                            VenueTick&);

template <typename Parser>
struct Venue {
  std::string_view message;
  std::string_view symbol;
  NlohmannMember nlohmann;
  RapidJsonMember rapidjson;
};

const Venue<feeds::DeribitParser> kDeribit{kDeribitTicker, "BTC-PERPETUAL",
                                           &perf::nlohmann_extract::Extractor::deribit_ticker,
                                           &perf::rapidjson_extract::Extractor::deribit_ticker};
const Venue<feeds::OkxParser> kOkx{kOkxTickers, "BTC-USD-SWAP", &perf::nlohmann_extract::Extractor::okx_tickers,
                                   &perf::rapidjson_extract::Extractor::okx_tickers};
const Venue<feeds::BinanceParser> kBinance{kBinanceBookTicker, "BTCUSD_PERP",
                                           &perf::nlohmann_extract::Extractor::binance_book_ticker,
                                           &perf::rapidjson_extract::Extractor::binance_book_ticker};

// The message with kJsonPadding readable bytes after it, as the WebSocket decoder delivers it.
struct Padded {
  explicit Padded(std::string_view text) : bytes(text.begin(), text.end()), length(text.size()) {
    bytes.resize(text.size() + feeds::kJsonPadding, ' ');
  }
  std::vector<char> bytes;
  std::size_t length;
};

template <typename Parser>
std::array<feeds::SymbolMapping, 1> mapping(const Venue<Parser>& venue) {
  return {{{venue.symbol, 1}}};
}

// All three libraries agree on every field, and it is a tick.
template <typename Parser>
bool verified(benchmark::State& state, const Venue<Parser>& venue) {
  const auto symbols = mapping(venue);
  const feeds::SymbolTable table(symbols,
                                 feeds::SymbolTable::Case::upper); // as BinanceParser; the others are upper case
  Parser parser(symbols);
  const Padded padded(venue.message);
  VenueTick reference;
  VenueTick nlohmann;
  VenueTick rapidjson;
  perf::nlohmann_extract::Extractor nlohmann_extractor;
  perf::rapidjson_extract::Extractor rapidjson_extractor;
  const bool agree =
      parser.parse(padded.bytes.data(), padded.length, padded.bytes.size(), reference) == ParseStatus::tick &&
      (nlohmann_extractor.*venue.nlohmann)(venue.message, table, nlohmann) == ParseStatus::tick &&
      (rapidjson_extractor.*venue.rapidjson)(venue.message, table, rapidjson) == ParseStatus::tick &&
      perf::same(reference, nlohmann) && perf::same(reference, rapidjson);
  if (!agree) {
    state.SkipWithError("the three libraries do not produce the same tick");
  }
  return agree;
}

void report(benchmark::State& state, std::size_t length) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(length));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

template <typename Parser>
void BM_Parse_synthusd(benchmark::State& state, const Venue<Parser>& venue) {
  if (!verified(state, venue)) {
    return;
  }
  const auto symbols = mapping(venue);
  Parser parser(symbols);
  const Padded padded(venue.message);
  VenueTick tick;
  for (auto _ : state) {
    benchmark::DoNotOptimize(parser.parse(padded.bytes.data(), padded.length, padded.bytes.size(), tick));
    benchmark::DoNotOptimize(tick);
  }
  report(state, padded.length);
}

template <typename Parser>
void BM_Parse_nlohmann(benchmark::State& state, const Venue<Parser>& venue) {
  if (!verified(state, venue)) {
    return;
  }
  const auto symbols = mapping(venue);
  const feeds::SymbolTable table(symbols, feeds::SymbolTable::Case::upper);
  perf::nlohmann_extract::Extractor extractor;
  VenueTick tick;
  for (auto _ : state) {
    benchmark::DoNotOptimize((extractor.*venue.nlohmann)(venue.message, table, tick));
    benchmark::DoNotOptimize(tick);
  }
  report(state, venue.message.size());
}

template <typename Parser>
void BM_Parse_rapidjson(benchmark::State& state, const Venue<Parser>& venue) {
  if (!verified(state, venue)) {
    return;
  }
  const auto symbols = mapping(venue);
  const feeds::SymbolTable table(symbols, feeds::SymbolTable::Case::upper);
  perf::rapidjson_extract::Extractor extractor;
  VenueTick tick;
  for (auto _ : state) {
    benchmark::DoNotOptimize((extractor.*venue.rapidjson)(venue.message, table, tick));
    benchmark::DoNotOptimize(tick);
  }
  report(state, venue.message.size());
}

// The ratios the targets are stated in, measured so that a noisy VM cannot
// fake them: 301 rounds, each timing a batch of every library back to back
// (in alternating order), so the libraries of one round see the same machine
// state. Reported (as counters): our ns per message and the median over the
// rounds of each competitor's time over ours, from wall time per batch.
template <typename Parser>
void BM_Parse_ratio(benchmark::State& state, const Venue<Parser>& venue) {
  if (!verified(state, venue)) {
    return;
  }
  const auto symbols = mapping(venue);
  const feeds::SymbolTable table(symbols, feeds::SymbolTable::Case::upper);
  Parser parser(symbols);
  const Padded padded(venue.message);
  perf::nlohmann_extract::Extractor nlohmann;
  perf::rapidjson_extract::Extractor rapidjson;
  VenueTick tick;
  constexpr int kRounds = 301;
  constexpr int kBatch = 256;
  constexpr int kNlohmannBatch = kBatch / 8; // nlohmann is an order of magnitude slower
  using Clock = std::chrono::steady_clock;
  const auto per_message = [](Clock::duration elapsed, int count) {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) / count;
  };
  const auto time_ours = [&] {
    const Clock::time_point start = Clock::now();
    for (int i = 0; i < kBatch; ++i) {
      benchmark::DoNotOptimize(parser.parse(padded.bytes.data(), padded.length, padded.bytes.size(), tick));
      benchmark::DoNotOptimize(tick);
    }
    return per_message(Clock::now() - start, kBatch);
  };
  const auto time_competitor = [&](auto& extractor, auto member, int count) {
    const Clock::time_point start = Clock::now();
    for (int i = 0; i < count; ++i) {
      benchmark::DoNotOptimize((extractor.*member)(venue.message, table, tick));
      benchmark::DoNotOptimize(tick);
    }
    return per_message(Clock::now() - start, count);
  };
  std::vector<double> ours;
  std::vector<double> versus_rapidjson;
  std::vector<double> versus_nlohmann;
  for (auto _ : state) {
    ours.clear();
    versus_rapidjson.clear();
    versus_nlohmann.clear();
    for (int round = 0; round < kRounds; ++round) {
      double mine = 0;
      double rapid = 0;
      double nlohmann_ns = 0;
      if (round % 2 == 0) {
        mine = time_ours();
        rapid = time_competitor(rapidjson, venue.rapidjson, kBatch);
        nlohmann_ns = time_competitor(nlohmann, venue.nlohmann, kNlohmannBatch);
      } else {
        nlohmann_ns = time_competitor(nlohmann, venue.nlohmann, kNlohmannBatch);
        rapid = time_competitor(rapidjson, venue.rapidjson, kBatch);
        mine = time_ours();
      }
      ours.push_back(mine);
      versus_rapidjson.push_back(rapid / mine);
      versus_nlohmann.push_back(nlohmann_ns / mine);
    }
  }
  const auto median = [](std::vector<double>& values) {
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2), values.end());
    return values[values.size() / 2];
  };
  state.counters["ns_per_message"] = median(ours);
  state.counters["x_rapidjson"] = median(versus_rapidjson);
  state.counters["x_nlohmann"] = median(versus_nlohmann);
}

// A message for an unconfigured instrument: walked and dropped, nothing decoded.
void BM_Parse_synthusd_ignored(benchmark::State& state) {
  const std::array<feeds::SymbolMapping, 1> symbols{{{"BTC-PERPETUAL", 1}}};
  feeds::DeribitParser parser(symbols);
  const Padded padded(kDeribitOtherTicker);
  VenueTick tick;
  if (parser.parse(padded.bytes.data(), padded.length, padded.bytes.size(), tick) != ParseStatus::ignored) {
    state.SkipWithError("expected ignored");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(parser.parse(padded.bytes.data(), padded.length, padded.bytes.size(), tick));
  }
  report(state, padded.length);
}

} // namespace

BENCHMARK_CAPTURE(BM_Parse_synthusd, deribit_ticker, kDeribit);
BENCHMARK_CAPTURE(BM_Parse_nlohmann, deribit_ticker, kDeribit);
BENCHMARK_CAPTURE(BM_Parse_rapidjson, deribit_ticker, kDeribit);
BENCHMARK_CAPTURE(BM_Parse_synthusd, okx_tickers, kOkx);
BENCHMARK_CAPTURE(BM_Parse_nlohmann, okx_tickers, kOkx);
BENCHMARK_CAPTURE(BM_Parse_rapidjson, okx_tickers, kOkx);
BENCHMARK_CAPTURE(BM_Parse_synthusd, binance_book_ticker, kBinance);
BENCHMARK_CAPTURE(BM_Parse_nlohmann, binance_book_ticker, kBinance);
BENCHMARK_CAPTURE(BM_Parse_rapidjson, binance_book_ticker, kBinance);
BENCHMARK(BM_Parse_synthusd_ignored);
BENCHMARK_CAPTURE(BM_Parse_ratio, deribit_ticker, kDeribit)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Parse_ratio, okx_tickers, kOkx)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Parse_ratio, binance_book_ticker, kBinance)->Iterations(1)->Unit(benchmark::kMillisecond);
