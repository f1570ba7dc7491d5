// Credentials: environment variables, owner-only files, clear errors.
#include "synthusd/fix/credentials.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace synthusd::fix {
namespace {

class CredentialsTest : public ::testing::Test {
protected:
  void SetUp() override {
    directory_ =
        std::filesystem::temp_directory_path() / ("synthusd_credentials_" + std::to_string(::getpid()) + "_" +
                                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string write(const std::string& name, const std::string& content, mode_t mode) {
    const std::string path = (directory_ / name).string();
    std::ofstream(path) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }

  std::filesystem::path directory_;
};

std::string error_of(const std::string& path) {
  try {
    (void)load_credentials_from_file(path);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

TEST_F(CredentialsTest, ReadsAnOwnerOnlyFile) {
  const std::string path = write("ok", "# deribit test account\nclient_id = abc123\nclient_secret=s3cr3t\n", 0600);
  const Credentials credentials = load_credentials_from_file(path);
  EXPECT_EQ(credentials.client_id, "abc123");
  EXPECT_EQ(credentials.client_secret.reveal(), "s3cr3t");
  EXPECT_EQ(load_credentials(path).client_id, "abc123");
}

TEST_F(CredentialsTest, AcceptsReadOnlyForOwner) {
  const std::string path = write("readonly", "client_id=a\nclient_secret=b\n", 0400);
  EXPECT_EQ(load_credentials_from_file(path).client_id, "a");
}

TEST_F(CredentialsTest, RefusesGroupOrWorldAccessibleFilesNamingThePath) {
  for (mode_t mode : {0640, 0644, 0604, 0660, 0601, 0610}) {
    const std::string path = write("mode" + std::to_string(mode), "client_id=a\nclient_secret=b\n", mode);
    const std::string error = error_of(path);
    EXPECT_NE(error.find(path), std::string::npos) << error;
    EXPECT_NE(error.find("group or others"), std::string::npos) << error;
    EXPECT_NE(error.find("chmod 600"), std::string::npos) << error;
    EXPECT_EQ(error.find("client_secret=b"), std::string::npos) << "the error must not echo the secret";
  }
}

TEST_F(CredentialsTest, RefusesSymlinksAndDirectories) {
  const std::string target = write("target", "client_id=a\nclient_secret=b\n", 0600);
  const std::string link = (directory_ / "link").string();
  std::filesystem::create_symlink(target, link);
  EXPECT_NE(error_of(link).find(link), std::string::npos);
  EXPECT_NE(error_of(directory_.string()).find("not a regular file"), std::string::npos);
}

TEST_F(CredentialsTest, ReportsMissingAndMalformedContentWithoutEchoingIt) {
  EXPECT_NE(error_of(write("no_secret", "client_id=a\n", 0600)).find("client_secret is missing"), std::string::npos);
  EXPECT_NE(error_of(write("no_id", "client_secret=b\n", 0600)).find("client_id is missing"), std::string::npos);
  const std::string garbage = error_of(write("garbage", "client_id=a\nsupersecretvalue\n", 0600));
  EXPECT_NE(garbage.find("line 2"), std::string::npos) << garbage;
  EXPECT_EQ(garbage.find("supersecretvalue"), std::string::npos) << garbage;
  EXPECT_NE(error_of(write("unknown", "client_id=a\nclient_secret=b\ncolor=red\n", 0600)).find("unknown key"),
            std::string::npos);
  EXPECT_NE(error_of((directory_ / "absent").string()).find("cannot open"), std::string::npos);
}

TEST_F(CredentialsTest, ReadsEnvironmentVariables) {
  ::setenv("SYNTHUSD_TEST_FIX_ID", "env-id", 1);
  ::setenv("SYNTHUSD_TEST_FIX_SECRET", "env-secret", 1);
  const Credentials credentials = load_credentials_from_environment("SYNTHUSD_TEST_FIX_ID", "SYNTHUSD_TEST_FIX_SECRET");
  EXPECT_EQ(credentials.client_id, "env-id");
  EXPECT_EQ(credentials.client_secret.reveal(), "env-secret");
  ::unsetenv("SYNTHUSD_TEST_FIX_SECRET");
  try {
    (void)load_credentials_from_environment("SYNTHUSD_TEST_FIX_ID", "SYNTHUSD_TEST_FIX_SECRET");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("SYNTHUSD_TEST_FIX_SECRET"), std::string::npos);
  }
  ::unsetenv("SYNTHUSD_TEST_FIX_ID");
}

TEST(SecretStringTest, MovingLeavesTheSourceEmpty) {
  SecretString secret("hunter2");
  SecretString moved(std::move(secret));
  EXPECT_EQ(moved.reveal(), "hunter2");
  EXPECT_TRUE(secret.empty()); // NOLINT(bugprone-use-after-move): wiping is the point
  SecretString assigned;
  assigned = std::move(moved);
  EXPECT_EQ(assigned.reveal(), "hunter2");
  EXPECT_TRUE(moved.empty()); // NOLINT(bugprone-use-after-move)
}

} // namespace
} // namespace synthusd::fix
