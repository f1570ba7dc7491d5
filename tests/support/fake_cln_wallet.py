"""A TEST DOUBLE of Core Lightning's on-chain wallet over its JSON-RPC socket
(lightning-rpc), for end-to-end tests of collateral transfers against the
venue simulator's wallet (synthusd-venue --wallet true). Not lightningd: only
what the transfer executor calls, shaped after CLN's schemas
(doc/schemas/newaddr.json, withdraw.json, listtransactions.json,
listfunds.json) and lightningd-rpc(7): JSON-RPC 2.0 on a unix socket, every
response followed by "\\n\\n", errors {"code", "message"}:

  newaddr {addresstype}                -> {"bech32": "bcrt1q..."}
  withdraw {destination, satoshi, feerate?} -> {"tx", "txid", "psbt"}; 301 "Could not afford ..."
  listtransactions {}                  -> {"transactions": [{"hash", "blockheight", ..., "outputs":
                                           [{"index", "amount_msat", "scriptPubKey"}]}]}
  listfunds {spent?}                   -> {"outputs": [{"txid", "output", "amount_msat",
                                           "scriptpubkey", "address", "status", ...}], "channels": []}

`legacy` answers as versions before v23.11: amounts as "NNNmsat" strings.
A send is "broadcast" by POSTing it to the simulator's test chain
(/chain/broadcast); incoming outputs are the chain's (/chain/transactions) to
addresses this wallet handed out. Sends are counted (per destination and
amount: CLN has no label) and can be held at the door (hold_sends) so that a
test can kill the engine while a send is in flight, deterministically.
`failing_lookups` makes the next listtransactions / listfunds calls answer
CLN's error -5 (LIGHTNINGD_SHUTDOWN in CLN's common/jsonrpc_errors.h: the
node was shutting down while handling the request; the message is this
double's wording, the engine passes on whatever CLN says), as a node
restarted alongside the engine does; counted in `failed_lookups`.

Output scripts are computed here from the addresses (BIP 173 bech32 decoding,
written for this double), independently of the engine's decoder.

Standard library only. Use in process: FakeClnWallet(chain_url, socket_path).start().
"""

from __future__ import annotations

import hashlib
import json
import os
import socketserver
import threading
import urllib.error
import urllib.request

MAX_REQUEST = 64 * 1024
CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _polymod(values: list[int]) -> int:
    generator = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = ((checksum & 0x1FFFFFF) << 5) ^ value
        for i in range(5):
            if (top >> i) & 1:
                checksum ^= generator[i]
    return checksum


def _expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _regroup(data: list[int], source: int, target: int, pad: bool) -> list[int] | None:
    accumulator, bits, out = 0, 0, []
    for value in data:
        accumulator = (accumulator << source) | value
        bits += source
        while bits >= target:
            bits -= target
            out.append((accumulator >> bits) & ((1 << target) - 1))
    if pad and bits:
        out.append((accumulator << (target - bits)) & ((1 << target) - 1))
    elif not pad and (bits >= source or (accumulator << (target - bits)) & ((1 << target) - 1)):
        return None
    return out


def bech32_address(hrp: str, program: bytes) -> str:
    """A witness v0 address (bech32)."""
    data = [0] + _regroup(list(program), 8, 5, True)
    checksum = _polymod(_expand(hrp) + data + [0] * 6) ^ 1
    return hrp + "1" + "".join(CHARSET[d] for d in data + [(checksum >> 5 * (5 - i)) & 31 for i in range(6)])


def script_of(address: str) -> str | None:
    """The scriptPubKey (hex) a bech32 / bech32m address pays, or None."""
    address = address.lower()
    at = address.rfind("1")
    if at < 1:
        return None
    try:
        data = [CHARSET.index(c) for c in address[at + 1:]]
    except ValueError:
        return None
    if len(data) < 7:
        return None
    constant = _polymod(_expand(address[:at]) + data)
    version = data[0]
    if constant != (1 if version == 0 else 0x2BC830A3):
        return None
    program = _regroup(data[1:-6], 5, 8, False)
    if program is None:
        return None
    return bytes([0 if version == 0 else 0x50 + version, len(program)] + program).hex()


class FakeClnWallet:
    def __init__(self, chain_url: str, socket_path: str, balance_sats: int, legacy: bool = False) -> None:
        self.chain_url = chain_url.rstrip("/")
        self.socket_path = socket_path
        self.balance_sats = balance_sats
        self.legacy = legacy
        self.lock = threading.Lock()
        self.addresses: list[str] = []
        self.sends: list[dict] = []          # every send that reached the chain
        self.withdraw_requests = 0           # withdraw calls, sent or not
        self.hold_sends = False              # park withdraw until release_held()
        self.drop_held = False               # a released held send is not sent
        self.held = threading.Event()        # set while a send is parked
        self.failing_lookups = 0             # answer this many more lookups with CLN's error -5
        self.failed_lookups = 0
        self._release = threading.Event()
        wallet = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                decoder = json.JSONDecoder()
                buffer = ""
                while True:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return
                    buffer += chunk.decode()
                    if len(buffer) > MAX_REQUEST:
                        return
                    try:
                        request, _ = decoder.raw_decode(buffer.strip())
                        break
                    except ValueError:
                        continue
                reply = {"jsonrpc": "2.0", "id": request.get("id")}
                reply.update(wallet.answer(str(request.get("method")), request.get("params") or {}))
                try:
                    self.request.sendall(json.dumps(reply).encode() + b"\n\n")
                except OSError:
                    pass  # the caller went away (a test killed it mid-request)

        if os.path.exists(socket_path):
            os.unlink(socket_path)
        self.server = socketserver.ThreadingUnixStreamServer(socket_path, Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "FakeClnWallet":
        self.thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
        if os.path.exists(self.socket_path):
            os.unlink(self.socket_path)

    def release_held(self) -> None:
        self._release.set()

    def _msat(self, msat: int):
        return f"{msat}msat" if self.legacy else msat

    @staticmethod
    def _error(code: int, message: str) -> dict:
        return {"error": {"code": code, "message": message}}

    def answer(self, method: str, params: dict) -> dict:
        if method == "newaddr":
            kind = params.get("addresstype", "p2tr")
            if kind != "bech32":
                return self._error(-32602, "addresstype: this double hands out bech32 only")
            with self.lock:
                program = hashlib.sha256(f"clnnode{len(self.addresses) + 1}".encode()).digest()[:20]
                address = bech32_address("bcrt", program)
                self.addresses.append(address)
            return {"result": {"bech32": address}}
        if method == "withdraw":
            destination, sats = params.get("destination"), params.get("satoshi")
            if not isinstance(destination, str) or not isinstance(sats, int) or sats <= 0:
                return self._error(-32602, "destination or satoshi: Invalid argument")
            if script_of(destination) is None:
                return self._error(-32602, "Could not parse destination address, destination should be a valid address")
            return self.withdraw(destination, sats)
        if method in ("listtransactions", "listfunds") and self._lookup_fails():
            return self._error(-5, "lightningd is shutting down")
        if method == "listtransactions":
            with self.lock:
                sends = list(self.sends)
            return {"result": {"transactions": [{
                "hash": send["txid"], "rawtx": "0200000001", "blockheight": 100 + i, "txindex": 1, "locktime": 0,
                "version": 2, "inputs": [{"txid": "e" * 64, "index": 0, "sequence": 4294967293}],
                "outputs": [{"index": 0, "amount_msat": self._msat(send["sats"] * 1000),
                             "scriptPubKey": script_of(send["address"])}]} for i, send in enumerate(sends)]}}
        if method == "listfunds":
            return {"result": {"outputs": self.funds(), "channels": []}}
        return self._error(-32601, f"Unknown command '{method}'")

    def _lookup_fails(self) -> bool:
        with self.lock:
            if self.failing_lookups <= 0:
                return False
            self.failing_lookups -= 1
            self.failed_lookups += 1
            return True

    def funds(self) -> list[dict]:
        """listfunds' outputs: what the chain paid to addresses this wallet handed out."""
        with self.lock:
            ours = set(self.addresses)
        return [{"txid": self.txid_of(tx["txid"]), "output": 0, "amount_msat": self._msat(int(tx["amount"]) * 1000),
                 "scriptpubkey": script_of(tx["address"]), "address": tx["address"], "status": "confirmed",
                 "blockheight": 141, "reserved": False} for tx in self._chain() if tx.get("address") in ours]

    def withdraw(self, destination: str, sats: int) -> dict:
        with self.lock:
            self.withdraw_requests += 1
            hold = self.hold_sends
        if hold:
            self.held.set()
            self._release.wait()
            self._release.clear()
            self.held.clear()
            with self.lock:
                self.hold_sends = False
                if self.drop_held:
                    self.drop_held = False
                    return self._error(-1, "dropped by the test before broadcast")
        with self.lock:
            if sats > self.balance_sats:
                return self._error(301, f"Could not afford {sats}sat using all 1 available UTXOs: "
                                        f"{sats - self.balance_sats}sat short")
            txid = hashlib.sha256(f"{destination}/{sats}/{len(self.sends)}".encode()).hexdigest()
            payload = json.dumps({"txid": txid, "address": destination, "amount": str(sats)}).encode()
            request = urllib.request.Request(self.chain_url + "/chain/broadcast", data=payload, method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    answer.read()
            except (urllib.error.URLError, OSError) as error:
                return self._error(-1, f"broadcast failed: {error}")
            self.balance_sats -= sats
            self.sends.append({"txid": txid, "address": destination, "sats": sats})
            return {"result": {"tx": "02000000000101" + "a" * 40, "txid": txid, "psbt": "cHNidP8BAgQCAAAAAQMEbwAAAAEE"}}

    @staticmethod
    def txid_of(chain_txid: str) -> str:
        """The txid as CLN shows it (64 hex): the simulator's chain names its
        own withdrawals "simwithdrawalN", which a real node never reports."""
        if len(chain_txid) == 64 and all(c in "0123456789abcdef" for c in chain_txid):
            return chain_txid
        return hashlib.sha256(chain_txid.encode()).hexdigest()

    def _chain(self) -> list[dict]:
        try:
            with urllib.request.urlopen(self.chain_url + "/chain/transactions", timeout=5) as answer:
                return json.loads(answer.read())["transactions"]
        except (urllib.error.URLError, OSError, ValueError, KeyError):
            return []

    def received_sats(self) -> int:
        """What the chain paid to addresses this wallet handed out."""
        with self.lock:
            ours = set(self.addresses)
        return sum(int(tx["amount"]) for tx in self._chain() if tx.get("address") in ours)
