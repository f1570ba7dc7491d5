#pragma once
// Private to the gateway session's C++14 translation units (QuickFIX types).
// Sets a reused message's field values in place, so that building an order
// allocates nothing once the message has been prepared.
//
// QuickFIX's own setters allocate: setField(tag, value) copies the value into
// a temporary FieldBase, and its typed fields (TransactTime, OrderQty...)
// convert to a fresh std::string. A FieldBase already in the message keeps
// its string, and FieldBase::setString assigns into that string, which keeps
// its capacity. So the fields of a reused message are added once, each with
// kReservedValueCapacity characters of room, and afterwards only overwritten:
// the value passes through one scratch string of the same reserved capacity
// (setString takes a std::string), and neither assignment allocates.

#include <quickfix/Field.h>
#include <quickfix/FieldMap.h>

#include <cstddef>
#include <string>

namespace synthusd { // NOLINT(modernize-concat-nested-namespaces)
namespace fix {
namespace gateway_detail {

class MessageFieldWriter {
public:
  // Room for any value the order path writes: a ClOrdID (at most 64, like
  // IdText), a symbol, a decimal, a timestamp.
  static constexpr std::size_t kReservedValueCapacity = 64;

  MessageFieldWriter() { scratch_.reserve(kReservedValueCapacity); }
  MessageFieldWriter(const MessageFieldWriter&) = delete;
  MessageFieldWriter& operator=(const MessageFieldWriter&) = delete;

  // Preparation (allocates): adds the tags to the message, each with a
  // value string that has the reserved room, then empties them for set().
  // All are added before any is emptied: growing the field vector copies
  // its fields, and a copy's string has only the room its value needs.
  static void add_reserved(FIX::FieldMap& message, const int* tags, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      message.setField(FIX::FieldBase(tags[i], std::string(kReservedValueCapacity, ' ')));
    }
    const std::string empty;
    for (std::size_t i = 0; i < count; ++i) {
      find(message, tags[i])->setString(empty);
    }
  }

  // Overwrites the value of a field add_reserved() added. A value longer
  // than the reserved room still works (the string grows once). A field the
  // message lacks is added (allocating): prepared messages never take that
  // branch, and it keeps a mistake in preparation a slow path, not a bug.
  void set(FIX::FieldMap& message, int tag, const char* value, std::size_t size) {
    scratch_.assign(value, size);
    FIX::FieldBase* field = find(message, tag);
    if (field == nullptr) {
      message.setField(FIX::FieldBase(tag, scratch_));
      return;
    }
    field->setString(scratch_);
  }
  void set(FIX::FieldMap& message, int tag, char value) { set(message, tag, &value, 1); }
  void set(FIX::FieldMap& message, int tag, const std::string& value) { set(message, tag, value.data(), value.size()); }

private:
  static FIX::FieldBase* find(FIX::FieldMap& message, int tag) {
    for (FIX::FieldBase& field : message) {
      if (field.getTag() == tag) {
        return &field;
      }
    }
    return nullptr;
  }

  std::string scratch_;
};

} // namespace gateway_detail
} // namespace fix
} // namespace synthusd
