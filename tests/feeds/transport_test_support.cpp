#include "transport_test_support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace synthusd::feeds::test {

std::filesystem::path transport_data_file() {
  return std::filesystem::path(SYNTHUSD_SOURCE_DIR) / "tests/data/feeds/transport_deribit_book.jsonl";
}

std::vector<std::string> read_lines(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

TemporaryDirectory::TemporaryDirectory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "synthusd-transport-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
  }
  path_ = pattern;
}

TemporaryDirectory::~TemporaryDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

Certificate make_self_signed_certificate(const std::filesystem::path& directory, std::string_view name,
                                         std::string_view subject_alt_names) {
  Certificate result{directory / (std::string(name) + "-cert.pem"), directory / (std::string(name) + "-key.pem")};
  const std::filesystem::path log = directory / (std::string(name) + "-openssl.log");
  std::ostringstream command;
  command << "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2"
          << " -subj /CN=localhost -addext subjectAltName=" << subject_alt_names << " -keyout " << result.key
          << " -out " << result.certificate << " >" << log << " 2>&1";
  const int status = std::system(command.str().c_str());
  if (status != 0) {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    ADD_FAILURE() << "openssl failed (" << status << "): " << command.str() << "\n" << text.str();
  }
  return result;
}

ReplayServer::ReplayServer(std::vector<std::string> arguments, const std::filesystem::path& data) {
  const std::string script = std::string(SYNTHUSD_SOURCE_DIR) + "/tests/support/ws_replay_server.js";
  const std::string ws_package = std::string(SYNTHUSD_SOURCE_DIR) + "/tests/support/node/node_modules/ws/package.json";
  if (!std::filesystem::exists(ws_package)) {
    ADD_FAILURE() << "npm package ws is missing (" << ws_package << "): run scripts/setup";
    return;
  }
  std::vector<std::string> command = {"node", script, "--data", data.string()};
  command.insert(command.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  for (std::string& argument : command) {
    argv.push_back(argument.data());
  }
  argv.push_back(nullptr);

  int output[2];
  int input[2];
  if (::pipe2(output, O_CLOEXEC) != 0 || ::pipe2(input, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return;
  }
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    // Only async-signal-safe calls until exec. The kernel kills node if the
    // test dies without running the destructor (crash, abort).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
      ::_exit(127);
    }
    ::dup2(input[0], STDIN_FILENO);
    ::dup2(output[1], STDOUT_FILENO);
    ::execvp("node", argv.data());
    ::_exit(127);
  }
  ::close(output[1]);
  ::close(input[0]);
  stdin_fd_ = input[1]; // held open: node exits when it closes
  if (pid_ < 0) {
    ::close(output[0]);
    ADD_FAILURE() << "fork failed";
    return;
  }
  reader_ = std::thread([this, fd = output[0]] { read_output(fd); });

  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < give_up) {
    {
      std::lock_guard lock(mutex_);
      for (const std::string& line : lines_) {
        if (line.starts_with("LISTENING ")) {
          port_ = static_cast<std::uint16_t>(std::stoi(line.substr(10)));
          return;
        }
      }
      if (output_closed_) {
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ADD_FAILURE() << "the replay server did not start:\n" << transcript();
}

ReplayServer::~ReplayServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
  }
  if (reader_.joinable()) {
    reader_.join(); // the pipe reaches EOF once node is gone
  }
}

void ReplayServer::read_output(int fd) {
  std::string pending;
  char buffer[4096];
  for (;;) {
    const ssize_t size = ::read(fd, buffer, sizeof(buffer));
    if (size <= 0) {
      break;
    }
    pending.append(buffer, static_cast<std::size_t>(size));
    std::size_t end = 0;
    std::lock_guard lock(mutex_);
    while ((end = pending.find('\n')) != std::string::npos) {
      lines_.push_back(pending.substr(0, end));
      pending.erase(0, end + 1);
    }
  }
  ::close(fd);
  std::lock_guard lock(mutex_);
  output_closed_ = true;
}

std::vector<std::string> ReplayServer::events() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> events;
  for (const std::string& line : lines_) {
    if (!line.starts_with("LISTENING")) {
      events.push_back(line);
    }
  }
  return events;
}

std::vector<std::string> ReplayServer::events_with(std::string_view prefix) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> events;
  for (const std::string& line : lines_) {
    if (line.starts_with(prefix)) {
      events.push_back(line);
    }
  }
  return events;
}

std::string ReplayServer::transcript() const {
  std::lock_guard lock(mutex_);
  std::string text;
  for (const std::string& line : lines_) {
    text += line.size() > 200 ? line.substr(0, 200) + "..." : line;
    text += '\n';
  }
  return text;
}

bool run_until(EventLoop& loop, WaitMode mode, const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= give_up) {
      return false;
    }
    loop.run_once(mode, std::chrono::milliseconds(5));
  }
  return true;
}

void run_for(EventLoop& loop, WaitMode mode, std::chrono::milliseconds duration) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) {
    loop.run_once(mode, std::chrono::milliseconds(5));
  }
}

} // namespace synthusd::feeds::test
