#pragma once
// Private to the C++14 QuickFIX translation units (it shows QuickFIX types):
// a small programmatic data dictionary that teaches QuickFIX's parser the
// repeating groups the gateway reads.
//
// Without a dictionary QuickFIX 1.15.1 stores every field of a message in
// tag order, which scrambles repeating groups (PositionReport's NoPositions,
// OrderMassCancelReport's NoAffectedOrders) and then rejects a second group
// entry as a repeated tag. FIX44.xml is not installed by Debian, and full
// dictionary validation costs time on every message, so this dictionary
// defines groups only: no version, so QuickFIX skips message-type, required
// field and value checks (DataDictionary::validate runs those only when a
// version is set).

#include <quickfix/DataDictionary.h>
#include <quickfix/DataDictionaryProvider.h>

namespace synthusd {
namespace fix {

FIX::DataDictionary make_gateway_dictionary();

// A provider serving make_gateway_dictionary() for FIX.4.4.
FIX::DataDictionaryProvider make_gateway_dictionary_provider();

} // namespace fix
} // namespace synthusd
