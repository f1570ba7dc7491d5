#pragma once
// The gateway's FIX message log, kept off the sending thread.
//
// QuickFIX calls its Log on the thread that sends or receives, inside the
// send path. The gateway's Log (in gateway_session.cpp) only copies the text
// into AsyncMessageLog's queue: a short mutex-protected push_back, no I/O and
// no formatting. A background thread drains the queue, masks secrets and
// hands each record to a MessageLogSink (a file by default), so a slow disk
// never delays an order. QuickFIX's own FileLog is never used.
//
// Masking: every record passes mask_secret_fields() before any sink sees it,
// so Password(554), NewPassword(925) and RawData(96) never reach a file.
//
// C++14, no QuickFIX types. AsyncMessageLog::push is safe from any thread.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {

// Tags whose values are secrets: 554 Password, 925 NewPassword, 96 RawData
// (Deribit's RawData is not secret by itself but is half of the Password
// input; it is masked so that no log ever holds a matched pair).
bool is_secret_tag(int tag);

// Replaces the value of every secret tag with "***" in a FIX message whose
// fields are separated by SOH or '|'. A RawData value is masked over the
// length its RawDataLength(95) announces, when one precedes it, so binary
// data containing a separator is masked whole. Other fields are untouched.
void mask_secret_fields(std::string& message);

enum class LogDirection : std::uint8_t {
  incoming, // a message received from the venue
  outgoing, // a message sent to the venue
  event,    // a QuickFIX session event ("Initiated logon request", ...)
  note,     // a line the gateway or a recorder adds (intents, upward events)
};

const char* to_string(LogDirection direction); // "in", "out", "event", "note"

struct LogRecord {
  LogDirection direction = LogDirection::event;
  std::int64_t time_nanoseconds = 0; // wall clock at push
  std::string text;                  // masked by the time a sink sees it
};

// Called on AsyncMessageLog's thread only, one record at a time.
class MessageLogSink {
public:
  virtual ~MessageLogSink() = default;
  virtual void write(const LogRecord& record) = 0;
  virtual void flush() {}
};

// Appends "<UTC time> <direction> <text with SOH shown as |>" lines.
class FileMessageLogSink : public MessageLogSink {
public:
  // Opens path for appending (mode 0600); throws std::runtime_error naming it.
  explicit FileMessageLogSink(const std::string& path);
  ~FileMessageLogSink() override;
  FileMessageLogSink(const FileMessageLogSink&) = delete;
  FileMessageLogSink& operator=(const FileMessageLogSink&) = delete;
  void write(const LogRecord& record) override;
  void flush() override;

private:
  std::FILE* file_ = nullptr;
};

class AsyncMessageLog {
public:
  static constexpr std::size_t kDefaultMaximumPending = 1 << 16;

  // Starts the draining thread. The sink must outlive this object.
  explicit AsyncMessageLog(MessageLogSink& sink, std::size_t maximum_pending = kDefaultMaximumPending);
  // Writes everything still queued, then stops the thread.
  ~AsyncMessageLog();
  AsyncMessageLog(const AsyncMessageLog&) = delete;
  AsyncMessageLog& operator=(const AsyncMessageLog&) = delete;

  // Copies text into the queue. Never waits for I/O. When maximum_pending
  // records are already queued the record is dropped and counted: a stuck
  // disk must not grow memory without bound or stall trading.
  void push(LogDirection direction, const std::string& text);

  // Blocks until every record pushed before the call has reached the sink
  // and the sink has been flushed.
  void flush();

  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

private:
  void run();

  MessageLogSink& sink_;
  const std::size_t maximum_pending_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::vector<LogRecord> pending_; // guarded by mutex_
  std::uint64_t pushed_ = 0;       // guarded by mutex_
  std::uint64_t written_ = 0;      // guarded by mutex_
  bool stopping_ = false;          // guarded by mutex_
  std::atomic<std::uint64_t> dropped_{0};
  std::thread thread_;
};

} // namespace fix
} // namespace synthusd
