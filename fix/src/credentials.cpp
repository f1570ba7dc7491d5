// Compiled as C++14 (target synthusd_fix_quickfix); see credentials.hpp.

#include "synthusd/fix/credentials.hpp"

#include <openssl/crypto.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace synthusd {
namespace fix {
namespace {

[[noreturn]] void fail(const std::string& message) { throw std::runtime_error(message); }

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string trim(const std::string& text) {
  const char* whitespace = " \t\r";
  const std::size_t begin = text.find_first_not_of(whitespace);
  if (begin == std::string::npos) {
    return std::string();
  }
  const std::size_t end = text.find_last_not_of(whitespace);
  return text.substr(begin, end - begin + 1);
}

void wipe_string(std::string& text) {
  if (!text.empty()) {
    OPENSSL_cleanse(&text[0], text.size());
  }
  text.clear();
}

} // namespace

SecretString& SecretString::operator=(const SecretString& other) {
  if (this != &other) {
    wipe();
    value_ = other.value_;
  }
  return *this;
}

SecretString& SecretString::operator=(SecretString&& other) noexcept {
  if (this != &other) {
    wipe();
    value_ = std::move(other.value_);
    other.wipe();
  }
  return *this;
}

void SecretString::wipe() noexcept { wipe_string(value_); }

Credentials load_credentials_from_environment(const char* client_id_variable, const char* client_secret_variable) {
  const char* id = std::getenv(client_id_variable);
  const char* secret = std::getenv(client_secret_variable);
  if (id == nullptr || *id == '\0') {
    fail(std::string("FIX credentials: environment variable ") + client_id_variable + " is not set");
  }
  if (secret == nullptr || *secret == '\0') {
    fail(std::string("FIX credentials: environment variable ") + client_secret_variable + " is not set");
  }
  Credentials credentials;
  credentials.client_id = id;
  credentials.client_secret = SecretString(secret);
  return credentials;
}

Credentials load_credentials_from_file(const std::string& path) {
  // Check the opened descriptor, not the path, so the file cannot be swapped
  // between the check and the read. O_NOFOLLOW: a symlink is refused too.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    const int error = errno;
    fail("FIX credentials file " + path + ": cannot open: " + std::strerror(error));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    const int error = errno;
    fail("FIX credentials file " + path + ": cannot stat: " + std::strerror(error));
  }
  if (!S_ISREG(status.st_mode)) {
    fail("FIX credentials file " + path + " is not a regular file");
  }
  if (status.st_uid != ::geteuid()) {
    fail("FIX credentials file " + path + " is owned by uid " + std::to_string(status.st_uid) +
         ", not by this process's user (uid " + std::to_string(::geteuid()) + ")");
  }
  if ((status.st_mode & 077) != 0) {
    fail("FIX credentials file " + path + " is accessible by group or others (mode " + octal_mode(status.st_mode) +
         "); refusing to read it. Run: chmod 600 " + path);
  }

  std::string content;
  char buffer[512];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int error = errno;
      OPENSSL_cleanse(buffer, sizeof buffer);
      wipe_string(content);
      fail("FIX credentials file " + path + ": cannot read: " + std::strerror(error));
    }
    if (n == 0) {
      break;
    }
    content.append(buffer, static_cast<std::size_t>(n));
  }
  OPENSSL_cleanse(buffer, sizeof buffer);

  Credentials credentials;
  std::size_t position = 0;
  int line_number = 0;
  std::string error;
  while (position < content.size() && error.empty()) {
    std::size_t end = content.find('\n', position);
    if (end == std::string::npos) {
      end = content.size();
    }
    std::string line = trim(content.substr(position, end - position));
    position = end + 1;
    ++line_number;
    if (line.empty() || line[0] == '#') {
      continue;
    }
    const std::size_t equals = line.find('=');
    const std::string key = equals == std::string::npos ? line : trim(line.substr(0, equals));
    if (equals == std::string::npos) {
      // Never echo the line: it might be the secret itself.
      error = "line " + std::to_string(line_number) + " is not key=value";
    } else if (key == "client_id") {
      credentials.client_id = trim(line.substr(equals + 1));
    } else if (key == "client_secret") {
      credentials.client_secret = SecretString(trim(line.substr(equals + 1)));
    } else {
      error = "line " + std::to_string(line_number) + ": unknown key '" + key + "'";
    }
    wipe_string(line);
  }
  wipe_string(content);
  if (!error.empty()) {
    fail("FIX credentials file " + path + ": " + error + " (expected client_id=... and client_secret=...)");
  }
  if (credentials.client_id.empty()) {
    fail("FIX credentials file " + path + ": client_id is missing or empty");
  }
  if (credentials.client_secret.empty()) {
    fail("FIX credentials file " + path + ": client_secret is missing or empty");
  }
  return credentials;
}

Credentials load_credentials(const std::string& path) {
  return path.empty() ? load_credentials_from_environment() : load_credentials_from_file(path);
}

} // namespace fix
} // namespace synthusd
