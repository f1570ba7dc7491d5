#pragma once
// Configuration text the config tests share.

namespace synthusd::engine::test_support {

// Two venues with one instrument each, 19 lines: okx (BTC-USD-SWAP, $100
// contracts) and deribit (BTC-PERPETUAL, $10). Tests append their sections
// from line 20 on.
inline constexpr const char* kTwoVenueKernel = R"([[venues]]
id = 1
name = "okx"

[[venues]]
id = 2
name = "deribit"

[[instruments]]
id = 1
venue = "okx"
symbol = "BTC-USD-SWAP"
contract_value_usd = 100

[[instruments]]
id = 2
venue = "deribit"
symbol = "BTC-PERPETUAL"
contract_value_usd = 10
)";

} // namespace synthusd::engine::test_support
