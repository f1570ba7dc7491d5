#include "synthusd/engine/journal_segments.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "durable_file.hpp"
#include "synthusd/engine/journal_id_index.hpp"

namespace synthusd::engine {
namespace {

namespace fs = std::filesystem;

// The first sequence a file name carries, when it is exactly
// `<base name>.<20 digits>` (anything else, ".ids" and ".tmp" files
// included, is not a segment).
bool parse_segment_name(const std::string& name, const std::string& base_name, const std::string& suffix,
                        std::uint64_t& first_sequence) {
  const std::size_t digits_at = base_name.size() + 1;
  if (name.size() != digits_at + kSegmentSequenceDigits + suffix.size() ||
      name.compare(0, base_name.size(), base_name) != 0 || name[base_name.size()] != '.' ||
      name.compare(digits_at + kSegmentSequenceDigits, suffix.size(), suffix) != 0) {
    return false;
  }
  std::uint64_t value = 0;
  for (std::size_t i = digits_at; i < digits_at + kSegmentSequenceDigits; ++i) {
    if (name[i] < '0' || name[i] > '9') {
      return false;
    }
    const std::uint64_t digit = static_cast<std::uint64_t>(name[i] - '0');
    if (value > (UINT64_MAX - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
  }
  first_sequence = value;
  return value > 0;
}

bool is_regular_file(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

std::string directory_of(const std::string& base) {
  const std::string directory = fs::path(base).parent_path().string();
  return directory.empty() ? "." : directory;
}

// Every `<base name>.<digits><suffix>` in `directory`.
std::vector<std::uint64_t> numbered_files(const std::string& directory, const std::string& base_name,
                                          const std::string& suffix) {
  std::vector<std::uint64_t> found;
  std::error_code error;
  fs::directory_iterator it(directory, error);
  if (error == std::errc::no_such_file_or_directory) {
    return found; // a missing directory holds nothing
  }
  // Any other failure (no permission, an I/O error on a broken mount) is
  // not an empty journal: read as one, the engine would start afresh.
  if (error) {
    throw std::runtime_error("journal: cannot list " + directory + ": " + error.message());
  }
  for (const fs::directory_entry& entry : it) {
    std::uint64_t first = 0;
    if (parse_segment_name(entry.path().filename().string(), base_name, suffix, first) &&
        entry.is_regular_file(error)) {
      found.push_back(first);
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

// Copies (when a rename cannot: another file system) or renames `from` to
// `to` so that `to` is complete and durable before `from` disappears. Never
// over another file: an archive shared by two journals (or kept across a
// state directory started anew) holds segments of the same names, and the
// archived copy may be the only one. A `to` that is byte for byte `from` (a
// move cut short by a crash) is taken as done.
void move_durably(const std::string& from, const std::string& to) {
  const std::string what = "journal archive: moving " + from;
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    sync_directory_of(what, to);
    sync_directory_of(what, from);
    return;
  }
  if (errno != EXDEV && errno != EEXIST) {
    throw std::runtime_error(what + " to " + to + ": " + std::strerror(errno));
  }
  std::vector<std::uint8_t> bytes;
  if (!read_whole_file(from, bytes)) {
    throw std::runtime_error(what + ": cannot read it: " + std::strerror(errno));
  }
  std::vector<std::uint8_t> there;
  if (read_whole_file(to, there)) {
    if (there != bytes) {
      throw std::runtime_error(what + " to " + to + ": a different file of that name is already archived there " +
                               "(another journal's segment?); not overwriting it. Give this journal its own " +
                               "archive directory");
    }
  } else {
    replace_file_durably(what, to, bytes);
  }
  if (::unlink(from.c_str()) != 0) {
    throw std::runtime_error(what + ": archived, but cannot remove it: " + std::strerror(errno));
  }
  sync_directory_of(what, from);
}

} // namespace

std::string segment_path(const std::string& base, std::uint64_t first_sequence) {
  char digits[kSegmentSequenceDigits + 1];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(first_sequence));
  return base + "." + digits;
}

std::string journal_base(const std::string& path_or_directory) {
  std::error_code error;
  if (fs::is_directory(path_or_directory, error)) {
    return (fs::path(path_or_directory) / "journal").string();
  }
  return path_or_directory;
}

JournalFiles list_journal_files(const std::string& base, const std::vector<std::string>& archive_directories) {
  const std::string base_name = fs::path(base).filename().string();
  std::map<std::uint64_t, std::string> segments;
  // Archived copies first: a segment still in base's directory replaces its
  // copy (an archive move cut short by a crash leaves both, alike).
  for (const std::string& archive : archive_directories) {
    for (const std::uint64_t first : numbered_files(archive, base_name, "")) {
      segments[first] = segment_path((fs::path(archive) / base_name).string(), first);
    }
  }
  for (const std::uint64_t first : numbered_files(directory_of(base), base_name, "")) {
    segments[first] = segment_path(base, first);
  }
  if (is_regular_file(base)) {
    // One segment of a segmented journal named as if it were a whole
    // single-file journal would replay part of the history as all of it.
    if (const std::size_t dot = base_name.rfind('.'); dot != std::string::npos && dot > 0) {
      std::uint64_t first = 0;
      const std::string owner = base_name.substr(0, dot);
      if (parse_segment_name(base_name, owner, "", first)) {
        throw std::runtime_error("journal " + base + " is one segment of the journal " +
                                 (fs::path(base).parent_path() / owner).string() +
                                 ": give the state directory (or that journal's name) to read every segment");
      }
    }
    const std::string first_segment = segment_path(base, 1);
    if (segments.contains(1)) {
      throw std::runtime_error("journal " + base +
                               ": both a single-file journal (an older version's) and the segment " + segments[1] +
                               " exist; keep one of them");
    }
    segments[1] = base;
  }
  JournalFiles files;
  for (const auto& [first, path] : segments) {
    files.segments.push_back({first, path});
  }
  files.indexed_segments = numbered_files(directory_of(base), base_name, ".ids");
  return files;
}

void refuse_missing_last_segments(const JournalFiles& files, const std::string& base) {
  // rotate_segment() writes a segment's id index only once the next segment
  // exists durably, and nothing removes a segment without its successor in
  // place: an index at or after the last segment present proves a later
  // segment was started and is gone (deleted, or not restored), with every
  // record it held. Read without it, the journal would end early and look
  // clean; the next start would even reuse its sequences.
  if (files.indexed_segments.empty()) {
    return;
  }
  const std::uint64_t last_index = files.indexed_segments.back();
  const std::string index = id_index_path(segment_path(base, last_index));
  if (files.segments.empty()) {
    throw std::runtime_error("journal " + base + ": the id index " + index +
                             " shows segments were written and sealed, but no segment is there: the journal was "
                             "deleted (or not restored); refusing to start from nothing. Restore its segments, or "
                             "move the state directory aside to start anew");
  }
  const JournalSegment& last = files.segments.back();
  if (last_index >= last.first_sequence) {
    throw std::runtime_error(
        "journal " + base + ": the id index " + index + " shows the segment from sequence " +
        std::to_string(last_index) + " was sealed and a later one started, but the last segment present is " +
        last.path +
        ": the segment after it is missing (deleted or not restored) with the acknowledged records it "
        "held; refusing to start. Restore it, or move the state directory aside to start anew");
  }
}

bool migrate_single_file_journal(const std::string& base) {
  if (!is_regular_file(base)) {
    return false;
  }
  const std::string first_segment = segment_path(base, 1);
  if (::access(first_segment.c_str(), F_OK) == 0) {
    throw std::runtime_error("journal " + base + ": both a single-file journal (an older version's) and the segment " +
                             first_segment + " exist; keep one of them");
  }
  if (::rename(base.c_str(), first_segment.c_str()) != 0) {
    throw std::runtime_error("journal " + base + ": cannot rename the single-file journal to " + first_segment + ": " +
                             std::strerror(errno));
  }
  sync_directory_of("journal " + base + ": migrating to segments", first_segment);
  return true;
}

// ---- reading a chain ------------------------------------------------------------

SegmentChainReader::SegmentChainReader(std::vector<JournalSegment> segments) : segments_(std::move(segments)) {
  if (segments_.empty()) {
    done_ = true;
    return;
  }
  last_sequence_ = segments_.front().first_sequence - 1;
  reader_ = std::make_unique<JournalReader>(segments_.front().path, segments_.front().first_sequence);
}

bool SegmentChainReader::next(JournalRecord& record) {
  while (!done_) {
    if (reader_->next(record)) {
      last_sequence_ = record.sequence;
      return true;
    }
    const JournalSegment& finished = segments_[current_];
    if (current_ + 1 == segments_.size()) {
      tail_ = reader_->tail(); // the active segment: a torn tail is a crash's
      done_ = true;
      break;
    }
    if (reader_->tail() != TailState::clean) {
      throw std::runtime_error("journal segment " + finished.path + ": sealed but damaged after sequence " +
                               std::to_string(last_sequence_) + " (byte " + std::to_string(reader_->valid_bytes()) +
                               "); restore it from a copy or the archive");
    }
    const JournalSegment& following = segments_[current_ + 1];
    if (following.first_sequence != last_sequence_ + 1) {
      throw std::runtime_error(
          following.first_sequence > last_sequence_ + 1
              ? "journal: sequences " + std::to_string(last_sequence_ + 1) + ".." +
                    std::to_string(following.first_sequence - 1) + " are missing: " + finished.path + " ends at " +
                    std::to_string(last_sequence_) + " and the next segment present is " + following.path +
                    "; restore the segments between them (from the archive)"
              : "journal: " + finished.path + " ends at " + std::to_string(last_sequence_) + " but " + following.path +
                    " starts at " + std::to_string(following.first_sequence) + ": the segments overlap");
    }
    ++current_;
    reader_ = std::make_unique<JournalReader>(following.path, following.first_sequence);
  }
  return false;
}

// ---- writing --------------------------------------------------------------------

std::unique_ptr<JournalWriter> open_active_segment(const std::string& base, std::size_t buffer_bytes) {
  const JournalFiles files = list_journal_files(base);
  if (files.segments.empty()) {
    auto writer = std::make_unique<JournalWriter>(segment_path(base, 1), buffer_bytes, 1);
    sync_directory_of("journal " + base + ": creating the first segment", segment_path(base, 1));
    return writer;
  }
  const JournalSegment& active = files.segments.back();
  return std::make_unique<JournalWriter>(active.path, buffer_bytes, active.first_sequence);
}

bool rotate_segment(JournalWriter& writer, const std::string& base) {
  writer.commit();
  if (writer.last_sequence() < writer.file_first_sequence()) {
    return false; // an empty segment is left to fill: a sealed segment is never empty
  }
  const std::string sealed = writer.path();
  const std::uint64_t sealed_first = writer.file_first_sequence();
  writer.start_segment(segment_path(base, writer.last_sequence() + 1));
  // Read back from the file rather than kept while appending: the index is
  // then exactly what is on disk, built by the same code as at start-up.
  write_id_index(id_index_path(segment_path(base, sealed_first)), build_id_index(sealed, sealed_first));
  return true;
}

std::size_t archive_sealed_segments(const std::string& base, const std::string& archive_directory,
                                    std::uint64_t covered_sequence) {
  const JournalFiles files = list_journal_files(base);
  const std::string base_name = fs::path(base).filename().string();
  std::size_t moved = 0;
  for (std::size_t i = 0; i + 1 < files.segments.size(); ++i) {
    const JournalSegment& segment = files.segments[i];
    const std::uint64_t last = files.segments[i + 1].first_sequence - 1;
    if (last > covered_sequence) {
      break; // this and every later segment hold records the snapshot does not cover
    }
    if (segment.path == base) {
      continue; // a single-file journal not migrated yet: the engine renames it first
    }
    // Only with its index in place: start-up needs the ids, not the records.
    std::string problem;
    const std::optional<SegmentIdIndex> index = read_id_index(id_index_path(segment.path), problem);
    if (!index || index->first_sequence != segment.first_sequence || index->last_sequence != last) {
      continue;
    }
    if (moved == 0) {
      fs::create_directories(archive_directory);
    }
    move_durably(segment.path,
                 segment_path((fs::path(archive_directory) / base_name).string(), segment.first_sequence));
    ++moved;
  }
  return moved;
}

} // namespace synthusd::engine
