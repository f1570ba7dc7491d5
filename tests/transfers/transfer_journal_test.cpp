#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "synthusd/transfers/transfer_journal.hpp"

namespace synthusd::transfers {
namespace {

std::string temporary_file(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() / ("synthusd_transfers_" + std::to_string(::getpid()));
  std::filesystem::create_directories(path);
  std::filesystem::remove(path / name);
  return (path / name).string();
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(TransferJournal, lines_written_are_read_back_in_order_after_a_reopen) {
  const std::string path = temporary_file("journal_roundtrip");
  {
    TransferJournal journal(path);
    std::string error;
    ASSERT_TRUE(journal.append({7, "requested", {"1", "deposit", "250000", "1700000000000"}}, error)) << error;
    ASSERT_TRUE(journal.append({7, "address", {"bcrt1qx"}}, error)) << error;
  }
  TransferJournal journal(path);
  ASSERT_EQ(journal.history().size(), 2u);
  EXPECT_EQ(journal.history()[0].transfer_id, 7u);
  EXPECT_EQ(journal.history()[0].step, "requested");
  EXPECT_EQ(journal.history()[0].fields.size(), 4u);
  EXPECT_EQ(journal.history()[1].fields[0], "bcrt1qx");
}

TEST(TransferJournal, a_torn_last_line_is_cut_as_never_acted_on) {
  const std::string path = temporary_file("journal_torn");
  std::ofstream(path) << "7 requested 1 deposit 250000 1700000000000\n7 addre";
  {
    TransferJournal journal(path);
    ASSERT_EQ(journal.history().size(), 1u);
    std::string error;
    ASSERT_TRUE(journal.append({7, "address", {"bcrt1qy"}}, error)) << error;
  }
  EXPECT_EQ(read(path), "7 requested 1 deposit 250000 1700000000000\n7 address bcrt1qy\n");
}

TEST(TransferJournal, a_malformed_complete_line_refuses_to_open_and_bad_fields_are_not_written) {
  const std::string path = temporary_file("journal_bad");
  std::ofstream(path) << "seven requested\n";
  EXPECT_THROW(TransferJournal{path}, std::runtime_error);
  std::filesystem::remove(path);
  TransferJournal journal(path);
  std::string error;
  EXPECT_FALSE(journal.append({7, "address", {"two words"}}, error));
  EXPECT_FALSE(journal.append({0, "address", {"x"}}, error));
  EXPECT_EQ(read(path), "");
}

} // namespace
} // namespace synthusd::transfers
