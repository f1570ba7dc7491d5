// Compiled as C++14 (target synthusd_fix_quickfix); see client_order_id.hpp.

#include "synthusd/fix/client_order_id.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <mutex>
#include <pthread.h>
#include <stdexcept>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <utility>

namespace synthusd {
namespace fix {
namespace {

constexpr char kHeader[] = "synthusd-client-order-id 1\nreserved_limit=";

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw std::runtime_error("client order id file " + path + ": " + what);
}

[[noreturn]] void fail_errno(const std::string& path, const std::string& what) {
  const int error = errno;
  fail(path, what + ": " + std::strerror(error));
}

class FileDescriptor {
public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

private:
  int fd_;
};

bool parse_decimal(const std::string& text, std::uint64_t& out) {
  if (text.empty() || text.size() > 20) {
    return false;
  }
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

// Returns false if the file does not exist; throws if it exists but cannot
// be read or is not ours.
bool read_limit(const std::string& path, std::uint64_t& limit) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) {
      return false;
    }
    fail_errno(path, "cannot open");
  }
  std::string content;
  char buffer[256];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail_errno(path, "cannot read");
    }
    if (n == 0) {
      break;
    }
    content.append(buffer, static_cast<std::size_t>(n));
    if (content.size() > 4096) {
      fail(path, "corrupt: longer than any counter file");
    }
  }
  const std::string header(kHeader);
  if (content.compare(0, header.size(), header) != 0 || content.empty() || content.back() != '\n') {
    fail(path, "corrupt: not a synthusd client order id file");
  }
  const std::string number = content.substr(header.size(), content.size() - header.size() - 1);
  if (!parse_decimal(number, limit) || limit == 0) {
    fail(path, "corrupt: reserved_limit is not a positive integer");
  }
  return true;
}

void write_all(int fd, const std::string& path, const std::string& text) {
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail_errno(path, "cannot write");
    }
    written += static_cast<std::size_t>(n);
  }
}

std::string directory_of(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Atomic replace: temporary file, fsync, rename, fsync the directory (so the
// rename itself is durable).
void write_limit(const std::string& path, std::uint64_t limit) {
  const std::string temporary = path + ".tmp";
  {
    FileDescriptor fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
      fail_errno(temporary, "cannot create");
    }
    write_all(fd.get(), temporary, std::string(kHeader) + std::to_string(limit) + "\n");
    if (::fsync(fd.get()) != 0) {
      fail_errno(temporary, "fsync failed");
    }
    if (::close(fd.release()) != 0) {
      fail_errno(temporary, "close failed");
    }
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    fail_errno(path, "cannot rename " + temporary + " over it");
  }
  const std::string directory = directory_of(path);
  FileDescriptor dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) {
    fail_errno(directory, "cannot open directory to sync it");
  }
  if (::fsync(dir.get()) != 0) {
    fail_errno(directory, "directory fsync failed");
  }
}

} // namespace

// The background writer. Memory ordering: the owner stores `requested`
// (release) before writing the eventfd; the writer reads it after the
// eventfd read (acquire). The writer publishes `durable` (release) only after
// the file holds that limit, fsync'd, and the owner reads it (acquire)
// before handing out an id below it. `file` serialises the writer with the
// owner's fallback in next(); each writes only a limit above `durable`, so
// the file never goes back.
struct ClientOrderIdAllocator::Background {
  int event_fd = -1;
  std::thread thread;
  std::atomic<std::uint64_t> requested{0};
  std::atomic<std::uint64_t> durable{0};
  std::atomic<std::uint64_t> failures{0};
  std::atomic<bool> stop{false};
  std::mutex file;

  void signal() const {
    const std::uint64_t one = 1;
    (void)::write(event_fd, &one, sizeof one); // EAGAIN only near a 2^64 count: already readable
  }

  void run(const std::string& path) {
    (void)::pthread_setname_np(::pthread_self(), "fix-client-ids"); // 15 characters: the kernel's limit
    for (;;) {
      std::uint64_t count = 0;
      if (::read(event_fd, &count, sizeof count) < 0 && errno == EINTR) {
        continue;
      }
      if (stop.load(std::memory_order_acquire)) {
        return;
      }
      const std::uint64_t target = requested.load(std::memory_order_acquire);
      std::lock_guard<std::mutex> lock(file);
      if (target <= durable.load(std::memory_order_relaxed)) {
        continue;
      }
      try {
        write_limit(path, target);
        durable.store(target, std::memory_order_release);
      } catch (const std::exception&) {
        failures.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
};

ClientOrderIdAllocator::ClientOrderIdAllocator(std::string path, std::uint64_t block_size)
    : path_(std::move(path)), block_size_(block_size) {
  if (block_size_ == 0) {
    throw std::invalid_argument("client order id block size must be positive");
  }
  if (path_.empty()) {
    throw std::invalid_argument("client order id file path is empty");
  }
  std::uint64_t limit = 1;
  read_limit(path_, limit);
  next_ = limit;
  limit_ = limit;
  reserve_block();
}

ClientOrderIdAllocator::~ClientOrderIdAllocator() {
  if (background_) {
    background_->stop.store(true, std::memory_order_release);
    background_->signal();
    background_->thread.join();
    ::close(background_->event_fd);
  }
}

void ClientOrderIdAllocator::reserve_in_background() {
  if (background_) {
    return;
  }
  std::unique_ptr<Background> background(new Background);
  background->event_fd = ::eventfd(0, EFD_CLOEXEC);
  if (background->event_fd < 0) {
    throw std::system_error(errno, std::system_category(), "eventfd for the client order id writer");
  }
  background->durable.store(limit_, std::memory_order_relaxed);
  background->requested.store(limit_, std::memory_order_relaxed);
  Background* raw = background.get();
  try {
    background->thread = std::thread([raw, path = path_] { raw->run(path); });
  } catch (...) {
    ::close(background->event_fd);
    throw;
  }
  background_ = std::move(background);
}

std::uint64_t ClientOrderIdAllocator::background_failures() const {
  return background_ ? background_->failures.load(std::memory_order_relaxed) : 0;
}

bool ClientOrderIdAllocator::reservation_pending() const noexcept {
  return background_ &&
         background_->requested.load(std::memory_order_relaxed) > background_->durable.load(std::memory_order_acquire);
}

void ClientOrderIdAllocator::refresh_limit() {
  if (background_) {
    const std::uint64_t durable = background_->durable.load(std::memory_order_acquire);
    limit_ = durable > limit_ ? durable : limit_;
  }
}

void ClientOrderIdAllocator::reserve_block() {
  if (limit_ > std::numeric_limits<std::uint64_t>::max() - block_size_) {
    fail(path_, "counter exhausted");
  }
  const std::uint64_t new_limit = limit_ + block_size_;
  write_limit(path_, new_limit); // durable before any id of the block is used
  limit_ = new_limit;
}

std::uint64_t ClientOrderIdAllocator::next() {
  if (next_ >= limit_) {
    refresh_limit();
  }
  if (next_ >= limit_) {
    if (background_) {
      // The writer is behind (or failed): reserve here, serialised with it.
      std::lock_guard<std::mutex> lock(background_->file);
      refresh_limit();
      if (next_ >= limit_) {
        reserve_block();
        background_->durable.store(limit_, std::memory_order_release);
        ++reservations_in_next_;
      }
    } else {
      reserve_block();
      ++reservations_in_next_;
    }
  }
  return next_++;
}

bool ClientOrderIdAllocator::reserve_ahead() {
  refresh_limit();
  if (limit_ - next_ > block_size_ / 2) {
    return false;
  }
  if (background_) {
    if (limit_ > std::numeric_limits<std::uint64_t>::max() - block_size_) {
      return false; // next() reports the exhaustion
    }
    const std::uint64_t target = limit_ + block_size_;
    if (background_->requested.load(std::memory_order_relaxed) >= target) {
      return false; // asked already; the writer has not published it yet
    }
    background_->requested.store(target, std::memory_order_release);
    background_->signal();
    return true;
  }
  reserve_block();
  return true;
}

std::string format_client_order_id(const std::string& prefix, std::uint64_t counter) {
  std::string text(prefix.size() + kMaxClientOrderIdCounterDigits, '\0');
  text.resize(write_client_order_id(prefix, counter, &text[0], text.size()));
  return text;
}

std::size_t write_client_order_id(const std::string& prefix, std::uint64_t counter, char* out,
                                  std::size_t capacity) noexcept {
  char digits[kMaxClientOrderIdCounterDigits];
  std::size_t count = 0;
  do {
    digits[count++] = static_cast<char>('0' + counter % 10);
    counter /= 10;
  } while (counter != 0);
  const std::size_t size = prefix.size() + count;
  if (size > capacity) {
    return 0;
  }
  std::memcpy(out, prefix.data(), prefix.size());
  for (std::size_t i = 0; i < count; ++i) {
    out[prefix.size() + i] = digits[count - 1 - i];
  }
  return size;
}

std::uint64_t parse_client_order_id(const std::string& prefix, const char* text, std::size_t size) {
  if (size <= prefix.size() || std::memcmp(text, prefix.data(), prefix.size()) != 0) {
    return 0;
  }
  const std::string digits(text + prefix.size(), size - prefix.size());
  if (digits[0] == '0') {
    return 0; // we never write leading zeros
  }
  std::uint64_t value = 0;
  return parse_decimal(digits, value) ? value : 0;
}

} // namespace fix
} // namespace synthusd
