#include "durable_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace synthusd::engine {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& step, int error) {
  // Appended piece by piece: gcc 12 warns (-Wrestrict, a false positive) on
  // the chained operator+ of these strings.
  std::string message = what;
  message.append(": ").append(step).append(": ").append(std::strerror(error));
  throw std::runtime_error(message);
}

// Writes and fsyncs a file created with `create` (O_TRUNC, or O_EXCL: then
// false, nothing written, when it already exists).
bool write_all(const std::string& what, const std::string& tmp, std::span<const std::uint8_t> bytes,
               int create = O_TRUNC) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | create | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST && (create & O_EXCL) != 0) {
    return false;
  }
  if (fd < 0) {
    fail(what, "cannot create " + tmp, errno);
  }
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      fail(what, "cannot write " + tmp, error);
    }
    written += static_cast<std::size_t>(n);
  }
  // The data must be on disk before the rename makes it the file.
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    fail(what, "cannot fsync " + tmp, error);
  }
  if (::close(fd) != 0) {
    fail(what, "cannot close " + tmp, errno);
  }
  return true;
}

} // namespace

void replace_file_durably(const std::string& what, const std::string& path, std::span<const std::uint8_t> bytes) {
  const std::string tmp = path + ".tmp";
  try {
    write_all(what, tmp, bytes);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    fail(what, "cannot rename " + tmp + " to " + path, error);
  }
  sync_directory_of(what, path);
}

std::string keep_beside(const std::string& what, const std::string& path, std::string_view suffix,
                        std::span<const std::uint8_t> bytes) {
  for (int n = 1; n < 1'000; ++n) {
    const std::string kept = path + std::string(suffix) + std::to_string(n);
    try {
      if (!write_all(what, kept, bytes, O_EXCL)) {
        continue; // an earlier one: never written over
      }
    } catch (...) {
      ::unlink(kept.c_str());
      throw;
    }
    sync_directory_of(what, kept);
    return kept;
  }
  throw std::runtime_error(what + ": " + path + std::string(suffix) + "1 to 999 all exist");
}

void sync_directory_of(const std::string& what, const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string directory = parent.empty() ? std::string(".") : parent.string();
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    fail(what, "cannot open directory " + directory, errno);
  }
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    fail(what, "cannot fsync directory " + directory, error);
  }
  ::close(fd);
}

bool read_whole_file(const std::string& path, std::vector<std::uint8_t>& bytes) {
  bytes.clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  std::uint8_t chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      errno = error;
      return false;
    }
    if (n == 0) {
      break;
    }
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  ::close(fd);
  return true;
}

} // namespace synthusd::engine
