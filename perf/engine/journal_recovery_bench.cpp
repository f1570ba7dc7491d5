// Start-up from a segmented journal: open the snapshot, read the segment
// after it (replaying its records), take the liability ids of every older
// segment from its id index, open the active segment for appending, and
// rebuild a source's deduplication (LiabilityAdmission::remember for every
// id): all of recover_state plus the admission, as `synthusd run` starts.
//
// Two histories, 10,000 and 1,000,000 inputs, each cut into a segment every
// 10,000 inputs with the last snapshot 5,000 inputs before the end: both
// starts replay the same 5,000-record tail. One input in 16 is a liability
// change (a new id), the rest market updates and timers, so the long
// history also has 100x the ids to load: what remains of history in the
// start-up cost is that, one small index entry per liability event.
//
// BM_StartupRatio alternates the two starts in each iteration, each in a
// new process as a real start is, so both see the same machine load, and
// reports both times and large / small (the claim: far from the 100x of the
// history lengths; what remains is the ids). BM_StartupFromSegments repeats
// a start in one process (warm allocator), BM_WholeHistoryReplay is what a
// start costs without segments (every record of the 1,000,000 read and
// replayed), for scale. The files are in the page cache after they are
// built: this measures the work, not the disk.

#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "synthusd/engine/journal_segments.hpp"
#include "synthusd/engine/recovery.hpp"
#include "synthusd/engine/snapshot_file.hpp"
#include "synthusd/hedging/backing_ledger.hpp"
#include "synthusd/hedging/config.hpp"
#include "synthusd/liabilities/liability_sink.hpp"

namespace {

using namespace synthusd;
namespace fs = std::filesystem;

constexpr std::uint64_t kSegmentInputs = 10'000;
constexpr std::uint64_t kTailInputs = 5'000;
constexpr std::uint64_t kLiabilityEvery = 16;

// Input n of the history: deterministic, prices wandering around $50,000.
hedging::Event input(std::uint64_t n) {
  const hedging::Timestamp time{1'700'000'000LL * 1'000'000'000 + static_cast<std::int64_t>(n) * 100'000'000};
  if (n % kLiabilityEvery == 0) {
    const std::int64_t cents = (n / kLiabilityEvery) % 2 == 0 ? 2'500 : -1'500;
    return hedging::LiabilityChange{n, hedging::UsdCents{cents}, hedging::Sats{}, hedging::Price{}, time};
  }
  if (n % 4 == 1) {
    return hedging::Timer{time};
  }
  const auto venue = static_cast<hedging::VenueId>(1 + n % 3);
  const std::int64_t dollars = 50'000 + static_cast<std::int64_t>((n * 7'919) % 400) - 200;
  hedging::MarketUpdate update;
  update.venue = venue;
  update.instrument = venue;
  update.mark = update.index = hedging::Price::from_dollars(dollars);
  update.bid = hedging::Price::from_dollars(dollars - 1);
  update.ask = hedging::Price::from_dollars(dollars + 1);
  update.funding_rate = hedging::Ratio::from_ppm(100);
  update.time = time;
  return update;
}

// A state directory holding `inputs` journaled inputs, cut as the journal
// thread cuts it, with the last snapshot kTailInputs before the end.
class History {
public:
  explicit History(std::uint64_t inputs)
      : directory_(fs::temp_directory_path() /
                   ("synthusd_journal_recovery_bench_" + std::to_string(::getpid()) + "_" + std::to_string(inputs))) {
    spdlog::set_level(spdlog::level::warn); // recover_state logs every start
    fs::remove_all(directory_);
    fs::create_directories(directory_);
    paths_ = {(directory_ / "journal").string(), (directory_ / "kernel.snapshot").string(), {}};
    hedging::Kernel kernel(hedging::reference_config());
    hedging::BackingLedger ledger(kernel.slots().size());
    hedging::ActionStreamHash hash;
    std::unique_ptr<engine::JournalWriter> writer = engine::open_active_segment(paths_.journal_base);
    const std::uint64_t snapshot_at = inputs - kTailInputs;
    for (std::uint64_t n = 1; n <= inputs; ++n) {
      // Liability records carry a Core Lightning credit's id ("cln:" and 64
      // hex digits), as the engine journals them: the ids are most of what
      // a start reads from the indexes.
      char payment_id[72];
      std::snprintf(payment_id, sizeof payment_id, "cln:%064llx", static_cast<unsigned long long>(n));
      writer->append(input(n), payment_id);
      hash.add(hedging::apply_input(kernel, ledger, input(n)));
      if (n == snapshot_at) {
        writer->commit();
        engine::write_snapshot_file(paths_.snapshot, n, kernel, hash.value(), hash.events(), &ledger);
      }
      if (n == snapshot_at || (n % kSegmentInputs == 0 && n < snapshot_at)) {
        engine::rotate_segment(*writer, paths_.journal_base);
      }
    }
    writer->commit();
  }
  ~History() { fs::remove_all(directory_); }
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  [[nodiscard]] const engine::RecoveryPaths& paths() const { return paths_; }

private:
  fs::path directory_;
  engine::RecoveryPaths paths_;
};

const History& history(std::uint64_t inputs) {
  static std::map<std::uint64_t, std::unique_ptr<History>> built;
  std::unique_ptr<History>& entry = built[inputs];
  if (!entry) {
    entry = std::make_unique<History>(inputs);
  }
  return *entry;
}

class NullSink final : public liabilities::LiabilitySink {
public:
  std::uint64_t submit(const hedging::LiabilityChange&, std::string_view) noexcept override { return 0; }
  std::uint64_t make_durable() override { return 0; }
  [[nodiscard]] hedging::Price index_price() const noexcept override { return {}; }
};

struct Started {
  std::uint64_t replayed = 0;
  std::uint64_t ids = 0;
};

// One start, as EngineRuntime does it (recovery, then one source's dedupe).
Started start_up(const History& from) {
  engine::RecoveredState state = engine::recover_state(hedging::reference_config(), from.paths());
  NullSink sink;
  liabilities::LiabilityAdmission admission(sink, hedging::Ratio{});
  engine::remember_journaled(admission, state.liabilities);
  benchmark::DoNotOptimize(admission);
  return {state.report.replayed_records, state.liabilities.size()};
}

double milliseconds_of(const std::function<void()>& body) {
  const auto started = std::chrono::steady_clock::now();
  body();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
}

// One start in a forked child, timed there and reported through a pipe: a
// real start runs in a fresh process, whose memory is all new pages, and
// in-process repetitions depend on what the allocator kept from the
// previous one (a start after a larger one ran 4x faster than after its
// own kind on this VM).
double start_in_new_process(const History& from) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) {
    return -1;
  }
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(pipe_fds[0]);
    const double ms = milliseconds_of([&] { benchmark::DoNotOptimize(start_up(from)); });
    const ssize_t written = ::write(pipe_fds[1], &ms, sizeof ms);
    ::_exit(written == sizeof ms ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  double ms = -1;
  if (child < 0 || ::read(pipe_fds[0], &ms, sizeof ms) != sizeof ms) {
    ms = -1;
  }
  ::close(pipe_fds[0]);
  int status = 0;
  if (child > 0) {
    ::waitpid(child, &status, 0);
  }
  return status == 0 ? ms : -1;
}

void BM_StartupFromSegments(benchmark::State& state) {
  const History& from = history(static_cast<std::uint64_t>(state.range(0)));
  Started started;
  for (auto _ : state) {
    started = start_up(from);
  }
  state.counters["replayed"] = static_cast<double>(started.replayed);
  state.counters["liability_ids"] = static_cast<double>(started.ids);
}
BENCHMARK(BM_StartupFromSegments)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void BM_StartupRatio(benchmark::State& state) {
  const History& small = history(10'000);
  const History& large = history(1'000'000);
  double small_ms = 0;
  double large_ms = 0;
  for (auto _ : state) {
    const double small_once = start_in_new_process(small);
    const double large_once = start_in_new_process(large);
    if (small_once < 0 || large_once < 0) {
      state.SkipWithError("a start in a child process failed");
      return;
    }
    small_ms += small_once;
    large_ms += large_once;
  }
  const double iterations = static_cast<double>(state.iterations());
  state.counters["history_10k_ms"] = small_ms / iterations;
  state.counters["history_1M_ms"] = large_ms / iterations;
  state.counters["ratio_1M_to_10k"] = large_ms / small_ms;
}
BENCHMARK(BM_StartupRatio)->Iterations(30)->Unit(benchmark::kMillisecond);

void BM_WholeHistoryReplay(benchmark::State& state) {
  const History& from = history(1'000'000);
  for (auto _ : state) {
    hedging::Kernel kernel(hedging::reference_config());
    hedging::BackingLedger ledger(kernel.slots().size());
    const engine::JournalScan scan = engine::scan_journal(
        from.paths().journal_base, {}, 1,
        [&](const engine::JournalRecord& record) { (void)hedging::apply_input(kernel, ledger, record.event); }, false);
    benchmark::DoNotOptimize(scan.last_sequence);
  }
}
BENCHMARK(BM_WholeHistoryReplay)->Iterations(3)->Unit(benchmark::kMillisecond);

} // namespace
