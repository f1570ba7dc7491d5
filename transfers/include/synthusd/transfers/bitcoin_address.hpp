#pragma once
// A Bitcoin address as the output script it pays (the scriptPubKey, hex):
// how a send is found in Core Lightning's `listtransactions`, which lists
// each output's scriptPubKey and amount but not its address.
//
// Decoded: bech32 (BIP 173, witness v0) and bech32m (BIP 350, v1+, taproot)
// with any human-readable part (bc, tb, bcrt), checksum verified; base58check
// P2PKH / P2SH for mainnet (versions 0x00 / 0x05) and testnet/regtest (0x6f /
// 0xc4), checksum verified (double SHA-256). Anything else: nullopt, so a
// send to it is never "found" (the executor then holds the transfer for the
// operator rather than guessing).

#include <optional>
#include <string>
#include <string_view>

namespace synthusd::transfers {

// Lowercase hex of the scriptPubKey `address` pays, or nullopt when it is not
// a well-formed address of a kind listed above.
[[nodiscard]] std::optional<std::string> script_pubkey_hex(std::string_view address);

} // namespace synthusd::transfers
