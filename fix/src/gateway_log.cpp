// Compiled as C++14 (target synthusd_fix_quickfix); see gateway_log.hpp.

#include "synthusd/fix/gateway_log.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>
#include <utility>

namespace synthusd {
namespace fix {
namespace {

constexpr char kSoh = '\x01';
constexpr int kTagRawDataLength = 95;
constexpr int kTagRawData = 96;
constexpr int kTagPassword = 554;
constexpr int kTagNewPassword = 925;
constexpr char kMask[] = "***";

bool is_separator(char c) { return c == kSoh || c == '|'; }

std::int64_t wall_clock_nanoseconds() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "20240102-03:04:05.123456789"
std::string format_utc(std::int64_t nanoseconds) {
  // Whole seconds rounded down (floor, also before 1970) and the
  // nanoseconds past them. duration_cast truncates toward zero.
  const std::chrono::nanoseconds since_epoch(nanoseconds);
  std::chrono::seconds seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  if (seconds > since_epoch) {
    seconds -= std::chrono::seconds(1);
  }
  const std::int64_t fraction = (since_epoch - seconds).count();
  const auto time = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&time, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d%02d%02d-%02d:%02d:%02d.%09u", (utc.tm_year + 1900) % 10000,
                (utc.tm_mon + 1) % 100, utc.tm_mday % 100, utc.tm_hour % 100, utc.tm_min % 100, utc.tm_sec % 100,
                static_cast<unsigned>(fraction));
  return text;
}

} // namespace

bool is_secret_tag(int tag) { return tag == kTagPassword || tag == kTagNewPassword || tag == kTagRawData; }

void mask_secret_fields(std::string& message) {
  std::string out;
  out.reserve(message.size());
  std::size_t position = 0;
  long long raw_data_length = -1;
  while (position < message.size()) {
    // Parse the tag: digits up to '='.
    std::size_t cursor = position;
    int tag = 0;
    bool numeric = true;
    while (cursor < message.size() && message[cursor] != '=' && !is_separator(message[cursor])) {
      const char c = message[cursor];
      if (c < '0' || c > '9' || tag > 100000000) {
        numeric = false;
      } else {
        tag = tag * 10 + (c - '0');
      }
      ++cursor;
    }
    if (cursor >= message.size() || message[cursor] != '=') {
      // Not a tag=value field: copy through the separator unchanged.
      const std::size_t end = cursor < message.size() ? cursor + 1 : cursor;
      out.append(message, position, end - position);
      position = end;
      continue;
    }
    const std::size_t value_begin = cursor + 1;
    std::size_t value_end = value_begin;
    if (numeric && tag == kTagRawData && raw_data_length >= 0 &&
        value_begin + static_cast<std::size_t>(raw_data_length) <= message.size()) {
      value_end = value_begin + static_cast<std::size_t>(raw_data_length);
    } else {
      while (value_end < message.size() && !is_separator(message[value_end])) {
        ++value_end;
      }
    }
    out.append(message, position, value_begin - position);
    if (numeric && is_secret_tag(tag)) {
      out += kMask;
    } else {
      out.append(message, value_begin, value_end - value_begin);
    }
    if (numeric && tag == kTagRawDataLength) {
      const std::string value = message.substr(value_begin, value_end - value_begin);
      char* end = nullptr;
      const long long length = std::strtoll(value.c_str(), &end, 10);
      raw_data_length = (end != nullptr && *end == '\0' && !value.empty() && length >= 0) ? length : -1;
    }
    position = value_end;
    if (position < message.size()) {
      out += message[position]; // the separator
      ++position;
    }
  }
  message.swap(out);
}

const char* to_string(LogDirection direction) {
  switch (direction) {
  case LogDirection::incoming:
    return "in";
  case LogDirection::outgoing:
    return "out";
  case LogDirection::event:
    return "event";
  case LogDirection::note:
    return "note";
  }
  return "event";
}

FileMessageLogSink::FileMessageLogSink(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int error = errno;
    throw std::runtime_error("FIX message log " + path + ": cannot open: " + std::strerror(error));
  }
  file_ = ::fdopen(fd, "a");
  if (file_ == nullptr) {
    const int error = errno;
    ::close(fd);
    throw std::runtime_error("FIX message log " + path + ": fdopen failed: " + std::strerror(error));
  }
}

FileMessageLogSink::~FileMessageLogSink() {
  if (file_ != nullptr) {
    std::fclose(file_);
  }
}

void FileMessageLogSink::write(const LogRecord& record) {
  std::string line = format_utc(record.time_nanoseconds);
  line += ' ';
  line += to_string(record.direction);
  line += ' ';
  for (char c : record.text) {
    line += c == kSoh ? '|' : c;
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), file_);
}

void FileMessageLogSink::flush() { std::fflush(file_); }

AsyncMessageLog::AsyncMessageLog(MessageLogSink& sink, std::size_t maximum_pending)
    : sink_(sink), maximum_pending_(maximum_pending == 0 ? 1 : maximum_pending) {
  thread_ = std::thread([this] { run(); });
}

AsyncMessageLog::~AsyncMessageLog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void AsyncMessageLog::push(LogDirection direction, const std::string& text) {
  LogRecord record;
  record.direction = direction;
  record.time_nanoseconds = wall_clock_nanoseconds();
  record.text = text; // the copy happens outside the lock
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pending_.size() >= maximum_pending_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    was_empty = pending_.empty();
    pending_.push_back(std::move(record));
    ++pushed_;
  }
  if (was_empty) {
    wake_.notify_one();
  }
}

void AsyncMessageLog::flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  const std::uint64_t target = pushed_;
  wake_.notify_one();
  drained_.wait(lock, [&] { return written_ >= target; });
}

void AsyncMessageLog::run() {
  std::vector<LogRecord> batch;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
    if (pending_.empty() && stopping_) {
      return;
    }
    batch.swap(pending_);
    lock.unlock();
    for (LogRecord& record : batch) {
      mask_secret_fields(record.text);
      sink_.write(record);
    }
    sink_.flush();
    const std::size_t count = batch.size();
    batch.clear();
    lock.lock();
    written_ += count;
    drained_.notify_all();
  }
}

} // namespace fix
} // namespace synthusd
