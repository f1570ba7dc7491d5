#pragma once
// One line per gateway alert, for operators: everything the alert carries
// that an operator needs to act, as key=value pairs in a fixed order, with
// only the fields that are present. For example
//   session_reject RefMsgType=D RefTagID=44 reason=1 ClOrdID=SU12 order=7
//   RefSeqNum=31 text="Required tag missing"
// Values are printed as received; text is quoted with control characters
// escaped (\xNN), so a venue's text cannot forge a second log line.

#include <string>

#include "synthusd/fix/gateway_types.hpp"

namespace synthusd::fix {

[[nodiscard]] std::string describe(const GatewayAlert& alert);

} // namespace synthusd::fix
