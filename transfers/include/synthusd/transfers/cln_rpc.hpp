#pragma once
// One call to Core Lightning's JSON-RPC over its unix socket (lightning-rpc,
// lightningd-rpc(7)): a JSON-RPC 2.0 request with named params; lightningd
// answers {"jsonrpc":"2.0","id":...,"result":{...}} or {..."error":{"code",
// "message"}} and ends every response with two '\n' characters, which is
// where the read stops. One connection per call, bounded in time (the whole
// call) and size (the reply), for the executor's I/O thread, where a call may
// block for a bounded time (transfer_executor.hpp).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace synthusd::transfers {

struct ClnRpcEndpoint {
  std::string socket_path; // <lightning-dir>/<network>/lightning-rpc
  std::chrono::milliseconds timeout{5000};
  // listtransactions carries every wallet transaction's raw hex: a busy node's
  // answer is megabytes. Larger than this, the call fails rather than grow.
  std::size_t max_reply_bytes = 16U << 20U;
};

struct ClnRpcResult {
  bool ok = false;                  // a "result" arrived
  std::string result;               // its JSON text (an object: every method called here answers one)
  std::optional<std::int64_t> code; // CLN's error code (e.g. 301 for withdraw's "Could not afford")
  std::string error; // "<method>: ..." naming the RPC, CLN's code and message, or the transport's failure
};

// `params_json` is a JSON object (named parameters), written as given: the
// caller builds it from checked tokens only.
[[nodiscard]] ClnRpcResult cln_rpc_call(const ClnRpcEndpoint& endpoint, std::string_view method,
                                        std::string_view params_json);

// A CLN msat amount as its raw JSON token: the integer of v23.11 and later
// (`123000`) or the string of earlier versions (`"123000msat"`). Exact: no
// sign, no fraction, no overflow of int64; anything else nullopt.
[[nodiscard]] std::optional<std::int64_t> parse_cln_msat(std::string_view raw_json_token);

} // namespace synthusd::transfers
