"""A TEST DOUBLE of lnd's on-chain wallet REST API, for end-to-end tests of
collateral transfers against the venue simulator's wallet (synthusd-venue
[wallet] enabled). Not lnd: only what the transfer executor calls, shaped
after lnd's REST documentation (grpc-gateway JSON, int64 fields as strings):

  GET  /v1/newaddress?type=WITNESS_PUBKEY_HASH -> {"address": "..."}
  POST /v1/transactions {"addr","amount","label"} (SendCoins) -> {"txid": "..."}
  GET  /v1/transactions (GetTransactions) -> {"transactions": [{"tx_hash",
       "amount", "num_confirmations", "time_stamp", "label",
       "output_details": [{"address", "amount", "is_our_address", ...}], ...}]}

Every call needs the macaroon, hex, in the Grpc-Metadata-macaroon header;
errors are lnd's {"code": 2, "message": ...} with HTTP 500. A send is
"broadcast" by POSTing it to the simulator's test chain (/chain/broadcast);
incoming transactions are the chain's (/chain/transactions) to addresses this
wallet handed out. Sends are counted (per label too) so that tests can assert
that no transfer was sent twice, and can be held at the door (hold_sends) so
that a test can kill the engine while a send is in flight, deterministically.

With a certificate and key (tls_cert/tls_key, --tls-cert/--tls-key) it
serves HTTPS, as lnd always does on its REST port (its self-signed tls.cert,
which clients pin); without, plain HTTP for loopback tests.

Standard library only. Use in process (FakeLndWallet(...).start()) or run it:
  python3 tests/support/fake_lnd_wallet.py --chain http://127.0.0.1:N \
      --macaroon-file admin.macaroon --balance-sats 100000000 [--tls-cert tls.cert --tls-key tls.key]
which prints "fake lnd wallet on port M" and serves until killed.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import ssl
import threading
import time
import urllib.error
import urllib.request

MAX_BODY = 64 * 1024


class TlsHttpServer(http.server.ThreadingHTTPServer):
    """HTTPS with the handshake in each connection's own thread (a client that
    stalls in it holds up no other), failures counted."""

    def __init__(self, address, handler, context: ssl.SSLContext) -> None:
        super().__init__(address, handler)
        self.context = context
        self.handshake_failures = 0

    def get_request(self):
        sock, address = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def finish_request(self, request, client_address) -> None:
        request.settimeout(5)
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            self.handshake_failures += 1
            return
        super().finish_request(request, client_address)


class FakeLndWallet:
    def __init__(self, chain_url: str, macaroon_hex: str, balance_sats: int, port: int = 0,
                 tls_cert: str | None = None, tls_key: str | None = None,
                 chain_context: ssl.SSLContext | None = None) -> None:
        self.chain_url = chain_url.rstrip("/")
        self.chain_context = chain_context  # an https:// chain_url (the venue's wallet over TLS)
        self.macaroon_hex = macaroon_hex
        self.balance_sats = balance_sats
        self.lock = threading.Lock()
        self.addresses: list[str] = []
        self.sends: list[dict] = []          # every send that reached the chain
        self.sends_by_label: dict[str, int] = {}
        self.send_requests = 0               # sendcoins calls, sent or not
        self.hold_sends = False              # park sendcoins until release_held()
        self.drop_held = False               # a released held send is not sent
        self.held = threading.Event()        # set while a send is parked
        # GetTransactions answers lnd's error (500) this many more times, as a
        # restarting lnd does before its wallet is unlocked; counted when given.
        self.failing_lookups = 0
        self.failed_lookups = 0
        self._release = threading.Event()
        wallet = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.close_connection = True
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the caller went away (a test killed it mid-request)

            def _authorised(self) -> bool:
                given = self.headers.get("Grpc-Metadata-macaroon")
                if given is None:
                    self._answer(500, {"code": 2, "message": "expected 1 macaroon, got 0"})
                    return False
                if given != wallet.macaroon_hex:
                    self._answer(500, {"code": 2, "message": "verification failed: signature mismatch"})
                    return False
                return True

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                if path == "/test/state":
                    self._answer(200, wallet.state())
                    return
                if not self._authorised():
                    return
                if path == "/v1/newaddress":
                    self._answer(200, {"address": wallet.new_address()})
                elif path == "/v1/transactions":
                    with wallet.lock:
                        failing = wallet.failing_lookups > 0
                        if failing:
                            wallet.failing_lookups -= 1
                            wallet.failed_lookups += 1
                    if failing:
                        self._answer(500, {"code": 2, "message": "wallet locked, unlock it to enable full RPC access"})
                    else:
                        self._answer(200, {"transactions": wallet.transactions()})
                else:
                    self._answer(404, {"code": 5, "message": "Not Found"})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._answer(500, {"code": 3, "message": "request too large"})
                    return
                body = self.rfile.read(length)
                if not self._authorised():
                    return
                if self.path.split("?", 1)[0] != "/v1/transactions":
                    self._answer(404, {"code": 5, "message": "Not Found"})
                    return
                try:
                    request = json.loads(body)
                    address, sats = str(request["addr"]), int(request["amount"])
                    label = str(request.get("label", ""))
                except (ValueError, KeyError, TypeError) as error:
                    self._answer(500, {"code": 3, "message": f"invalid request: {error}"})
                    return
                status, answer = wallet.send_coins(address, sats, label)
                self._answer(status, answer)

        if tls_cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls_cert, tls_key)
            self.server: http.server.ThreadingHTTPServer = TlsHttpServer(("127.0.0.1", port), Handler, context)
        else:
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "FakeLndWallet":
        self.thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    # ---- the wallet ----

    def new_address(self) -> str:
        with self.lock:
            address = f"simnode{len(self.addresses) + 1}"
            self.addresses.append(address)
            return address

    def release_held(self) -> None:
        self._release.set()

    def send_coins(self, address: str, sats: int, label: str) -> tuple[int, dict]:
        with self.lock:
            self.send_requests += 1
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
                    return 500, {"code": 14, "message": "dropped by the test before broadcast"}
        with self.lock:
            if sats <= 0 or sats > self.balance_sats:
                return 500, {"code": 2, "message": "insufficient funds available to construct transaction"}
            txid = hashlib.sha256(f"{label}/{address}/{sats}/{len(self.sends)}".encode()).hexdigest()
            payload = json.dumps({"txid": txid, "address": address, "amount": str(sats)}).encode()
            request = urllib.request.Request(self.chain_url + "/chain/broadcast", data=payload, method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=5, context=self.chain_context) as answer:
                    answer.read()
            except (urllib.error.URLError, OSError) as error:
                return 500, {"code": 2, "message": f"broadcast failed: {error}"}
            self.balance_sats -= sats
            self.sends.append({"txid": txid, "address": address, "sats": sats, "label": label,
                               "time": int(time.time())})
            self.sends_by_label[label] = self.sends_by_label.get(label, 0) + 1
            return 200, {"txid": txid}

    def _chain(self) -> list[dict]:
        try:
            with urllib.request.urlopen(self.chain_url + "/chain/transactions", timeout=5,
                                        context=self.chain_context) as answer:
                return json.loads(answer.read())["transactions"]
        except (urllib.error.URLError, OSError, ValueError, KeyError):
            return []

    def transactions(self) -> list[dict]:
        chain = self._chain()
        with self.lock:
            out = []
            for send in self.sends:
                out.append({
                    "tx_hash": send["txid"], "amount": str(-send["sats"]), "num_confirmations": 1,
                    "block_hash": "", "block_height": 100, "time_stamp": str(send["time"]), "total_fees": "0",
                    "dest_addresses": [send["address"]], "raw_tx_hex": "", "label": send["label"],
                    "output_details": [{"output_type": "SCRIPT_TYPE_WITNESS_V0_PUB_KEY_HASH",
                                        "address": send["address"], "pk_script": "", "output_index": "0",
                                        "amount": str(send["sats"]), "is_our_address": False}],
                    "previous_outpoints": []})
            ours = set(self.addresses)
            for tx in chain:
                if tx.get("address") in ours:
                    out.append({
                        "tx_hash": tx["txid"], "amount": tx["amount"], "num_confirmations": 1, "block_hash": "",
                        "block_height": 100, "time_stamp": str(tx.get("time_ms", 0) // 1000), "total_fees": "0",
                        "dest_addresses": [tx["address"]], "raw_tx_hex": "", "label": "",
                        "output_details": [{"output_type": "SCRIPT_TYPE_WITNESS_V0_PUB_KEY_HASH",
                                            "address": tx["address"], "pk_script": "", "output_index": "0",
                                            "amount": tx["amount"], "is_our_address": True}],
                        "previous_outpoints": []})
            return out

    def received_sats(self) -> int:
        """What the chain paid to addresses this wallet handed out."""
        with self.lock:
            ours = set(self.addresses)
        return sum(int(tx["amount"]) for tx in self._chain() if tx.get("address") in ours)

    def state(self) -> dict:
        with self.lock:
            return {"sends": len(self.sends), "send_requests": self.send_requests,
                    "sends_by_label": dict(self.sends_by_label), "balance_sats": self.balance_sats,
                    "held": self.held.is_set()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chain", required=True, help="the simulator's wallet URL, http://127.0.0.1:N")
    parser.add_argument("--macaroon-file", required=True)
    parser.add_argument("--balance-sats", type=int, default=100_000_000)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (lnd's tls.cert)")
    parser.add_argument("--tls-key", help="its private key (lnd's tls.key)")
    args = parser.parse_args()
    with open(args.macaroon_file, "rb") as f:
        macaroon_hex = f.read().hex()
    wallet = FakeLndWallet(args.chain, macaroon_hex, args.balance_sats, args.port, args.tls_cert, args.tls_key)
    print(f"fake lnd wallet on port {wallet.port}", flush=True)
    try:
        wallet.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
