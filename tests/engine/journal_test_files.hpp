#pragma once
// Files for the journal tests: a temporary directory, raw bytes in and out,
// and small journals written record by record.

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "synthusd/engine/journal.hpp"

namespace synthusd::engine {

class TempDir {
public:
  explicit TempDir(const std::string& name = "journal_segments")
      : path_(std::filesystem::temp_directory_path() /
              (name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }
  [[nodiscard]] std::string path() const { return path_.string(); }
  // File names, sorted.
  [[nodiscard]] std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path_)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

inline std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline void append_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Record n of the test journals: every third one a liability change with id
// 1000 + n (and n dollars), the others timers, so a record's sequence says
// what it must hold.
inline hedging::Event test_event(std::uint64_t n) {
  const hedging::Timestamp time{static_cast<std::int64_t>(n) * 1'000'000};
  if (n % 3 == 0) {
    return hedging::LiabilityChange{1000 + n, hedging::UsdCents{static_cast<std::int64_t>(n) * 100}, hedging::Sats{},
                                    hedging::Price{}, time};
  }
  return hedging::Timer{time};
}

inline std::vector<std::uint64_t> liability_ids_through(std::uint64_t last) {
  std::vector<std::uint64_t> ids;
  for (std::uint64_t n = 3; n <= last; n += 3) {
    ids.push_back(1000 + n);
  }
  return ids;
}

} // namespace synthusd::engine
