#pragma once
// Small durable-file steps the journal's segment files share: a file
// replaced atomically, a directory entry made durable, a whole file read.
// Every error is a std::runtime_error that starts with `what` and names the
// file.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace synthusd::engine {

// path + ".tmp", fsync, rename over path, fsync the directory: a crash
// leaves the old file or the new one, never a mix (and no temporary file
// after an error).
void replace_file_durably(const std::string& what, const std::string& path, std::span<const std::uint8_t> bytes);

// A new file `<path><suffix>N` (owner only, N = 1, 2, ...: never over an
// existing one) holding `bytes`, fsynced with its directory entry. Returns
// its path.
std::string keep_beside(const std::string& what, const std::string& path, std::string_view suffix,
                        std::span<const std::uint8_t> bytes);

// fsync of the directory holding `path`: a create, rename or unlink there is
// durable only after it.
void sync_directory_of(const std::string& what, const std::string& path);

// The whole file; false (errno set) when it cannot be opened or read.
[[nodiscard]] bool read_whole_file(const std::string& path, std::vector<std::uint8_t>& bytes);

} // namespace synthusd::engine
