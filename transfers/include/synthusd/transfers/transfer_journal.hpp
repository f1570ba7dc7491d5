#pragma once
// The collateral transfers' own durable record: one line per step, each
// written and fsynced before the step's effect is attempted (or, for what a
// counterparty reports, right after it said so). A restart reads the file
// back and resumes every transfer from its last journaled step, so a crash
// at any point repeats at most a question to the node or the venue, never a
// send (transfer_executor.hpp says how a send interrupted mid-way is found).
//
// Format (text, for an operator to read): "<transfer id> <step> <fields>\n",
// fields separated by single spaces, none empty or containing a space. A
// last line without its newline was torn by a crash: it is cut off on open,
// as its step was never acted on.

#include <cstdint>
#include <string>
#include <vector>

namespace synthusd::transfers {

struct JournalLine {
  std::uint64_t transfer_id = 0;
  std::string step;
  std::vector<std::string> fields;
};

class TransferJournal {
public:
  // Opens (creating) `path` and reads it; throws std::runtime_error when it
  // cannot, or when a complete line is malformed (never guessed around).
  explicit TransferJournal(std::string path);
  ~TransferJournal();
  TransferJournal(const TransferJournal&) = delete;
  TransferJournal& operator=(const TransferJournal&) = delete;

  // The lines read at open, in order.
  [[nodiscard]] const std::vector<JournalLine>& history() const noexcept { return history_; }
  // Appends one line and fsyncs it. False (and nothing should be done
  // about the step) when it could not be made durable; `error` says why.
  bool append(const JournalLine& line, std::string& error);

private:
  std::string path_;
  int fd_ = -1;
  std::vector<JournalLine> history_;
};

} // namespace synthusd::transfers
