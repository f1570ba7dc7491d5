"""Processes for end-to-end tests of `synthusd run`: the venue simulator, the
engine, a wallet client of the liability intake, and the ops HTTP endpoint.

Everything listens on loopback; every process is started by the test and
stopped (or killed) by it. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


FIX_CLIENT_ID = "synthusd-test"
FIX_SECRET = "test-secret-not-for-production"


# [engine] hot_path of every engine these tests start: the same scenarios run
# once per layout (ctest: engine_<name>_test and engine_<name>_one_thread_test).
HOT_PATH = "thread_per_stage"


def hot_path_line() -> str:
    """The [engine] line that picks the layout under test."""
    return f'hot_path = "{HOT_PATH}"'


def run_tests(binaries: dict[str, str]) -> None:
    """unittest.main after taking --synthusd and --venue (ctest passes the
    built binaries) into `binaries`, and --hot-path (the [engine] layout)."""
    global HOT_PATH
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthusd", default=binaries["synthusd"])
    parser.add_argument("--venue", default=binaries["venue"])
    parser.add_argument("--hot-path", default=HOT_PATH, choices=["thread_per_stage", "one_thread"])
    args, rest = parser.parse_known_args()
    HOT_PATH = args.hot_path
    binaries["synthusd"] = os.path.abspath(args.synthusd)
    binaries["venue"] = os.path.abspath(args.venue)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)


class Venue:
    """build/synthusd-venue: FIX acceptor + Deribit-format WebSocket tickers."""

    def __init__(self, binary: str, directory: str, *extra: str, fix_port: int = 0, ws_port: int = 0,
                 comp_id: str = "DERIBITSERVER", name: str = "venue", collateral: str = "1000",
                 wallet: bool = False) -> None:
        """fix_port/ws_port 0: free ports (printed); a restarted venue passes the
        ports it had. comp_id: the venue's SenderCompID, distinct per venue when
        one engine talks to several (QuickFIX session ids are process-wide).
        wallet: `extra` turns the wallet on (--wallet true ...); wait for its
        port too (wallet_port)."""
        self.comp_id = comp_id
        self.fix_log = os.path.join(directory, f"{name}-fix-log")
        args = [binary, "--fix-port", str(fix_port), "--ws-port", str(ws_port), "--sender-comp-id", comp_id,
                "--target-comp-id", "SYNTHUSD", "--reset-on-logon", "true", "--collateral", collateral,
                "--fix-log", self.fix_log, "--ticker-timestamps", "wall", "--logon-secret", FIX_SECRET, *extra]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.fix_port = 0
        self.ws_port = 0
        self.wallet_port = 0 if wallet else -1
        deadline = time.monotonic() + 20
        assert self.process.stdout is not None
        while 0 in (self.fix_port, self.ws_port, self.wallet_port) and time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if m := re.search(r"FIX acceptor on port (\d+)", line):
                self.fix_port = int(m.group(1))
            if m := re.search(r"ws://127\.0\.0\.1:(\d+)", line):
                self.ws_port = int(m.group(1))
            if m := re.search(r"wallet API on https?://127\.0\.0\.1:(\d+)", line):
                self.wallet_port = int(m.group(1))
        if 0 in (self.fix_port, self.ws_port, self.wallet_port):
            self.stop()
            raise RuntimeError("synthusd-venue did not print its ports")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def _messages(self) -> list[dict[str, str]]:
        found = []
        for name in sorted(os.listdir(self.fix_log)):
            if ".messages." not in name:
                continue
            with open(os.path.join(self.fix_log, name), errors="replace") as log:
                for line in log:
                    found.append(dict(f.split("=", 1) for f in line.strip().split("\x01") if "=" in f))
        return found

    def inbound_messages(self, msg_type: str) -> list[dict[str, str]]:
        """Messages of one type the venue received, from QuickFIX's message log."""
        return [m for m in self._messages() if m.get("35") == msg_type and m.get("56") == self.comp_id]

    def outbound_fills(self) -> list[tuple[str, int]]:
        """(side, contracts) of every fill the venue reported (ExecType F)."""
        return [(m["54"], int(float(m["32"]))) for m in self._messages()
                if m.get("35") == "8" and m.get("49") == self.comp_id and m.get("150") == "F"]


def engine_config(directory: str, venue: Venue, *, snapshot_every: int = 10000, extra: str = "",
                  engine_extra: str = "", taker_fee: str = "0.0005") -> str:
    """A one-venue engine configuration for the simulator (Deribit dialect);
    `engine_extra` goes into its [engine] table, `extra` at the end,
    `taker_fee` is the perpetual's."""
    text = f"""
[[venues]]
id = 1
name = "deribit"

[[instruments]]
id = 1
venue = "deribit"
symbol = "BTC-PERPETUAL"
kind = "inverse_perpetual"
contract_value_usd = 10
tick_size = 0.5
maker_fee = 0
taker_fee = {taker_fee}

[bands]
policy = "stablesats"
minimum_liability_usd = 50

[engine]
wait = "blocking"
{hot_path_line()}
state_directory = "{directory}/state"
timer_interval_ms = 100
snapshot_every_events = {snapshot_every}
{engine_extra}

[[feeds]]
venue = "deribit"
protocol = "deribit"
host = "127.0.0.1"
port = {venue.ws_port}
path = "/ws/api/v2"
tls = false
symbols = ["BTC-PERPETUAL"]

[oracle]
# the simulator is the only feed: its index is trusted alone (config/demo.toml)
min_sources = 1
jump_confirmations = 1

[[gateways]]
venue = "deribit"
dialect = "deribit"
host = "127.0.0.1"
port = {venue.fix_port}
sender_comp_id = "SYNTHUSD"
target_comp_id = "DERIBITSERVER"
heartbeat_seconds = 5
reconnect_seconds = 1
reset_on_logon = true
file_store = false
collateral_inquiry = true
collateral_request_seconds = 1

[intake]
unix_socket = "{directory}/liability.sock"

[http]
port = 0

[risk]
max_order_contracts = 100000
max_position_contracts = 10000000
max_order_notional_usd = 10000000
max_aggregate_notional_usd = 100000000
orders_per_second = 1000
order_burst = 1000
messages_per_second = 2000
message_burst = 2000
{extra}
"""
    path = os.path.join(directory, "engine.toml")
    with open(path, "w") as out:
        out.write(text)
    return path


def journal_segments(directory: str) -> list[str]:
    """The journal segment files (`journal.<20-digit first sequence>`) in a
    directory, in sequence order."""
    if not os.path.isdir(directory):
        return []
    return sorted(os.path.join(directory, name) for name in os.listdir(directory)
                  if re.fullmatch(r"journal\.\d{20}", name))


class Engine:
    """`synthusd run` as a child process."""

    def __init__(self, binary: str, config: str, directory: str, token: str = "test-token") -> None:
        self.binary = binary
        self.config = config
        self.directory = directory
        self.token = token
        self.socket = os.path.join(directory, "liability.sock")
        self.process: subprocess.Popen | None = None
        self.http_port = 0
        self.output: list[str] = []
        self.log_path = os.path.join(directory, "engine.log")

    def start(self, *args: str) -> None:
        env = dict(os.environ, SYNTHUSD_ADMIN_TOKEN=self.token, SYNTHUSD_FIX_CLIENT_ID=FIX_CLIENT_ID,
                   SYNTHUSD_FIX_CLIENT_SECRET=FIX_SECRET)
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen([self.binary, "run", "--config", self.config, *args],
                                            stdout=subprocess.PIPE, stderr=log, text=True, env=env)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.output.append(line)
        m = re.search(r"http (\d+)", line)
        if not line.startswith("RUNNING") or m is None:
            raise RuntimeError(f"engine did not start: {line!r} (log: {self.directory}/engine.log)")
        self.http_port = int(m.group(1))

    def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()

    def terminate(self, timeout: float = 30) -> tuple[int, str]:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=timeout)
        self.output.append(out)
        return self.process.returncode, out

    def describe(self, lines: int = 40) -> str:
        """For a failure message: whether the process still runs (or how it
        ended) and the end of its log, so that a failure in CI says what the
        engine was doing without the temporary directory it was deleted with."""
        if self.process is None:
            state = "never started"
        elif self.process.poll() is None:
            state = f"running (pid {self.process.pid}, http {self.http_port})"
        else:
            state = f"exited with code {self.process.returncode}"
        try:
            with open(self.log_path, errors="replace") as log:
                tail = log.readlines()[-lines:]
        except OSError as error:
            tail = [f"(no log: {error})\n"]
        return f"engine {state}; last {len(tail)} log lines:\n" + "".join(tail)

    def http(self, method: str, path: str, token: str | None = None, body: str | None = None) -> tuple[int, str]:
        data = body.encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}", method=method, data=data)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def metric(self, name: str, labels: str = "") -> float | None:
        _, text = self.http("GET", "/metrics")
        for line in text.splitlines():
            if line.startswith(name + labels + " "):
                return float(line.split()[-1])
        return None


def wait_until(predicate, timeout: float = 20.0, step: float = 0.05) -> bool:
    """Polls `predicate` until it holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def summary(output: str) -> dict:
    """The summary JSON the engine wrote (run with --summary-json)."""
    with open(output) as f:
        return json.load(f)


def now_ms() -> int:
    """The wall clock in Unix milliseconds: a live payment's `ts` must be within the engine's
    window around it (liabilities/PROTOCOL.md, default 10 minutes each way)."""
    return time.time_ns() // 1_000_000


class WalletClient:
    """A wallet backend: sends liability events, keeps every un-acked one and
    sends it again after reconnecting (liabilities/PROTOCOL.md). An event
    without a `ts` is stamped with the time it is first sent, as a live wallet
    would; a resend keeps it."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self.unacked: dict[str, str] = {}  # id -> line, in send order
        self.acked: set[str] = set()
        self.duplicates = 0
        self.rejects: list[dict] = []
        self.sock: socket.socket | None = None
        self.buffer = b""

    def connect(self, timeout: float = 20) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.socket_path)
                sock.settimeout(0.05)
                self.sock = sock
                self.buffer = b""
                if self.unacked:  # everything not acknowledged goes again
                    sock.sendall("".join(self.unacked.values()).encode())
                return True
            except OSError:
                sock.close()
                time.sleep(0.05)
        return False

    def send(self, event: dict) -> None:
        if "ts" not in event:
            event = {**event, "ts": now_ms()}
        line = json.dumps(event, separators=(",", ":")) + "\n"
        self.unacked[event["id"]] = line
        if self.sock is None:
            return
        try:
            self.sock.sendall(line.encode())
        except OSError:
            self.close()

    def pump(self) -> None:
        if self.sock is None:
            return
        try:
            data = self.sock.recv(65536)
            if not data:
                self.close()
                return
        except socket.timeout:
            return
        except OSError:
            self.close()
            return
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            answer = json.loads(line)
            if "ack" in answer:
                self.acked.add(answer["ack"])
                self.unacked.pop(answer["ack"], None)
                self.duplicates += 1 if answer.get("duplicate") else 0
            else:
                self.rejects.append(answer)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NatsServer:
    """nats-server with JetStream on a loopback port and a temporary store."""

    def __init__(self, directory: str) -> None:
        self.port = free_port()
        self.store = os.path.join(directory, "nats-store")
        self.process = subprocess.Popen(["nats-server", "-js", "-a", "127.0.0.1", "-p", str(self.port),
                                         "-sd", self.store], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class NatsPublisher:
    """A wallet backend publishing to the liability subject with the plain
    NATS text protocol (INFO, CONNECT, PUB, PING/PONG); JetStream stores
    whatever is published on the stream's subject."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.file = self.sock.makefile("rb")
        info = self.file.readline()
        if not info.startswith(b"INFO"):
            raise RuntimeError(f"not a NATS server: {info!r}")
        self.sock.sendall(b'CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\n')

    def publish(self, subject: str, payload: bytes) -> None:
        self.sock.sendall(b"PUB %s %d\r\n%s\r\n" % (subject.encode(), len(payload), payload))

    def flush(self) -> None:
        self.sock.sendall(b"PING\r\n")
        while True:
            line = self.file.readline()
            if not line or line.startswith(b"PONG"):
                return
            if line.startswith(b"-ERR"):
                raise RuntimeError(line.decode())

    def close(self) -> None:
        self.file.close()
        self.sock.close()


class FakeLnd:
    """LND's REST invoice stream, GET /v1/invoices/subscribe?settle_index=N:
    an HTTP/1.1 chunked response of {"result":{...}} lines, int64 fields as
    strings and r_hash in base64, like lnd's grpc-gateway. Like the gateway
    (runtime.ForwardResponseStream), the response head goes out only with the
    first message: an idle stream answers nothing at all. Serves one stream
    at a time from a thread; records each request's settle_index and headers.
    """

    def __init__(self) -> None:
        import threading
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.requests: list[str] = []
        self.lines: list[bytes] = []  # what each new stream sends after the overlap
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def invoice(settle_index: int, sats: int, state: str = "SETTLED") -> bytes:
        import base64
        import hashlib
        r_hash = base64.b64encode(hashlib.sha256(b"invoice-%d" % settle_index).digest()).decode()
        result = {"memo": "", "r_hash": r_hash, "value": str(sats), "value_msat": str(sats * 1000),
                  "settled": state == "SETTLED", "creation_date": "1700000000",
                  "settle_date": str(1700000000 + settle_index), "add_index": str(settle_index),
                  "settle_index": str(settle_index if state == "SETTLED" else 0),
                  "amt_paid_sat": str(sats if state == "SETTLED" else 0),
                  "amt_paid_msat": str(sats * 1000 if state == "SETTLED" else 0), "state": state}
        return (json.dumps({"result": result}) + "\n").encode()

    def push(self, line: bytes) -> None:
        with self.lock:
            self.lines.append(line)

    def _serve(self) -> None:
        while not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            with conn:
                conn.settimeout(2)
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    request += chunk
                with self.lock:
                    self.requests.append(request.decode(errors="replace"))
                try:
                    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n")
                    sent = 0
                    while not self.stopping:
                        with self.lock:
                            pending = self.lines[sent:]
                        for line in pending:
                            conn.sendall(head + b"%x\r\n%s\r\n" % (len(line), line))
                            head = b""
                            sent += 1
                        try:
                            if conn.recv(1, socket.MSG_DONTWAIT) == b"":
                                break  # the engine closed the stream (or died)
                        except BlockingIOError:
                            pass
                        time.sleep(0.02)
                except OSError:
                    continue  # the engine went away; wait for the next stream

    def settle_indexes_requested(self) -> list[int]:
        with self.lock:
            found = [re.search(r"settle_index=(\d+)", r) for r in self.requests]
        return [int(m.group(1)) if m else -1 for m in found]

    def stop(self) -> None:
        self.stopping = True
        self.thread.join(timeout=5)
        self.listener.close()
