"""What the collateral-transfer end-to-end tests share, whichever node the
operator runs (run_transfers_e2e_test.py: lnd; run_transfers_cln_e2e_test.py:
Core Lightning): the venue simulator with its wallet on, the optional relay
that holds private/withdraw (tests/support/held_venue_wallet.py), the engine
with [transfers] on, and the journal and metrics the tests read.

TransferSetup is the whole arrangement less the node: a subclass starts its
node in start_node() and returns the node's [transfers] keys.
"""

from __future__ import annotations

import base64
import json
import os
import re
import ssl
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))
from engine_harness import Engine, Venue, WalletClient, engine_config  # noqa: E402
from held_venue_wallet import HeldVenueWallet  # noqa: E402

# run_tests() replaces these with the binaries ctest passes.
BINARIES = {"synthusd": "build/synthusd", "venue": "build/synthusd-venue"}
CLIENT_ID, CLIENT_SECRET = "transfer-test", "wallet-secret-not-for-production"


def read(path: str) -> str:
    with open(path) as f:
        return f.read()


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class WalletVenue(Venue):
    """synthusd-venue with its wallet on, at a fixed price (no GBM moves)."""

    def __init__(self, binary: str, directory: str, collateral: str, credit_delay_ms: int,
                 withdrawal_delay_ms: int = 1000, tls: tuple[str, str] | None = None) -> None:
        """tls: (certificate, key) files: the wallet API is served over TLS
        (--wallet-tls-cert/--wallet-tls-key), as Deribit's is HTTPS."""
        tls_args = ["--wallet-tls-cert", tls[0], "--wallet-tls-key", tls[1]] if tls else []
        super().__init__(binary, directory, "--volatility", "0", "--jumps-per-year", "0", "--wallet", "true",
                         "--wallet-client-id", CLIENT_ID, "--wallet-client-secret", CLIENT_SECRET,
                         "--wallet-credit-delay-ms", str(credit_delay_ms),
                         "--wallet-withdrawal-delay-ms", str(withdrawal_delay_ms), *tls_args,
                         collateral=collateral, wallet=True)
        self.context: ssl.SSLContext | None = None
        if tls:
            # The test's own calls and the fake node's broadcasts trust only
            # the venue's certificate. It names localhost, reached here at
            # 127.0.0.1, so the name is not checked on this side; the
            # engine's client checks it (venue_tls_server_name).
            self.context = ssl.create_default_context(cafile=tls[0])
            self.context.check_hostname = False

    @property
    def url(self) -> str:
        return f"{'https' if self.context else 'http'}://127.0.0.1:{self.wallet_port}"

    def private(self, method: str) -> dict:
        request = urllib.request.Request(self.url + "/api/v2/private/" + method)
        token = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        request.add_header("Authorization", "Basic " + token)
        with urllib.request.urlopen(request, timeout=5, context=self.context) as answer:
            return json.loads(answer.read())["result"]

    def deposits(self) -> list[dict]:
        return self.private("get_deposits?currency=BTC&count=1000")["data"]

    def withdrawals(self) -> list[dict]:
        return self.private("get_withdrawals?currency=BTC&count=1000")["data"]

    def withdrawal_to(self, address: str) -> dict | None:
        found = [w for w in self.withdrawals() if w["address"] == address]
        return found[0] if len(found) == 1 else None

    def top_up(self, sats: int) -> str:
        """An outside deposit to the account (someone else's wallet), on the test chain."""
        self.top_ups = getattr(self, "top_ups", 0) + 1
        txid = f"{self.top_ups:064x}"
        address = self.private("get_current_deposit_address?currency=BTC")["address"]
        payload = json.dumps({"txid": txid, "address": address, "amount": str(sats)}).encode()
        request = urllib.request.Request(self.url + "/chain/broadcast", data=payload, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5, context=self.context) as answer:
            answer.read()
        return txid

    def deposit_state(self, txid: str) -> str | None:
        for deposit in self.deposits():
            if deposit["transaction_id"] == txid:
                return deposit["state"]
        return None


class TransferSetup:
    """Venue, node and engine in one temporary directory."""

    def __init__(self, collateral: str, credit_delay_ms: int, credit_timeout_seconds: int = 600,
                 low_bounds: tuple[int, int] = (0, 1), relay: bool = False,
                 withdrawal_delay_ms: int = 1000, timeout_ms: int = 5000, poll_ms: int = 100) -> None:
        self.directory = tempfile.mkdtemp(prefix="sutr", dir="/tmp")
        self.venue = WalletVenue(BINARIES["venue"], self.directory, collateral, credit_delay_ms, withdrawal_delay_ms,
                                 tls=self.venue_tls())
        # relay: the engine reaches the venue's wallet API through a relay
        # that can hold private/withdraw (plain HTTP on loopback only).
        self.relay = HeldVenueWallet(self.venue.url).start() if relay else None
        node_keys = self.start_node()
        venue_port = self.relay.port if self.relay else self.venue.wallet_port
        os.environ["SYNTHUSD_VENUE_CLIENT_ID"] = CLIENT_ID
        os.environ["SYNTHUSD_VENUE_CLIENT_SECRET"] = CLIENT_SECRET
        # low_bounds (0, 1): deposits only, leverage never falls below 0 (no
        # withdrawal of the starting collateral before liabilities arrive).
        extra = f"""
[collateral]
low_bound = {low_bounds[0]}
low_safe_bound = {low_bounds[1]}
high_safe_bound = 3
high_bound = 4
minimum_transfer_usd = 100

[transfers]
enabled = true
venue = "deribit"
venue_host = "127.0.0.1"
venue_port = {venue_port}
{node_keys}credit_timeout_seconds = {credit_timeout_seconds}
poll_ms = {poll_ms}
timeout_ms = {timeout_ms}
"""
        self.config = engine_config(self.directory, self.venue, extra=extra)
        self.journal = os.path.join(self.directory, "state", "transfers.journal")
        self.engine = Engine(BINARIES["synthusd"], self.config, self.directory)
        self.wallet: WalletClient | None = None
        self.liability_cents = 0
        self.events = 0

    def venue_tls(self) -> tuple[str, str] | None:
        """(certificate, key) for the simulator to serve its wallet API over
        TLS, or None for plain HTTP; called before the venue starts."""
        return None

    def start_node(self) -> str:
        """Starts self.node; returns the node's [transfers] keys and
        venue_tls, one per line."""
        raise NotImplementedError

    def start_engine(self) -> None:
        self.engine.start()
        self.wallet = WalletClient(self.engine.socket)
        assert self.wallet.connect()

    def set_poll_ms(self, poll_ms: int) -> None:
        """The executor's pass interval, for the next start."""
        text = re.sub(r"^poll_ms = \d+$", f"poll_ms = {poll_ms}", read(self.config), flags=re.MULTILINE)
        with open(self.config, "w") as f:
            f.write(text)

    def kill_engine(self) -> None:
        assert self.wallet is not None
        self.wallet.close()
        self.engine.kill9()

    def halt_transfers(self) -> None:
        """POST /kill, returning once the executor logged that it halted."""
        halts = read(self.engine.log_path).count("transfers halted by the kill switch")
        assert self.engine.http("POST", "/kill", token=self.engine.token)[0] == 200
        wait_for(lambda: read(self.engine.log_path).count("transfers halted by the kill switch") > halts,
                 10, "the executor halted")

    def add_liability(self, cents: int) -> None:
        assert self.wallet is not None
        self.events += 1
        self.liability_cents += cents
        self.wallet.send({"id": f"transfer-e2e-{self.events}", "kind": "usd_credit", "usd_cents": cents})
        wait_for(lambda: (self.wallet.pump(), not self.wallet.unacked)[1], 20, "the liability acknowledged")

    def steps(self, transfer_id: int) -> list[list[str]]:
        if not os.path.exists(self.journal):
            return []
        with open(self.journal) as f:
            return [line.split()[1:] for line in f if line.split()[:1] == [str(transfer_id)]]

    def has_step(self, transfer_id: int, step: str) -> list[str] | None:
        for words in self.steps(transfer_id):
            if words[0] == step:
                return words
        return None

    def transfer_ids(self) -> list[int]:
        if not os.path.exists(self.journal):
            return []
        with open(self.journal) as f:
            return sorted({int(line.split()[0]) for line in f if " requested " in f" {line} "})

    def new_transfer(self, known: int) -> int:
        ids = wait_for(lambda: [i for i in self.transfer_ids() if i > known], 30, "a new transfer intent")
        return ids[0]

    def listed(self, transfer_id: int) -> dict:
        """The transfer as GET /transfers lists it."""
        status, text = self.engine.http("GET", "/transfers")
        assert status == 200, text
        found = [t for t in json.loads(text)["transfers"] if t["id"] == transfer_id]
        assert len(found) == 1, text
        return found[0]

    def settle(self, transfer_id: int, body: str) -> tuple[int, str]:
        return self.engine.http("POST", f"/transfers/settle/{transfer_id}", token=self.engine.token, body=body)

    def leverage(self) -> float | None:
        try:
            return self.engine.metric("synthusd_leverage", '{venue="deribit"}')
        except OSError:
            return None

    def close(self) -> None:
        if self.wallet is not None:
            self.wallet.close()
        if self.engine.process is not None and self.engine.process.poll() is None:
            self.engine.kill9()
        self.node.stop()
        if self.relay is not None:
            self.relay.stop()
        self.venue.stop()
