#include "lnd_index_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "synthusd/liabilities/lnd_stream_parser.hpp"

namespace synthusd::liabilities::detail {

bool read_index_file(const std::string& path, std::uint64_t& index) {
  if (path.empty() || !std::filesystem::exists(path)) {
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("lnd: cannot read the state file " + path);
  }
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  if (!parse_decimal_u64(text, index)) {
    throw std::runtime_error("lnd: the state file does not hold an index: " + path);
  }
  return true;
}

bool write_index_file(const std::string& path, std::uint64_t index, std::string& error) {
  const std::string temporary = path + ".tmp";
  const std::string text = std::to_string(index) + "\n";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int saved = errno;
  if (fd >= 0) {
    ok = ::close(fd) == 0 && ok;
  }
  ok = ok && ::rename(temporary.c_str(), path.c_str()) == 0;
  if (!ok) {
    // Appended piecewise: GCC 12's -Wrestrict misfires on the chained operator+.
    error = "cannot write ";
    error += path;
    error += ": ";
    error += std::strerror(saved != 0 ? saved : errno);
    return false;
  }
  std::string directory = std::filesystem::path(path).parent_path().string();
  if (directory.empty()) {
    directory = ".";
  }
  if (const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
  return true;
}

} // namespace synthusd::liabilities::detail
