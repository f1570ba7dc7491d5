#pragma once
// The LND sources' cursors on disk: one decimal index and a newline
// (the invoice stream's settle_index, the payments' payment_index).

#include <cstdint>
#include <string>

namespace synthusd::liabilities::detail {

// The index in `path`; throws std::runtime_error when the file exists but
// does not hold one (starting from 0 would silently replay or skip).
// False when there is no file.
bool read_index_file(const std::string& path, std::uint64_t& index);

// tmp + fsync + rename + fsync(directory): after a crash the file holds the
// old index or the new one, never a torn one. False: `error` says why.
bool write_index_file(const std::string& path, std::uint64_t index, std::string& error);

} // namespace synthusd::liabilities::detail
