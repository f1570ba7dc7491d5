#include "report.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace synthusd::latency {
namespace {

constexpr double kQuantiles[] = {0.5, 0.9, 0.99, 0.999};
constexpr const char* kQuantileNames[] = {"p50", "p90", "p99", "p99_9"};

double microseconds(std::int64_t nanoseconds) { return static_cast<double>(nanoseconds) / 1000.0; }

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string path_json(const PathResult& path) {
  std::ostringstream out;
  out << "{\"spans\":" << json_string(path.spans) << ",\"count\":" << path.histogram.count()
      << ",\"expected\":" << path.expected << ",\"matched\":" << path.matched << ",\"missing\":" << path.missing
      << ",\"unexpected\":" << path.unexpected << ",\"late_sends\":" << path.late_sends
      << ",\"min_ns\":" << path.histogram.min();
  for (std::size_t i = 0; i < 4; ++i) {
    out << ",\"" << kQuantileNames[i] << "_ns\":" << path.histogram.quantile(kQuantiles[i]);
  }
  out << ",\"max_ns\":" << path.histogram.max() << "}";
  return out.str();
}

// A ratio of two quantiles, or 0 when either side has no samples.
double ratio(const PathResult& numerator, const PathResult& denominator, double q) {
  const std::int64_t below = denominator.histogram.quantile(q);
  if (numerator.histogram.count() == 0 || below <= 0) {
    return 0;
  }
  return static_cast<double>(numerator.histogram.quantile(q)) / static_cast<double>(below);
}

void print_row(const PathResult& path) {
  std::printf("%-24s %7llu %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f  %llu/%llu/%llu\n", path.name.c_str(),
              static_cast<unsigned long long>(path.histogram.count()), microseconds(path.histogram.min()),
              microseconds(path.histogram.quantile(0.5)), microseconds(path.histogram.quantile(0.9)),
              microseconds(path.histogram.quantile(0.99)), microseconds(path.histogram.quantile(0.999)),
              microseconds(path.histogram.max()), static_cast<unsigned long long>(path.missing),
              static_cast<unsigned long long>(path.unexpected), static_cast<unsigned long long>(path.late_sends));
}

void write_distribution(const PathResult& path, const std::filesystem::path& file) {
  std::ofstream out(file);
  out << "# " << path.name << ": latency_us cumulative_fraction\n";
  const double total = static_cast<double>(path.histogram.count());
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < Histogram::kBuckets; ++i) {
    const std::uint64_t count = path.histogram.bucket_count(i);
    if (count == 0) {
      continue;
    }
    seen += count;
    out << static_cast<double>(Histogram::upper_bound(i)) / 1000.0 << ' ' << static_cast<double>(seen) / total << '\n';
  }
}

} // namespace

std::string describe_machine() {
  utsname name{};
  ::uname(&name);
  double load[3] = {0, 0, 0};
  ::getloadavg(load, 3);
  char text[256];
  std::snprintf(text, sizeof text, "%ld CPUs, %s %s %s, load average %.2f %.2f %.2f", ::sysconf(_SC_NPROCESSORS_ONLN),
                name.sysname, name.release, name.machine, load[0], load[1], load[2]);
  return text;
}

std::string results_json(const HarnessResult& result, const std::string& machine) {
  const EngineRunResult& separate = result.thread_per_stage;
  const EngineRunResult& one = result.one_thread;
  std::ostringstream out;
  out << "{\"machine\":" << json_string(machine);
  for (const EngineRunResult* run : {&separate, &one}) {
    if (!run->measured) {
      continue;
    }
    const std::string layout = run == &one ? "one_thread" : "thread_per_stage";
    out << ",\"" << layout << "\":{\"ticks_sent\":" << run->ticks_sent << ",\"payments_sent\":" << run->payments_sent
        << ",\"failure\":" << json_string(run->failure) << "}";
  }
  out << ",\"paths\":{\"floor\":" << path_json(result.floor);
  for (const EngineRunResult* run : {&separate, &one}) {
    if (run->measured) {
      out << ",\"" << run->tick_to_order.name << "\":" << path_json(run->tick_to_order) << ",\""
          << run->payment_to_order.name << "\":" << path_json(run->payment_to_order);
    }
  }
  out << ",\"quickfix_default\":" << path_json(result.quickfix_default) << "},\"ratios\":{";
  const char* separator = "";
  for (const EngineRunResult* run : {&separate, &one}) {
    if (!run->measured) {
      continue;
    }
    const std::string prefix = run == &one ? "one_thread_" : "";
    out << separator << "\"" << prefix
        << "tick_to_order_over_floor_p50\":" << ratio(run->tick_to_order, result.floor, 0.5) << ",\"" << prefix
        << "tick_to_order_over_floor_p99\":" << ratio(run->tick_to_order, result.floor, 0.99) << ",\"" << prefix
        << "payment_to_order_over_floor_p50\":" << ratio(run->payment_to_order, result.floor, 0.5) << ",\"" << prefix
        << "payment_to_order_over_floor_p99\":" << ratio(run->payment_to_order, result.floor, 0.99) << ",\""
        << "quickfix_default_over_" << prefix
        << "engine_tick_p50\":" << ratio(result.quickfix_default, run->tick_to_order, 0.5)
        << ",\"quickfix_default_over_" << prefix
        << "engine_tick_p99\":" << ratio(result.quickfix_default, run->tick_to_order, 0.99);
    separator = ",";
  }
  if (separate.measured && one.measured) {
    out << ",\"thread_per_stage_over_one_thread_tick_p50\":" << ratio(separate.tick_to_order, one.tick_to_order, 0.5)
        << ",\"thread_per_stage_over_one_thread_tick_p99\":" << ratio(separate.tick_to_order, one.tick_to_order, 0.99)
        << ",\"thread_per_stage_over_one_thread_payment_p50\":"
        << ratio(separate.payment_to_order, one.payment_to_order, 0.5)
        << ",\"thread_per_stage_over_one_thread_payment_p99\":"
        << ratio(separate.payment_to_order, one.payment_to_order, 0.99);
  }
  out << "}}\n";
  return out.str();
}

void print_table(const HarnessResult& result) {
  std::printf("%-32s %7s %9s %9s %9s %9s %9s %9s  %s\n", "path (us)", "count", "min", "p50", "p90", "p99", "p99.9",
              "max", "missing/unexpected/late");
  print_row(result.floor);
  for (const EngineRunResult* run : {&result.thread_per_stage, &result.one_thread}) {
    if (run->measured) {
      print_row(run->tick_to_order);
      print_row(run->payment_to_order);
    }
  }
  print_row(result.quickfix_default);
  for (const EngineRunResult* run : {&result.thread_per_stage, &result.one_thread}) {
    if (!run->measured) {
      continue;
    }
    const char* layout = run == &result.one_thread ? "one thread" : "thread per stage";
    std::printf("ratios (%s): tick->order / floor  p50 %.2fx  p99 %.2fx\n", layout,
                ratio(run->tick_to_order, result.floor, 0.5), ratio(run->tick_to_order, result.floor, 0.99));
    std::printf("        payment->order / floor  p50 %.2fx  p99 %.2fx\n",
                ratio(run->payment_to_order, result.floor, 0.5), ratio(run->payment_to_order, result.floor, 0.99));
    std::printf("        quickfix default / engine tick->order  p50 %.2fx  p99 %.2fx\n",
                ratio(result.quickfix_default, run->tick_to_order, 0.5),
                ratio(result.quickfix_default, run->tick_to_order, 0.99));
    if (!run->failure.empty()) {
      std::printf("engine (%s): %s\n", layout, run->failure.c_str());
    }
  }
  if (result.thread_per_stage.measured && result.one_thread.measured) {
    std::printf("thread per stage / one thread: tick->order p50 %.2fx p99 %.2fx, payment->order p50 %.2fx p99 %.2fx\n",
                ratio(result.thread_per_stage.tick_to_order, result.one_thread.tick_to_order, 0.5),
                ratio(result.thread_per_stage.tick_to_order, result.one_thread.tick_to_order, 0.99),
                ratio(result.thread_per_stage.payment_to_order, result.one_thread.payment_to_order, 0.5),
                ratio(result.thread_per_stage.payment_to_order, result.one_thread.payment_to_order, 0.99));
  }
}

std::string write_outputs(const HarnessResult& result, const std::filesystem::path& directory, bool plots) {
  std::filesystem::create_directories(directory);
  {
    std::ofstream json(directory / "latency.json");
    json << results_json(result, describe_machine());
  }
  const PathResult* paths[] = {&result.floor,
                               &result.thread_per_stage.tick_to_order,
                               &result.thread_per_stage.payment_to_order,
                               &result.one_thread.tick_to_order,
                               &result.one_thread.payment_to_order,
                               &result.quickfix_default};
  std::ofstream script(directory / "latency.gp");
  script << "# gnuplot " << (directory / "latency.gp").string() << "\n"
         << "set terminal svg size 900,560 dynamic\nset output '" << (directory / "latency.svg").string() << "'\n"
         << "set title 'wire-to-wire latency (synthusd-latency)'\nset logscale x\nset xlabel 'microseconds'\n"
         << "set ylabel 'cumulative fraction'\nset key bottom right\nset grid\nplot ";
  bool first = true;
  for (const PathResult* path : paths) {
    if (path->histogram.count() == 0) {
      continue;
    }
    const std::filesystem::path data = directory / ("latency-" + path->name + ".dat");
    write_distribution(*path, data);
    script << (first ? "" : ", ") << "'" << data.string() << "' using 1:2 with steps title '" << path->name << "'";
    first = false;
  }
  script << "\n";
  script.close();
  std::string written = "wrote " + (directory / "latency.json").string();
  if (!plots || first) {
    return written + " (no plot)";
  }
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    return written + "; gnuplot is not installed, so no plot (scripts/setup installs gnuplot-nox)";
  }
  const std::string command = "gnuplot '" + (directory / "latency.gp").string() + "'";
  if (std::system(command.c_str()) != 0) {
    return written + "; gnuplot failed on " + (directory / "latency.gp").string();
  }
  return written + " and " + (directory / "latency.svg").string();
}

} // namespace synthusd::latency
