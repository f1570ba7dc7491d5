// The message log masks Password(554) and RawData(96) and writes off the
// sending thread.
#include "synthusd/fix/gateway_log.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace synthusd::fix {
namespace {

std::string masked(std::string text) {
  mask_secret_fields(text);
  return text;
}

TEST(MaskSecretFieldsTest, MasksPasswordAndRawDataWithPipes) {
  EXPECT_EQ(masked("8=FIX.4.4|35=A|553=client|554=c2VjcmV0|95=6|96=123.ab|9001=Y|10=000|"),
            "8=FIX.4.4|35=A|553=client|554=***|95=6|96=***|9001=Y|10=000|");
}

TEST(MaskSecretFieldsTest, MasksWithSohSeparatorsAndNewPassword) {
  EXPECT_EQ(masked("35=A\x01"
                   "554=pw\x01"
                   "925=newpw\x01"
                   "58=hello\x01"),
            "35=A\x01"
            "554=***\x01"
            "925=***\x01"
            "58=hello\x01");
}

TEST(MaskSecretFieldsTest, MasksRawDataOverItsAnnouncedLength) {
  // Binary RawData may contain a separator; 95 says how long it is.
  const std::string message = std::string("35=A\x01"
                                          "95=5\x01"
                                          "96=ab\x01"
                                          "cd\x01"
                                          "58=x\x01");
  EXPECT_EQ(masked(message), "35=A\x01"
                             "95=5\x01"
                             "96=***\x01"
                             "58=x\x01");
}

TEST(MaskSecretFieldsTest, LeavesOtherFieldsAndLookalikesAlone) {
  const std::string order = "35=D|11=SU1|1554=keep|5540=keep|96x=odd|44=100|";
  EXPECT_EQ(masked(order), order);
  EXPECT_EQ(masked(""), "");
  EXPECT_EQ(masked("garbage without fields"), "garbage without fields");
  EXPECT_EQ(masked("554="), "554=***");
  EXPECT_EQ(masked("554=secret"), "554=***");
}

class CollectingSink : public MessageLogSink {
public:
  void write(const LogRecord& record) override {
    std::lock_guard<std::mutex> lock(mutex_);
    records_.push_back(record);
    writer_ = std::this_thread::get_id();
  }
  std::vector<LogRecord> records() {
    std::lock_guard<std::mutex> lock(mutex_);
    return records_;
  }
  std::thread::id writer() {
    std::lock_guard<std::mutex> lock(mutex_);
    return writer_;
  }

private:
  std::mutex mutex_;
  std::vector<LogRecord> records_;
  std::thread::id writer_;
};

TEST(AsyncMessageLogTest, WritesMaskedRecordsInOrderOnItsOwnThread) {
  CollectingSink sink;
  {
    AsyncMessageLog log(sink);
    log.push(LogDirection::outgoing, "35=A|554=topsecret|96=1.abc|");
    log.push(LogDirection::incoming, "35=A|");
    log.push(LogDirection::note, "intent order");
    log.flush();
    const auto records = sink.records();
    ASSERT_EQ(records.size(), 3U);
    EXPECT_EQ(records[0].text, "35=A|554=***|96=***|");
    EXPECT_EQ(records[0].direction, LogDirection::outgoing);
    EXPECT_EQ(records[1].direction, LogDirection::incoming);
    EXPECT_EQ(records[2].text, "intent order");
    EXPECT_NE(sink.writer(), std::this_thread::get_id());
  }
}

TEST(AsyncMessageLogTest, KeepsEveryProducersOrderUnderConcurrency) {
  CollectingSink sink;
  constexpr int kPerThread = 2000;
  {
    AsyncMessageLog log(sink, 1 << 20);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < kPerThread; ++i) {
          log.push(LogDirection::outgoing, std::to_string(t) + ":" + std::to_string(i));
        }
      });
    }
    for (auto& thread : threads) {
      thread.join();
    }
    log.flush();
  }
  const auto records = sink.records();
  ASSERT_EQ(records.size(), 4U * kPerThread);
  int next[4] = {0, 0, 0, 0};
  for (const LogRecord& record : records) {
    const int t = record.text[0] - '0';
    EXPECT_EQ(record.text, std::to_string(t) + ":" + std::to_string(next[t]));
    ++next[t];
  }
}

TEST(AsyncMessageLogTest, DropsAndCountsBeyondItsBound) {
  class BlockingSink : public MessageLogSink {
  public:
    void write(const LogRecord&) override {
      while (!release.load()) {
        std::this_thread::yield();
      }
    }
    std::atomic<bool> release{false};
  } sink;
  AsyncMessageLog log(sink, 4);
  for (int i = 0; i < 100; ++i) {
    log.push(LogDirection::event, "x");
  }
  EXPECT_GE(log.dropped(), 100U - 4U - 1U); // one record may already be in the writer's hands
  sink.release = true;
  log.flush();
}

TEST(FileMessageLogSinkTest, WritesOwnerOnlyLinesWithPipesAndNoSecrets) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("synthusd_fix_log_" + std::to_string(::getpid()) + ".log")).string();
  std::filesystem::remove(path);
  {
    FileMessageLogSink sink(path);
    AsyncMessageLog log(sink);
    log.push(LogDirection::outgoing, "8=FIX.4.4\x01"
                                     "35=A\x01"
                                     "554=hunter2\x01"
                                     "96=1700000000000.bm9uY2U=\x01");
    log.flush();
  }
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  const std::string text = content.str();
  EXPECT_NE(text.find(" out 8=FIX.4.4|35=A|554=***|96=***|"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos);
  EXPECT_EQ(text.find("bm9uY2U"), std::string::npos);
  struct stat status {};
  ASSERT_EQ(::stat(path.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 077, 0U);
  std::filesystem::remove(path);
}

} // namespace
} // namespace synthusd::fix
