#!/usr/bin/env python3
"""Core Lightning plugin: forwards the node's payments to the synthusd engine.

Every paid invoice is a `usd_credit` and every successful outgoing payment part a
`usd_debit`, sent as JSON lines per liabilities/PROTOCOL.md. Standard library
only; liabilities/cln-plugin/README.md explains the design and every rounding choice.

    lightningd --plugin=liabilities/cln-plugin/synthusd_plugin.py \
               --synthusd-socket=/run/synthusd/liability.sock

Threads: the main thread speaks JSON-RPC with lightningd on stdin/stdout; one
thread per index follower (`waitanyinvoice`, `listsendpays` + `wait`) talks to the
node's RPC socket; the forwarder thread owns the engine connection; the state
thread writes the resume cursors. They share the outbox (Forwarder) and the
cursors (Cursor, StateFile), each behind its own lock.
"""

from __future__ import annotations

import codecs
import collections
import hashlib
import json
import os
import re
import select
import signal
import socket
import sys
import threading
import time
import traceback
from typing import Any, Callable, Iterator

PLUGIN_NAME = "synthusd"
STATE_FILE_NAME = "synthusd-cln-state.json"
STATE_VERSION = 1

# The engine reads lines of at most 4 KiB (liabilities/PROTOCOL.md).
MAX_EVENT_LINE_BYTES = 4096
# An engine that reads our events but answers none of them for this long is stuck:
# reconnect and send everything un-acked again.
ACK_TIMEOUT_SECONDS = 30.0
SEND_TIMEOUT_SECONDS = 10.0
# Events sent but not yet answered. The engine answers while it reads, so an unbounded
# backlog sent in one go could fill both directions' socket buffers and block both sides.
MAX_IN_FLIGHT = 256
BACKOFF_INITIAL_SECONDS = 0.05
BACKOFF_MAX_SECONDS = 5.0
# A connection that lived this long counts as healthy: the next failure starts the
# backoff from the beginning again.
HEALTHY_CONNECTION_SECONDS = 5.0
# At shutdown, give the engine this long to ack what is still in flight.
SHUTDOWN_DRAIN_SECONDS = 2.0
SENDPAY_PAGE_LIMIT = 100
# lightningd never sends a message this large; a buffer that grows past it without
# parsing is garbage and is dropped rather than kept forever.
MAX_FRAME_CHARS = 64 * 1024 * 1024
# sockaddr_un.sun_path is 108 bytes on Linux, including the terminating NUL.
MAX_UNIX_PATH_BYTES = 107

JSONRPC_METHOD_NOT_FOUND = -32601
JSONRPC_INVALID_PARAMS = -32602

HEX64 = re.compile(r"[0-9a-fA-F]{64}")
MSAT_STRING = re.compile(r"([0-9]+)msat")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# Reading lightningd's JSON stream


class JsonStream:
    """Splits a byte stream into JSON values.

    lightningd ends each message with "\\n\\n", but a message may arrive in several
    reads and several messages in one read, so values are decoded from a buffer
    rather than split on the separator. Bytes that cannot start a JSON value are
    dropped up to the next "\\n\\n" and reported as garbage.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._decoder = json.JSONDecoder()
        self._buffer = ""

    def feed(self, data: bytes) -> Iterator[tuple[Any, str | None]]:
        """Yields (value, None) per complete value and (None, excerpt) per garbage run."""
        self._buffer += self._utf8.decode(data)
        while True:
            self._buffer = self._buffer.lstrip(" \t\r\n")
            if not self._buffer:
                return
            try:
                value, end = self._decoder.raw_decode(self._buffer)
            except json.JSONDecodeError:
                separator = self._buffer.find("\n\n")
                if separator >= 0:
                    garbage = self._buffer[:separator]
                    self._buffer = self._buffer[separator + 2:]
                    yield None, garbage[:200]
                    continue
                if len(self._buffer) > MAX_FRAME_CHARS:
                    garbage = self._buffer[:200]
                    self._buffer = ""
                    yield None, garbage
                # Otherwise the value is incomplete: wait for more bytes.
                return
            self._buffer = self._buffer[end:]
            yield value, None


# Turning Core Lightning objects into liability events


class MalformedPayment(ValueError):
    """A notification or RPC result that cannot become an event."""


def parse_msat(value: Any, field: str) -> int:
    """Accepts 10000 (current) and "10000msat" (before v23.11)."""
    if isinstance(value, int) and not isinstance(value, bool):
        amount = value
    elif isinstance(value, str) and MSAT_STRING.fullmatch(value):
        amount = int(value[:-4])
    else:
        raise MalformedPayment(f"{field} is not an amount in msat: {value!r}")
    if amount < 0:
        raise MalformedPayment(f"{field} is negative: {amount}")
    return amount


def parse_hash(value: Any, field: str) -> str:
    if not isinstance(value, str) or not HEX64.fullmatch(value):
        raise MalformedPayment(f"{field} is not 32 bytes of hex: {value!r}")
    return value.lower()


def parse_index(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedPayment(f"{field} is not a non-negative integer: {value!r}")
    return value


def seconds_to_ms(value: Any) -> int | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return int(value * 1000)
    return None


def credit_sats(msat: int) -> int:
    # Floor: the user is credited the whole sats that actually arrived, never more.
    return msat // 1000


def debit_sats(msat: int) -> int:
    # Ceiling: the user is debited at least what left the node, fees included, so a
    # debit never rounds to zero. Both directions favour the operator by < 1 sat.
    return -(-msat // 1000)


def credit_id(payment_hash: str) -> str:
    return f"cln:{payment_hash}"


def debit_id(payment_hash: str, groupid: int, partid: int) -> str:
    # A sendpay is keyed by (payment_hash, groupid, partid) in lightningd: each part
    # of a multi-part payment is its own debit, and a payment to one of our own
    # invoices (same hash) must not be taken for a duplicate of its credit.
    return f"cln:{payment_hash}:{groupid}:{partid}"


def notification_payload(params: Any, topic: str) -> dict:
    """The topic's object: current lightningd wraps it as {"<topic>": {...}}."""
    if not isinstance(params, dict):
        raise MalformedPayment(f"params is not an object: {params!r}"[:300])
    payload = params.get(topic, params)
    if not isinstance(payload, dict):
        raise MalformedPayment(f"params.{topic} is not an object: {payload!r}"[:300])
    return payload


def credit_from_invoice_payment(payload: dict) -> dict:
    """The `invoice_payment` notification: no payment_hash and no pay_index in it."""
    msat = parse_msat(payload.get("msat"), "msat")
    preimage = payload.get("preimage")
    if not isinstance(preimage, str) or not HEX64.fullmatch(preimage):
        raise MalformedPayment(f"preimage is not 32 bytes of hex: {preimage!r}")
    payment_hash = hashlib.sha256(bytes.fromhex(preimage)).hexdigest()
    return {"id": credit_id(payment_hash), "kind": "usd_credit", "sats": credit_sats(msat), "ts": now_ms()}


def credit_from_invoice(invoice: dict) -> dict | None:
    """A `waitanyinvoice` result -> event, None when it is not paid."""
    pay_index = parse_index(invoice.get("pay_index"), "pay_index")
    if invoice.get("status") != "paid":
        return None
    payment_hash = parse_hash(invoice.get("payment_hash"), "payment_hash")
    received = invoice.get("amount_received_msat", invoice.get("amount_msat"))
    msat = parse_msat(received, "amount_received_msat")
    event = {
        "id": credit_id(payment_hash),
        "kind": "usd_credit",
        "sats": credit_sats(msat),
        "ts": seconds_to_ms(invoice.get("paid_at")) or now_ms(),
        "pay_index": pay_index,
    }
    return event


def debit_from_sendpay(payment: dict) -> dict | None:
    """A `sendpay_success` payload or a `listsendpays` entry -> event, None if not complete."""
    if payment.get("status", "complete") != "complete":
        return None
    payment_hash = parse_hash(payment.get("payment_hash"), "payment_hash")
    groupid = parse_index(payment.get("groupid", 0), "groupid")
    partid = parse_index(payment.get("partid", 0), "partid")
    # amount_sent_msat includes the routing fees, which the user pays.
    msat = parse_msat(payment.get("amount_sent_msat"), "amount_sent_msat")
    if msat == 0:
        raise MalformedPayment("amount_sent_msat is zero")
    ts = seconds_to_ms(payment.get("completed_at")) or now_ms()
    return {"id": debit_id(payment_hash, groupid, partid), "kind": "usd_debit", "sats": debit_sats(msat), "ts": ts}


def as_backfill(event: dict) -> dict:
    """An event from lightningd's indexes (the followers): history the engine admits with its
    old timestamp (`"backfill": true`, liabilities/PROTOCOL.md). The followers replay from the
    saved cursor after any outage of the plugin or the engine, so even a payment made a moment
    ago may reach the engine long after its `ts`; outside the backfill flag the engine would
    refuse it as too old, and a refusal is final."""
    return {**event, "backfill": True}


def encode_event(event: dict) -> bytes:
    line = json.dumps(event, separators=(",", ":")).encode() + b"\n"
    if len(line) > MAX_EVENT_LINE_BYTES:
        raise MalformedPayment(f"event line is {len(line)} bytes, over {MAX_EVENT_LINE_BYTES}")
    return line


# Persistent state


class StateFile:
    """The two resume cursors, written atomically (temporary file, fsync, rename).

    lastpay_index: every invoice paid up to it is acked by the engine.
    sendpay_updated_index: every sendpay update up to it is acked or needed no event.

    A writer thread saves the newest values whenever they change; advances that come
    while a write is in progress are coalesced into the next one, so the forwarder
    never waits for fsync. A crash between an ack and its write only replays events
    the engine already has, which it answers as duplicates.
    """

    def __init__(self, path: str, log: Callable[[str, str], None]) -> None:
        self.path = path
        self._log = log
        self._changed = threading.Condition()
        self._wanted: dict[str, int] = {}
        self._saved: dict[str, int] = {}
        self._write_lock = threading.Lock()
        self._stopping = False
        self._writer: threading.Thread | None = None

    def load(self) -> dict[str, int]:
        """Missing file -> zeros. Unreadable or invalid -> ValueError (never guess a cursor)."""
        try:
            with open(self.path, "rb") as file:
                raw = file.read()
        except FileNotFoundError:
            raw = None
        except OSError as error:
            raise ValueError(f"cannot read state file {self.path}: {error}") from error
        cursors = {"lastpay_index": 0, "sendpay_updated_index": 0}
        if raw is not None:
            try:
                state = json.loads(raw)
            except ValueError as error:
                raise ValueError(f"state file {self.path} is not JSON: {error}") from error
            if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
                raise ValueError(f"state file {self.path} has no version {STATE_VERSION}")
            for key in cursors:
                value = state.get(key, 0)
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise ValueError(f"state file {self.path}: {key} is not a non-negative integer")
                cursors[key] = value
        with self._changed:
            self._wanted = dict(cursors)
            self._saved = dict(cursors)
        return cursors

    def advance(self, key: str, value: int) -> None:
        with self._changed:
            # Cursors only move forward; two threads may report advances out of order.
            if value > self._wanted.get(key, 0):
                self._wanted[key] = value
                self._changed.notify()

    def start(self) -> None:
        self._writer = threading.Thread(target=self._write_changes, name="synthusd-state", daemon=True)
        self._writer.start()

    def stop(self) -> None:
        """Stops the writer and saves what it had not saved yet."""
        with self._changed:
            self._stopping = True
            self._changed.notify()
        if self._writer is not None:
            self._writer.join(SHUTDOWN_DRAIN_SECONDS)
        self._flush()

    def _write_changes(self) -> None:
        while True:
            with self._changed:
                while self._wanted == self._saved and not self._stopping:
                    self._changed.wait()
                if self._stopping:
                    return
            self._flush()

    def _flush(self) -> None:
        with self._write_lock:
            with self._changed:
                state = dict(self._wanted)
                if state == self._saved:
                    return
            try:
                self._write(state)
            except OSError as error:
                self._log("error", f"cannot write state file {self.path}: {error}")
                time.sleep(BACKOFF_MAX_SECONDS)  # Keep retrying, but not in a tight loop.
                return
            with self._changed:
                self._saved = state

    def _write(self, state: dict[str, int]) -> None:
        temporary = f"{self.path}.tmp"
        body = json.dumps({"version": STATE_VERSION, **state}, sort_keys=True).encode() + b"\n"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
        directory_fd = os.open(os.path.dirname(os.path.abspath(self.path)), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory_fd)
        finally:
            os.close(directory_fd)


class Cursor:
    """The highest index up to which every event is settled, for one index space.

    Indexes are opened in increasing order as a follower reads them, and settled
    (acked, rejected, or needing no event) in any order; the cursor moves over the
    settled prefix only, so a restart never skips an event still in flight.
    """

    def __init__(self, name: str, value: int, on_advance: Callable[[str, int], None]) -> None:
        self.name = name
        self._value = value
        self._open: dict[int, bool] = {}  # index -> settled; insertion order = index order
        self._lock = threading.Lock()
        self._on_advance = on_advance

    @property
    def value(self) -> int:
        with self._lock:
            return self._value

    def open(self, index: int) -> None:
        with self._lock:
            self._open.setdefault(index, False)

    def settle(self, index: int) -> None:
        with self._lock:
            if index not in self._open:
                return
            self._open[index] = True
            advanced = self._value
            while self._open:
                first = next(iter(self._open))
                if not self._open[first]:
                    break
                del self._open[first]
                advanced = max(advanced, first)
            if advanced == self._value:
                return
            self._value = advanced
        self._on_advance(self.name, advanced)


# Sockets


def connect_unix(path: str, timeout: float | None) -> socket.socket:
    """Connects to a Unix socket, also when the path is longer than sun_path allows."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        if len(os.fsencode(path)) <= MAX_UNIX_PATH_BYTES:
            sock.connect(path)
        else:
            directory_fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY | os.O_DIRECTORY)
            try:
                sock.connect(f"/proc/self/fd/{directory_fd}/{os.path.basename(path)}")
            finally:
                os.close(directory_fd)
    except BaseException:
        sock.close()
        raise
    return sock


def parse_engine_address(text: str, base_directory: str) -> tuple[str, Any]:
    """ "host:port" or "[v6]:port" -> TCP; anything else is a Unix socket path."""
    if "/" not in text:
        host, separator, port = text.rpartition(":")
        if separator and host and port.isdigit() and int(port) < 65536:
            return "tcp", (host.strip("[]"), int(port))
    return "unix", os.path.join(base_directory, text)


def connect_engine(address: tuple[str, Any]) -> socket.socket:
    kind, where = address
    if kind == "tcp":
        sock = socket.create_connection(where, timeout=SEND_TIMEOUT_SECONDS)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    return connect_unix(where, SEND_TIMEOUT_SECONDS)


class RpcError(Exception):
    def __init__(self, method: str, error: Any) -> None:
        self.code = error.get("code") if isinstance(error, dict) else None
        self.message = error.get("message") if isinstance(error, dict) else str(error)
        super().__init__(f"{method}: {self.code} {self.message}")


class LightningRpc:
    """A minimal client for lightningd's JSON-RPC Unix socket; one call at a time."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._sock: socket.socket | None = None
        self._stream = JsonStream()
        self._pending: collections.deque[Any] = collections.deque()
        self._next_id = 0
        self._closed = False

    def call(self, method: str, params: dict) -> Any:
        if self._sock is None:
            if self._closed:
                raise ConnectionError("RPC client is closed")
            self._sock = connect_unix(self._path, None)
            if self._closed:  # close() ran while we connected.
                self._drop()
                raise ConnectionError("RPC client is closed")
            self._stream = JsonStream()
            self._pending.clear()
        self._next_id += 1
        request_id = f"{PLUGIN_NAME}:{method}#{self._next_id}"
        request = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        try:
            self._sock.sendall(json.dumps(request).encode())
            while True:
                while self._pending:
                    response = self._pending.popleft()
                    if isinstance(response, dict) and response.get("id") == request_id:
                        if "error" in response:
                            raise RpcError(method, response["error"])
                        return response.get("result")
                data = self._sock.recv(65536)
                if not data:
                    raise ConnectionError("lightningd closed the RPC connection")
                for value, garbage in self._stream.feed(data):
                    if garbage is None:
                        self._pending.append(value)
        except OSError:
            self._drop()
            raise

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def close(self) -> None:
        """Unblocks a call in progress from another thread."""
        self._closed = True
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Backoff:
    def __init__(self) -> None:
        self.delay = BACKOFF_INITIAL_SECONDS

    def next(self) -> float:
        delay = self.delay
        self.delay = min(self.delay * 2, BACKOFF_MAX_SECONDS)
        return delay

    def reset(self) -> None:
        self.delay = BACKOFF_INITIAL_SECONDS


# The engine connection


class Pending:
    __slots__ = ("event", "line", "cursors")

    def __init__(self, event: dict, line: bytes) -> None:
        self.event = event
        self.line = line
        self.cursors: list[tuple[Cursor, int]] = []


class EngineProtocolError(Exception):
    pass


class Forwarder(threading.Thread):
    """Sends every event to the engine until it is acked; keeps them all until then.

    Answers come one line per event, in order, so each answer belongs to the oldest
    event in flight on the connection. Anything out of step ends the connection: the
    next one resends every un-acked event, which the engine's deduplication makes safe.
    """

    def __init__(self, address: tuple[str, Any], log: Callable[[str, str], None]) -> None:
        super().__init__(name="synthusd-forwarder", daemon=True)
        self._address = address
        self._log = log
        self._lock = threading.Lock()
        self._drained = threading.Condition(self._lock)
        self._pending: dict[str, Pending] = {}  # insertion order = send order
        self._unsent: collections.deque[str] = collections.deque()
        self._in_flight: collections.deque[str] = collections.deque()
        self._stopping = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)

    def submit(self, event: dict, cursor: tuple[Cursor, int] | None = None) -> None:
        """Queues an event; an event whose id is already queued only gains the cursor."""
        with self._lock:
            pending = self._pending.get(event["id"])
            if pending is None:
                pending = Pending(event, encode_event(event))
                self._pending[event["id"]] = pending
                self._unsent.append(event["id"])
            else:
                # The notification's fast-path copy learns what the follower's copy knows: its
                # pay_index, and that it is history (backfill). Any resend carries both.
                learned = {key: event[key] for key in ("pay_index", "backfill")
                           if key in event and key not in pending.event}
                if learned:
                    pending.event = {**pending.event, **learned}
                    pending.line = encode_event(pending.event)
            if cursor is not None:
                pending.cursors.append(cursor)
        self._wake()

    def pending_count(self) -> int:
        with self._lock:
            return len(self._pending)

    def drain(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._drained.wait(remaining)
            return True

    def stop(self) -> None:
        self._stopping.set()
        self._wake()

    def _wake(self) -> None:
        try:
            os.write(self._wake_write, b"x")
        except BlockingIOError:
            pass  # Already awake.

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def run(self) -> None:
        backoff = Backoff()
        failures = 0
        while not self._stopping.is_set():
            try:
                sock = connect_engine(self._address)
            except OSError as error:
                failures += 1
                if failures == 1:
                    self._log("warn", f"engine at {self._describe()} unreachable ({error}); "
                              f"keeping {self.pending_count()} events and retrying with backoff")
                self._sleep(backoff.next())
                continue
            connected_at = time.monotonic()
            self._log("info", f"connected to engine at {self._describe()}; "
                      f"sending {self.pending_count()} un-acked events")
            failures = 0
            try:
                self._serve(sock, backoff)
            except (OSError, EngineProtocolError) as error:
                if not self._stopping.is_set():
                    self._log("warn", f"engine connection ended: {error}; "
                              f"{self.pending_count()} events will be resent")
            finally:
                sock.close()
            if time.monotonic() - connected_at >= HEALTHY_CONNECTION_SECONDS:
                backoff.reset()
            self._sleep(backoff.next())

    def _describe(self) -> str:
        kind, where = self._address
        return f"{where[0]}:{where[1]}" if kind == "tcp" else where

    def _serve(self, sock: socket.socket, backoff: Backoff) -> None:
        with self._lock:
            self._in_flight.clear()
            self._unsent = collections.deque(self._pending)
        buffer = b""
        last_progress = time.monotonic()
        while not self._stopping.is_set():
            with self._lock:
                if self._unsent and not self._in_flight:
                    last_progress = time.monotonic()
                batch = []
                while self._unsent and len(self._in_flight) < MAX_IN_FLIGHT:
                    event_id = self._unsent.popleft()
                    self._in_flight.append(event_id)
                    batch.append(self._pending[event_id].line)
            if batch:
                sock.sendall(b"".join(batch))
            readable, _, _ = select.select([sock, self._wake_read], [], [], 1.0)
            if self._wake_read in readable:
                try:
                    os.read(self._wake_read, 4096)
                except BlockingIOError:
                    pass
            if sock in readable:
                data = sock.recv(65536)
                if not data:
                    raise ConnectionError("engine closed the connection")
                buffer += data
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        self._on_answer(line)
                        last_progress = time.monotonic()
                        backoff.reset()
                if len(buffer) > MAX_EVENT_LINE_BYTES:
                    raise EngineProtocolError("answer line over 4 KiB")
            with self._lock:
                waiting = bool(self._in_flight)
            if waiting and time.monotonic() - last_progress > ACK_TIMEOUT_SECONDS:
                raise EngineProtocolError(f"no answer for {ACK_TIMEOUT_SECONDS:.0f} s")

    def _on_answer(self, line: bytes) -> None:
        try:
            answer = json.loads(line)
        except ValueError as error:
            raise EngineProtocolError(f"answer is not JSON: {line[:200]!r}") from error
        if not isinstance(answer, dict):
            raise EngineProtocolError(f"answer is not an object: {line[:200]!r}")
        if isinstance(answer.get("ack"), str):
            answered, accepted = answer["ack"], True
        elif isinstance(answer.get("reject"), str):
            answered, accepted = answer["reject"], False
        else:
            raise EngineProtocolError(f"answer is neither ack nor reject: {line[:200]!r}")
        settled: list[tuple[Cursor, int]] = []
        with self._lock:
            if not self._in_flight:
                raise EngineProtocolError(f"answer with no event in flight: {line[:200]!r}")
            expected = self._in_flight[0]
            # A reject may leave the id empty (e.g. when the line was not JSON to the engine).
            if answered != expected and (accepted or answered != ""):
                raise EngineProtocolError(f"answer for {answered!r} while {expected!r} was first in flight")
            self._in_flight.popleft()
            pending = self._pending.pop(expected)
            settled = pending.cursors
            if not self._pending:
                self._drained.notify_all()
        if not accepted:
            # Malformed in the engine's eyes: resending cannot help, and it must not
            # hold back the events behind it or the resume cursor.
            self._log("error", f"engine rejected {expected}: {answer.get('reason', '')!s}; "
                      f"event {json.dumps(pending.event)} will not be resent")
        for cursor, index in settled:
            cursor.settle(index)


# Followers of lightningd's indexes


class Follower(threading.Thread):
    def __init__(self, name: str, rpc_path: str, cursor: Cursor, forwarder: Forwarder,
                 log: Callable[[str, str], None]) -> None:
        super().__init__(name=name, daemon=True)
        self._rpc = LightningRpc(rpc_path)
        self._cursor = cursor
        self._forwarder = forwarder
        self._log = log
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        self._rpc.close()

    def run(self) -> None:
        backoff = Backoff()
        while not self._stopping.is_set():
            try:
                if not self.step():
                    return
                backoff.reset()
            except RpcError as error:
                if not self._stopping.is_set():
                    self._log("warn", f"{self.name}: {error}")
                    self._stopping.wait(backoff.next())
            except OSError as error:
                if not self._stopping.is_set():
                    self._log("warn", f"{self.name}: lightningd RPC failed: {error}")
                    self._stopping.wait(backoff.next())
            except Exception:  # A bug here must not kill the thread silently.
                if not self._stopping.is_set():
                    self._log("error", f"{self.name}: {traceback.format_exc()}")
                    self._stopping.wait(BACKOFF_MAX_SECONDS)

    def step(self) -> bool:
        """One round trip; False ends the follower."""
        raise NotImplementedError


class InvoiceFollower(Follower):
    """waitanyinvoice from the persisted pay_index: credits, including those paid while down."""

    def __init__(self, *args: Any) -> None:
        super().__init__("invoices", *args)
        self._last = self._cursor.value

    def step(self) -> bool:
        invoice = self._rpc.call("waitanyinvoice", {"lastpay_index": self._last})
        if not isinstance(invoice, dict):
            raise RpcError("waitanyinvoice", {"message": f"result is not an object: {invoice!r}"[:300]})
        pay_index = invoice.get("pay_index")
        if not isinstance(pay_index, int) or isinstance(pay_index, bool) or pay_index <= self._last:
            # Without a usable pay_index there is no way past this invoice: retry.
            raise RpcError("waitanyinvoice", {"message": f"pay_index {pay_index!r} does not follow {self._last}"})
        self._last = pay_index
        self._cursor.open(pay_index)
        try:
            event = credit_from_invoice(invoice)
        except MalformedPayment as error:
            # Like an engine reject: retrying cannot fix it, and it must not block the rest.
            self._log("error", f"invoice pay_index {pay_index} skipped: {error}")
            self._cursor.settle(pay_index)
            return True
        if event is None:
            self._log("info", f"invoice pay_index {pay_index} has status {invoice.get('status')!r}: no credit")
            self._cursor.settle(pay_index)
        elif event["sats"] < 1:
            self._log("warn", f"invoice pay_index {pay_index} ({event['id']}) brought less than 1 sat: no credit")
            self._cursor.settle(pay_index)
        else:
            self._forwarder.submit(as_backfill(event), (self._cursor, pay_index))
        return True


class SendpayFollower(Follower):
    """listsendpays by updated index, then wait for the next update: debits, including
    those completed while the plugin was down (needs Core Lightning v23.11+)."""

    def __init__(self, *args: Any) -> None:
        super().__init__("sendpays", *args)
        self._last = self._cursor.value
        self._index_seen = 0  # the updated index `wait` last reported

    def step(self) -> bool:
        try:
            result = self._rpc.call("listsendpays", {"index": "updated", "start": self._last + 1,
                                                     "limit": SENDPAY_PAGE_LIMIT})
        except RpcError as error:
            if error.code == JSONRPC_INVALID_PARAMS:
                self._log("warn", f"listsendpays has no index (Core Lightning before v23.11?): {error}; "
                          "only live sendpay_success notifications will be forwarded, so payments "
                          "made while the plugin is down will be missed")
                return False
            raise
        payments = result.get("payments") if isinstance(result, dict) else None
        if not isinstance(payments, list):
            raise RpcError("listsendpays", {"message": "result has no payments array"})
        indexed = []
        for payment in payments:
            updated = payment.get("updated_index") if isinstance(payment, dict) else None
            if isinstance(updated, int) and not isinstance(updated, bool) and updated > self._last:
                indexed.append((updated, payment))
        indexed.sort(key=lambda item: item[0])
        for updated, payment in indexed:
            self._last = updated
            self._cursor.open(updated)
            try:
                event = debit_from_sendpay(payment)
            except MalformedPayment as error:
                self._log("error", f"listsendpays entry at updated_index {updated} skipped: {error}")
                event = None
            if event is None:
                self._cursor.settle(updated)
            else:
                self._forwarder.submit(as_backfill(event), (self._cursor, updated))
        if len(payments) == SENDPAY_PAGE_LIMIT:
            return True
        if self._index_seen > self._last:
            # `wait` saw these indexes, yet no payment carries them now: deleted
            # (delpay). Skip them, or `wait` would return at once forever.
            self._last = self._index_seen
            self._cursor.open(self._last)
            self._cursor.settle(self._last)
        result = self._rpc.call("wait", {"subsystem": "sendpays", "indexname": "updated",
                                         "nextvalue": self._last + 1})
        updated = result.get("updated") if isinstance(result, dict) else None
        if isinstance(updated, int) and not isinstance(updated, bool):
            self._index_seen = updated
        return True


# The plugin


OPTIONS = [
    {
        "name": "synthusd-socket",
        "type": "string",
        "description": "synthusd engine liability intake: a Unix socket path, or host:port for TCP",
    },
    {
        "name": "synthusd-state-file",
        "type": "string",
        "default": "",
        "description": f"where the acknowledged resume indexes are kept (default <lightning-dir>/{STATE_FILE_NAME})",
    },
]

SUBSCRIPTIONS = ["invoice_payment", "sendpay_success", "shutdown"]


class Plugin:
    def __init__(self, stdin: Any, stdout: Any) -> None:
        self._stdin = stdin
        self._stdout = stdout
        self._write_lock = threading.Lock()
        self._forwarder: Forwarder | None = None
        self._followers: list[Follower] = []
        self._state: StateFile | None = None
        self._initialized = False
        self._started = False
        self._started_message = ""
        self._stopped = False
        self._shutting_down = False

    # Output to lightningd: JSON-RPC only, every message ended by "\n\n".

    def _write(self, message: dict) -> None:
        data = json.dumps(message, separators=(",", ":")).encode() + b"\n\n"
        with self._write_lock:
            self._stdout.write(data)
            self._stdout.flush()

    def log(self, level: str, message: str) -> None:
        try:
            for line in message.rstrip("\n").split("\n"):
                self._write({"jsonrpc": "2.0", "method": "log", "params": {"level": level, "message": line}})
        except (OSError, ValueError):
            pass  # lightningd is gone; the main loop sees EOF and exits.

    def _reply(self, request_id: Any, result: Any) -> None:
        self._write({"jsonrpc": "2.0", "id": request_id, "result": result})

    def _reply_error(self, request_id: Any, code: int, message: str) -> None:
        self._write({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})

    # Input from lightningd.

    def run(self) -> int:
        stream = JsonStream()
        fd = self._stdin.fileno()
        while not self._shutting_down:
            data = os.read(fd, 65536)
            if not data:
                break  # lightningd closed our stdin: it is gone or stopping us.
            for message, garbage in stream.feed(data):
                if garbage is not None:
                    self.log("warn", f"ignored non-JSON input from lightningd: {garbage!r}")
                    continue
                try:
                    self._dispatch(message)
                except Exception:
                    self.log("error", f"failed to handle {json.dumps(message)[:300]}: {traceback.format_exc()}")
        self.stop()
        return 0

    def _dispatch(self, message: Any) -> None:
        if not isinstance(message, dict) or not isinstance(message.get("method"), str):
            self.log("warn", f"ignored message that is not a JSON-RPC request: {json.dumps(message)[:300]}")
            return
        method, params = message["method"], message.get("params", {})
        if "id" in message:
            if method == "getmanifest":
                self._reply(message["id"], self.manifest())
            elif method == "init":
                result = self.init(params)
                self._reply(message["id"], result)
                if "disable" not in result:
                    self._start()
            else:
                self._reply_error(message["id"], JSONRPC_METHOD_NOT_FOUND, f"unknown method {method}")
            return
        if method == "shutdown":
            self._shutting_down = True
            return
        if method not in ("invoice_payment", "sendpay_success"):
            return
        if not self._initialized:
            self.log("warn", f"{method} before a successful init: ignored")
            return
        try:
            payload = notification_payload(params, method)
            if method == "invoice_payment":
                event = credit_from_invoice_payment(payload)
                if event["sats"] < 1:
                    self.log("warn", f"invoice_payment {event['id']} brought less than 1 sat: no credit")
                    return
            else:
                event = debit_from_sendpay(payload)
                if event is None:
                    self.log("warn", f"sendpay_success with status {payload.get('status')!r}: no debit")
                    return
        except MalformedPayment as error:
            self.log("error", f"malformed {method} notification skipped: {error}")
            return
        assert self._forwarder is not None
        self._forwarder.submit(event)

    @staticmethod
    def manifest() -> dict:
        return {
            "options": OPTIONS,
            "rpcmethods": [],
            "subscriptions": SUBSCRIPTIONS,
            "hooks": [],
            "nonnumericids": True,
            "dynamic": True,
        }

    def init(self, params: Any) -> dict:
        """Returns {} when running, or {"disable": reason}, which lightningd logs."""
        if self._initialized:
            return {}
        if not isinstance(params, dict):
            return {"disable": "init params are not an object"}
        options = params.get("options") if isinstance(params.get("options"), dict) else {}
        configuration = params.get("configuration") if isinstance(params.get("configuration"), dict) else {}
        lightning_dir = configuration.get("lightning-dir")
        rpc_file = configuration.get("rpc-file")
        if not isinstance(lightning_dir, str) or not isinstance(rpc_file, str):
            return {"disable": "init configuration lacks lightning-dir or rpc-file"}
        socket_option = options.get("synthusd-socket")
        if not isinstance(socket_option, str) or not socket_option:
            return {"disable": "synthusd-socket is not set: give the engine's liability socket path or host:port"}
        state_option = options.get("synthusd-state-file")
        state_path = state_option if isinstance(state_option, str) and state_option else STATE_FILE_NAME
        self._state = StateFile(os.path.join(lightning_dir, state_path), self.log)
        state_directory = os.path.dirname(os.path.abspath(self._state.path))
        if not os.access(state_directory, os.W_OK | os.X_OK):
            return {"disable": f"cannot write the state file's directory {state_directory}"}
        try:
            cursors = self._state.load()
        except ValueError as error:
            # Guessing a cursor would either replay or skip payments; the operator decides.
            return {"disable": f"{error}; fix or remove it (removing replays every payment, "
                               "which the engine deduplicates)"}

        rpc_path = os.path.join(lightning_dir, rpc_file)
        address = parse_engine_address(socket_option, lightning_dir)
        self._forwarder = Forwarder(address, self.log)
        invoices = Cursor("lastpay_index", cursors["lastpay_index"], self._state.advance)
        sendpays = Cursor("sendpay_updated_index", cursors["sendpay_updated_index"], self._state.advance)
        self._followers = [
            InvoiceFollower(rpc_path, invoices, self._forwarder, self.log),
            SendpayFollower(rpc_path, sendpays, self._forwarder, self.log),
        ]
        self._initialized = True
        self._started_message = (f"forwarding to {socket_option}; resuming after pay_index "
                                 f"{cursors['lastpay_index']} and sendpay updated_index "
                                 f"{cursors['sendpay_updated_index']} ({self._state.path})")
        return {}

    def _start(self) -> None:
        """Runs once the init reply is out, so lightningd's RPC socket is up."""
        if self._forwarder is None or self._started:
            return
        self._started = True
        assert self._state is not None
        self.log("info", self._started_message)
        self._state.start()
        self._forwarder.start()
        for follower in self._followers:
            follower.start()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for follower in self._followers:
            follower.stop()
        if self._forwarder is not None:
            if not self._forwarder.drain(SHUTDOWN_DRAIN_SECONDS):
                self.log("warn", f"stopping with {self._forwarder.pending_count()} un-acked events; "
                         "they are replayed from the persisted indexes at the next start")
            self._forwarder.stop()
        if self._state is not None and self._started:
            self._state.stop()


def main() -> int:
    # SIGTERM takes the same way out as a closed stdin: drain briefly, save the cursors.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    plugin = Plugin(sys.stdin, sys.stdout.buffer)
    try:
        return plugin.run()
    except (KeyboardInterrupt, SystemExit):
        plugin.stop()
        return 0


if __name__ == "__main__":
    sys.exit(main())
