#pragma once
// Deribit's account equity over FIX, as the venue speaks it: User Request
// (BE) with UserRequestType(924)=4, answered by a User Response (BF)
// instead of a CollateralReport (docs.deribit.com/fix-api/production/
// user-request and user-response). Private to the venue; fix_messages.cpp
// dispatches to it.

#include <optional>
#include <string>

#include "synthusd/venue/fix_server.hpp"
#include "synthusd/venue/matching_engine.hpp"

namespace synthusd::venue {

// The inquiry a BE asks for (923 UserRequestID echoed, user_request set), or
// nothing with `problem` saying why (924 other than 4).
[[nodiscard]] std::optional<CollateralInquiry> decode_user_request(const InboundMessage& message, std::string& problem);

// BF: 923, 553 (the account), 926=1 (logged in), 15=BTC, 100001 equity,
// 100002 balance, 100003 initial margin, 100004 maintenance margin (BTC).
[[nodiscard]] OutboundMessage encode_user_response(const CollateralEvent& event);

} // namespace synthusd::venue
