// ClOrdIDs are never reused, whatever point a process dies at.
#include "synthusd/fix/client_order_id.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace synthusd::fix {
namespace {

class ClientOrderIdTest : public ::testing::Test {
protected:
  void SetUp() override {
    directory_ =
        std::filesystem::temp_directory_path() / ("synthusd_clordid_" + std::to_string(::getpid()) + "_" +
                                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(directory_);
    path_ = (directory_ / "client_order_id").string();
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string read_file() const {
    std::ifstream in(path_);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
  }

  std::filesystem::path directory_;
  std::string path_;
};

TEST_F(ClientOrderIdTest, StartsAtOneAndPersistsTheReservedBlock) {
  ClientOrderIdAllocator ids(path_, 10);
  EXPECT_EQ(ids.next(), 1U);
  EXPECT_EQ(ids.next(), 2U);
  EXPECT_EQ(ids.reserved_limit(), 11U);
  EXPECT_EQ(read_file(), "synthusd-client-order-id 1\nreserved_limit=11\n");
}

TEST_F(ClientOrderIdTest, ReservesTheNextBlockBeforeUsingIt) {
  ClientOrderIdAllocator ids(path_, 3);
  for (std::uint64_t expected = 1; expected <= 3; ++expected) {
    EXPECT_EQ(ids.next(), expected);
  }
  EXPECT_EQ(ids.reserved_limit(), 4U);
  EXPECT_EQ(ids.next(), 4U); // crosses into the second block
  EXPECT_EQ(ids.reserved_limit(), 7U);
  EXPECT_NE(read_file().find("reserved_limit=7"), std::string::npos);
}

// The owner reserves ahead while idle: next() itself never writes the file,
// and every id handed out is below the limit the file already holds.
TEST_F(ClientOrderIdTest, ReservingAheadKeepsTheFileWriteOffNext) {
  ClientOrderIdAllocator ids(path_, 4);
  int writes_ahead = 0;
  for (int i = 0; i < 40; ++i) {
    writes_ahead += ids.reserve_ahead() ? 1 : 0;
    const std::uint64_t id = ids.next();
    const std::string file = read_file();
    const std::uint64_t on_disk = std::stoull(file.substr(file.find('=') + 1));
    ASSERT_LT(id, on_disk) << "id " << id << " handed out beyond the durable limit";
  }
  EXPECT_EQ(ids.reservations_in_next(), 0U);
  EXPECT_EQ(writes_ahead, 10); // with 2 of 4 left: before ids 3, 7, ..., 39
  // Without reserve_ahead, next() reserves on its own and says so.
  for (int i = 0; i < 8; ++i) {
    (void)ids.next();
  }
  EXPECT_EQ(ids.reservations_in_next(), 1U);
}

// The limit the file holds now.
std::uint64_t limit_on_disk(const std::string& file) { return std::stoull(file.substr(file.find('=') + 1)); }

// With the writer thread, reserve_ahead() only asks; next() hands out an id
// only below a limit the writer has made durable, and never writes itself
// while the writer keeps up.
TEST_F(ClientOrderIdTest, ReservingInTheBackgroundKeepsEveryIdBelowTheDurableLimit) {
  ClientOrderIdAllocator ids(path_, 4);
  ids.reserve_in_background();
  int asked = 0;
  for (int i = 0; i < 40; ++i) {
    if (ids.reserve_ahead()) {
      ++asked;
      // The writer's work is waited for here, as an idle owner would; the
      // bound only ends a broken test.
      const std::uint64_t wanted = ids.reserved_limit() + 4;
      for (int wait = 0; wait < 5000 && limit_on_disk(read_file()) < wanted; ++wait) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    const std::uint64_t id = ids.next();
    ASSERT_LT(id, limit_on_disk(read_file())) << "id " << id << " handed out beyond the durable limit";
  }
  EXPECT_EQ(asked, 10);
  EXPECT_EQ(ids.reservations_in_next(), 0U);
  EXPECT_EQ(ids.background_failures(), 0U);
}

// A failed background write is counted, never thrown at the owner; next()
// then reserves itself (and throws while the file cannot be written).
TEST_F(ClientOrderIdTest, AFailedBackgroundWriteIsCountedAndNextReservesItself) {
  ClientOrderIdAllocator ids(path_, 4);
  ids.reserve_in_background();
  (void)ids.next();
  (void)ids.next(); // 2 of 4 left
  std::filesystem::remove_all(directory_);
  EXPECT_TRUE(ids.reserve_ahead()); // only asks: the write fails on the writer's thread
  for (int wait = 0; wait < 5000 && ids.background_failures() == 0; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(ids.background_failures(), 1U);
  EXPECT_EQ(ids.next(), 3U);
  EXPECT_EQ(ids.next(), 4U);
  EXPECT_THROW((void)ids.next(), std::runtime_error); // no durable block and no directory
  std::filesystem::create_directories(directory_);
  EXPECT_EQ(ids.next(), 5U);
  EXPECT_EQ(ids.reservations_in_next(), 1U);
  EXPECT_EQ(limit_on_disk(read_file()), 9U);
}

TEST_F(ClientOrderIdTest, ReserveAheadWaitsUntilHalfTheBlockIsUsed) {
  ClientOrderIdAllocator ids(path_, 10);
  EXPECT_FALSE(ids.reserve_ahead()); // 10 left of 10
  for (int i = 0; i < 5; ++i) {
    (void)ids.next();
  }
  EXPECT_TRUE(ids.reserve_ahead()); // 5 left: the next block is reserved now
  EXPECT_EQ(ids.reserved_limit(), 21U);
  EXPECT_FALSE(ids.reserve_ahead());
}

TEST_F(ClientOrderIdTest, RestartAfterCleanShutdownContinuesAfterTheBlock) {
  std::uint64_t last = 0;
  {
    ClientOrderIdAllocator ids(path_, 100);
    for (int i = 0; i < 5; ++i) {
      last = ids.next();
    }
  }
  ClientOrderIdAllocator restarted(path_, 100);
  const std::uint64_t first = restarted.next();
  EXPECT_GT(first, last);
  EXPECT_EQ(first, 101U); // the unused rest of the old block is skipped, never reused
}

// A real crash: a child process takes ids and dies with _exit (no
// destructors, no flushes) in the middle of a block. The parent then
// restarts from the file and must not hand out any id the child used.
TEST_F(ClientOrderIdTest, CrashMidBlockNeverReusesAnId) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    ClientOrderIdAllocator ids(path_, 50);
    for (int i = 0; i < 73; ++i) { // one full block and part of the next
      const std::uint64_t id = ids.next();
      if (::write(pipe_fds[1], &id, sizeof id) != sizeof id) {
        ::_exit(2);
      }
    }
    ::_exit(0); // crash: no destructor runs
  }
  ::close(pipe_fds[1]);
  std::set<std::uint64_t> used;
  std::uint64_t id = 0;
  while (::read(pipe_fds[0], &id, sizeof id) == sizeof id) {
    used.insert(id);
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(used.size(), 73U);

  ClientOrderIdAllocator restarted(path_, 50);
  for (int i = 0; i < 200; ++i) {
    const std::uint64_t next = restarted.next();
    EXPECT_EQ(used.count(next), 0U) << "reused " << next;
    EXPECT_GT(next, *used.rbegin());
  }
}

TEST_F(ClientOrderIdTest, ManyRestartsNeverRepeat) {
  std::set<std::uint64_t> seen;
  for (int run = 0; run < 20; ++run) {
    ClientOrderIdAllocator ids(path_, 7);
    for (int i = 0; i < run % 9; ++i) {
      EXPECT_TRUE(seen.insert(ids.next()).second);
    }
  }
}

TEST_F(ClientOrderIdTest, RejectsACorruptFileNamingIt) {
  std::ofstream(path_) << "reserved_limit=banana\n";
  try {
    ClientOrderIdAllocator ids(path_, 10);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(path_), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("corrupt"), std::string::npos) << error.what();
  }
}

TEST_F(ClientOrderIdTest, FailsClearlyWhenTheDirectoryIsMissing) {
  EXPECT_THROW(ClientOrderIdAllocator((directory_ / "missing" / "file").string(), 10), std::runtime_error);
  EXPECT_THROW(ClientOrderIdAllocator(path_, 0), std::invalid_argument);
}

TEST(ClientOrderIdFormatTest, FormatsAndParsesWithPrefix) {
  EXPECT_EQ(format_client_order_id("SU", 17), "SU17");
  const std::string id = "SU17";
  EXPECT_EQ(parse_client_order_id("SU", id.data(), id.size()), 17U);
  for (const std::string text : {"XX17", "SU", "SU017", "SU1x", "S"}) {
    EXPECT_EQ(parse_client_order_id("SU", text.data(), text.size()), 0U) << text;
  }
}

TEST(ClientOrderIdFormatTest, writes_the_same_text_into_a_buffer_and_refuses_a_buffer_too_small) {
  char text[32];
  for (const std::uint64_t counter :
       {std::uint64_t{1}, std::uint64_t{10}, std::uint64_t{1'234'567}, std::numeric_limits<std::uint64_t>::max()}) {
    const std::size_t size = write_client_order_id("SU", counter, text, sizeof text);
    EXPECT_EQ(std::string(text, size), "SU" + std::to_string(counter));
    EXPECT_EQ(format_client_order_id("SU", counter), "SU" + std::to_string(counter));
  }
  EXPECT_EQ(write_client_order_id("SU", 17, text, 4), 4U);
  EXPECT_EQ(write_client_order_id("SU", 170, text, 4), 0U);
  EXPECT_EQ(format_client_order_id("", 0), "0");
}

} // namespace
} // namespace synthusd::fix
