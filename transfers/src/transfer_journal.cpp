#include "synthusd/transfers/transfer_journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace synthusd::transfers {
namespace {

bool valid_token(const std::string& text) {
  if (text.empty() || text.size() > 256) {
    return false;
  }
  for (const char c : text) {
    if (c <= ' ' || c == 0x7f) {
      return false;
    }
  }
  return true;
}

std::string describe_errno(const char* what, const std::string& path) {
  std::string text = what;
  text += " ";
  text += path;
  text += ": ";
  text += std::strerror(errno);
  return text;
}

} // namespace

TransferJournal::TransferJournal(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw std::runtime_error(describe_errno("transfers: cannot open the journal", path_));
  }
  std::string text;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n < 0) {
      throw std::runtime_error(describe_errno("transfers: cannot read the journal", path_));
    }
    if (n == 0) {
      break;
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  std::size_t start = 0;
  std::size_t line_number = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      // Torn by a crash mid-write: never acted on (a step acts only after
      // its line is durable). Cut it so that the next line starts clean.
      if (::ftruncate(fd_, static_cast<off_t>(start)) != 0 || ::fsync(fd_) != 0) {
        throw std::runtime_error(describe_errno("transfers: cannot cut the torn tail of", path_));
      }
      break;
    }
    ++line_number;
    JournalLine line;
    std::size_t at = start;
    std::vector<std::string> words;
    while (at <= end) {
      const std::size_t space = text.find(' ', at);
      const std::size_t stop = space == std::string::npos || space > end ? end : space;
      words.push_back(text.substr(at, stop - at));
      at = stop + 1;
    }
    char* parsed_end = nullptr;
    errno = 0;
    const unsigned long long id = words.empty() ? 0 : std::strtoull(words[0].c_str(), &parsed_end, 10);
    if (words.size() < 2 || errno != 0 || parsed_end == words[0].c_str() || *parsed_end != '\0' || id == 0 ||
        !valid_token(words[1])) {
      throw std::runtime_error("transfers: " + path_ + " line " + std::to_string(line_number) + " is malformed");
    }
    line.transfer_id = id;
    line.step = words[1];
    line.fields.assign(words.begin() + 2, words.end());
    history_.push_back(std::move(line));
    start = end + 1;
  }
  if (::lseek(fd_, 0, SEEK_END) < 0) {
    throw std::runtime_error(describe_errno("transfers: cannot seek", path_));
  }
}

TransferJournal::~TransferJournal() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool TransferJournal::append(const JournalLine& line, std::string& error) {
  if (line.transfer_id == 0 || !valid_token(line.step)) {
    error = "transfers: a journal line needs an id and a one-word step";
    return false;
  }
  std::string text = std::to_string(line.transfer_id) + " " + line.step;
  for (const std::string& field : line.fields) {
    if (!valid_token(field)) {
      error = "transfers: a journal field is empty or has a space: step " + line.step;
      return false;
    }
    text += " " + field;
  }
  text += "\n";
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      error = describe_errno("transfers: cannot write", path_);
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd_) != 0) {
    error = describe_errno("transfers: cannot sync", path_);
    return false;
  }
  return true;
}

} // namespace synthusd::transfers
