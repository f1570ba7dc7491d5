#!/usr/bin/env python3
"""A stand-in for Core Lightning's lightningd, for testing plugins without a node.

It does what lightningd does to a plugin, on the same wire formats:

- spawns the plugin with the lightning dir as working directory and speaks JSON-RPC
  2.0 on its stdin/stdout: `getmanifest` and `init` requests with string ids shaped
  like "cln:getmanifest#1", then notifications such as `invoice_payment` and
  `sendpay_success`, each message ended by "\\n\\n";
- reads the plugin's stdout as a JSON stream and records, as a violation, anything
  for which lightningd would kill the plugin (non-JSON, a log notification without a
  string message or with an unknown level);
- serves the node's JSON-RPC Unix socket, <lightning-dir>/<rpc-file>, answering
  `waitanyinvoice [lastpay_index] [timeout]`, `listinvoices`, `listsendpays` (with
  v23.11's index/start/limit) and `wait` from in-memory invoices and payments.

Standard library only. Shapes follow Core Lightning's doc/schemas (v26.06).

Used by the plugin's tests (tests/liabilities/fake_lightningd.py re-exports this module)
and by the demo's payment replay (lightning_replay.py next to this file).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Callable

LOG_LEVELS = {"io", "trace", "debug", "info", "unusual", "broken", "warn", "error"}
INVOICE_WAIT_TIMED_OUT = 904
JSONRPC_METHOD_NOT_FOUND = -32601
JSONRPC_INVALID_PARAMS = -32602


class JsonValues:
    """Decodes a byte stream of JSON objects, as lightningd reads its plugins' stdout.

    An object may arrive in pieces. Input that cannot be the start of an object, or
    that is still undecodable once a blank line ("\\n\\n") follows it, raises
    ValueError: lightningd would kill the plugin for it.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._decoder = json.JSONDecoder()
        self._buffer = ""

    def feed(self, data: bytes) -> list[Any]:
        try:
            self._buffer += self._utf8.decode(data)
        except UnicodeDecodeError as error:
            raise ValueError(f"not UTF-8: {data[:200]!r}") from error
        values = []
        while True:
            self._buffer = self._buffer.lstrip(" \t\r\n")
            if not self._buffer:
                return values
            if not self._buffer.startswith("{"):
                raise ValueError(f"not a JSON object: {self._buffer[:200]!r}")
            try:
                value, end = self._decoder.raw_decode(self._buffer)
            except json.JSONDecodeError as error:
                if "\n\n" in self._buffer:
                    raise ValueError(f"not JSON: {self._buffer[:200]!r}") from error
                return values  # Incomplete: wait for more.
            self._buffer = self._buffer[end:]
            values.append(value)


class FakeLightningd:
    def __init__(self, plugin: str, lightning_dir: str, *, rpc_file: str = "lightning-rpc",
                 network: str = "regtest", index_support: bool = True) -> None:
        self.plugin_path = plugin
        self.lightning_dir = lightning_dir
        self.rpc_file = rpc_file
        self.network = network
        # False emulates Core Lightning before v23.11: listsendpays has no index.
        self.index_support = index_support

        self._state = threading.Condition()
        self.invoices: list[dict] = []
        self.sendpays: list[dict] = []
        self.sendpay_updated_index = 0
        self.rpc_calls: list[tuple[str, Any]] = []

        self.process: subprocess.Popen | None = None
        self.stderr_path = os.path.join(lightning_dir, "plugin-stderr.log")
        self._stderr_file = None
        self._write_lock = threading.Lock()
        self._next_request = 0
        self.responses: dict[Any, dict] = {}
        self.logs: list[tuple[str, str]] = []
        self.violations: list[str] = []
        self._reader: threading.Thread | None = None

        self._rpc_listener: socket.socket | None = None
        self._rpc_connections: list[socket.socket] = []
        self._closing = False

    # --- the node's RPC socket -------------------------------------------

    @property
    def rpc_path(self) -> str:
        return os.path.join(self.lightning_dir, self.rpc_file)

    def start_rpc(self) -> None:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if len(os.fsencode(self.rpc_path)) < 108:
            listener.bind(self.rpc_path)
        else:
            # Past sun_path's 108 bytes, as lightningd does: bind through a directory fd.
            directory = os.open(self.lightning_dir, os.O_RDONLY | os.O_DIRECTORY)
            try:
                listener.bind(f"/proc/self/fd/{directory}/{self.rpc_file}")
            finally:
                os.close(directory)
        listener.listen(16)
        self._rpc_listener = listener
        threading.Thread(target=self._accept_rpc, name="fake-rpc-accept", daemon=True).start()

    def _accept_rpc(self) -> None:
        assert self._rpc_listener is not None
        while True:
            try:
                connection, _ = self._rpc_listener.accept()
            except OSError:
                return
            with self._state:
                if self._closing:
                    connection.close()
                    return
                self._rpc_connections.append(connection)
            threading.Thread(target=self._serve_rpc, args=(connection,), name="fake-rpc", daemon=True).start()

    def _serve_rpc(self, connection: socket.socket) -> None:
        values = JsonValues()
        try:
            while True:
                data = connection.recv(65536)
                if not data:
                    return
                for request in values.feed(data):
                    response = self._answer_rpc(request)
                    if response is None:
                        return  # Closing.
                    connection.sendall(json.dumps(response).encode() + b"\n\n")
        except (OSError, ValueError):
            return
        finally:
            connection.close()

    def _answer_rpc(self, request: Any) -> dict | None:
        request_id = request.get("id") if isinstance(request, dict) else None
        method = request.get("method") if isinstance(request, dict) else None
        params = request.get("params", {}) if isinstance(request, dict) else {}
        with self._state:
            self.rpc_calls.append((method, params))
            self._state.notify_all()
        handler = {
            "waitanyinvoice": self._rpc_waitanyinvoice,
            "listinvoices": self._rpc_listinvoices,
            "listsendpays": self._rpc_listsendpays,
            "wait": self._rpc_wait,
            "getinfo": lambda params: {"id": "02" + "11" * 32, "network": self.network},
        }.get(method)
        try:
            if handler is None:
                raise RpcFailure(JSONRPC_METHOD_NOT_FOUND, f"Unknown command '{method}'")
            result = handler(params)
        except RpcFailure as failure:
            return {"jsonrpc": "2.0", "id": request_id, "error": {"code": failure.code, "message": failure.message}}
        if result is None:
            return None
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    @staticmethod
    def _named(params: Any, names: list[str]) -> dict:
        if isinstance(params, list):
            if len(params) > len(names):
                raise RpcFailure(JSONRPC_INVALID_PARAMS, "too many parameters")
            return dict(zip(names, params))
        if isinstance(params, dict):
            unknown = set(params) - set(names)
            if unknown:
                raise RpcFailure(JSONRPC_INVALID_PARAMS, f"unknown parameter: {sorted(unknown)[0]}")
            return params
        raise RpcFailure(JSONRPC_INVALID_PARAMS, "params must be an array or an object")

    def _rpc_waitanyinvoice(self, params: Any) -> dict | None:
        args = self._named(params, ["lastpay_index", "timeout"])
        last = args.get("lastpay_index") or 0
        timeout = args.get("timeout")
        if not isinstance(last, int) or last < 0:
            raise RpcFailure(JSONRPC_INVALID_PARAMS, "lastpay_index: should be an unsigned 64 bit integer")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._state:
            while True:
                if self._closing:
                    return None
                paid = [invoice for invoice in self.invoices if invoice["pay_index"] > last]
                if paid:
                    return dict(min(paid, key=lambda invoice: invoice["pay_index"]))
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise RpcFailure(INVOICE_WAIT_TIMED_OUT, "Timed out while waiting for invoice to be paid")
                self._state.wait(remaining if remaining is not None else 1.0)

    def _rpc_listinvoices(self, params: Any) -> dict:
        args = self._named(params, ["label", "invstring", "payment_hash", "offer_id", "index", "start", "limit"])
        with self._state:
            invoices = [dict(invoice) for invoice in self.invoices
                        if args.get("label") in (None, invoice["label"])]
        return {"invoices": invoices}

    def _rpc_listsendpays(self, params: Any) -> dict:
        names = ["bolt11", "payment_hash", "status"]
        if self.index_support:
            names += ["index", "start", "limit"]
        args = self._named(params, names)
        with self._state:
            payments = [dict(payment) for payment in self.sendpays]
        if args.get("index") == "updated":
            start = args.get("start", 0)
            payments = sorted((payment for payment in payments if payment.get("updated_index", 0) >= max(start, 1)),
                              key=lambda payment: payment["updated_index"])
        if args.get("limit") is not None:
            payments = payments[:args["limit"]]
        return {"payments": payments}

    def _rpc_wait(self, params: Any) -> dict | None:
        args = self._named(params, ["subsystem", "indexname", "nextvalue"])
        if args.get("subsystem") != "sendpays" or args.get("indexname") != "updated":
            raise RpcFailure(JSONRPC_INVALID_PARAMS, "this fake waits on sendpays/updated only")
        with self._state:
            while self.sendpay_updated_index < args["nextvalue"]:
                if self._closing:
                    return None
                self._state.wait(1.0)
            return {"subsystem": "sendpays", "updated": self.sendpay_updated_index}

    # --- payments --------------------------------------------------------

    def pay_invoice(self, label: str, msat: int, *, preimage: str | None = None, notify: bool = True,
                    msat_as_string: bool = False, fields: dict | None = None) -> dict:
        """An invoice gets paid: stored with the next pay_index, then notified if asked.
        `fields` overrides what waitanyinvoice returns for it."""
        preimage = preimage or hashlib.sha256(label.encode()).hexdigest()
        payment_hash = hashlib.sha256(bytes.fromhex(preimage)).hexdigest()
        with self._state:
            pay_index = len(self.invoices) + 1
            invoice = {
                "label": label, "bolt11": f"lnbcrt{msat}n1fake{pay_index}", "payment_hash": payment_hash,
                "amount_msat": msat, "status": "paid", "pay_index": pay_index,
                "amount_received_msat": msat, "paid_at": 1_738_500_000 + pay_index,
                "payment_preimage": preimage, "description": label, "expires_at": 1_739_000_000,
                "created_index": pay_index, "updated_index": pay_index,
            }
            invoice.update(fields or {})
            self.invoices.append(invoice)
            self._state.notify_all()
        if notify:
            amount: Any = f"{msat}msat" if msat_as_string else msat
            self.notify("invoice_payment", {"msat": amount, "preimage": preimage, "label": label})
        return invoice

    def complete_sendpay(self, payment_hash: str, amount_sent_msat: int, *, amount_msat: int | None = None,
                         partid: int | None = None, groupid: int = 1, notify: bool = True,
                         fields: dict | None = None) -> dict:
        """A payment part succeeds: stored with the next updated_index, then notified if asked.
        `fields` overrides what listsendpays and the notification return for it."""
        with self._state:
            created = len(self.sendpays) + 1
            self.sendpay_updated_index += 1
            payment = {
                "created_index": created, "id": created, "payment_hash": payment_hash, "groupid": groupid,
                "updated_index": self.sendpay_updated_index, "destination": "03" + "22" * 32,
                "amount_msat": amount_sent_msat if amount_msat is None else amount_msat,
                "amount_sent_msat": amount_sent_msat, "created_at": 1_738_600_000 + created,
                "completed_at": 1_738_600_001 + created, "status": "complete",
                "payment_preimage": "33" * 32,
            }
            if partid is not None:
                payment["partid"] = partid
            payment.update(fields or {})
            self.sendpays.append(payment)
            self._state.notify_all()
        if notify:
            self.notify("sendpay_success", payment)
        return payment

    def fail_sendpay(self, payment_hash: str, amount_sent_msat: int, *, partid: int | None = None,
                     groupid: int = 1) -> dict:
        """A payment part fails: it moves the updated index but is no debit."""
        payment = self.complete_sendpay(payment_hash, amount_sent_msat, partid=partid, groupid=groupid,
                                        notify=False)
        with self._state:
            payment["status"] = "failed"
            self.sendpays[-1]["status"] = "failed"
            self.sendpays[-1].pop("payment_preimage", None)
        return payment

    def delete_sendpay(self, payment: dict) -> None:
        """delpay: the row goes; the updated index it took stays used."""
        with self._state:
            self.sendpays = [row for row in self.sendpays if row["created_index"] != payment["created_index"]]
            self._state.notify_all()

    # --- the plugin process ----------------------------------------------

    def spawn_plugin(self) -> None:
        self.responses.clear()
        environment = dict(os.environ, LIGHTNINGD_PLUGIN="1", LIGHTNINGD_VERSION="v26.06-fake")
        self._stderr_file = open(self.stderr_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, self.plugin_path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr_file, cwd=self.lightning_dir, env=environment)
        self._reader = threading.Thread(target=self._read_plugin, args=(self.process,), name="fake-stdout",
                                        daemon=True)
        self._reader.start()

    def _read_plugin(self, process: subprocess.Popen) -> None:
        values = JsonValues()
        assert process.stdout is not None
        while True:
            data = process.stdout.read1(65536)
            if not data:
                return
            try:
                messages = values.feed(data)
            except ValueError as error:
                self._violation(f"plugin wrote non-JSON to stdout: {error}")
                return
            for message in messages:
                self._on_plugin_message(message)

    def _on_plugin_message(self, message: Any) -> None:
        with self._state:
            if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
                self._violation(f"not a JSON-RPC 2.0 message: {message!r}")
            elif "id" in message and "method" not in message:
                if ("result" in message) == ("error" in message):
                    self._violation(f"response needs exactly one of result and error: {message!r}")
                self.responses[message["id"]] = message
            elif message.get("method") == "log":
                params = message.get("params")
                if not isinstance(params, dict) or not isinstance(params.get("message"), str):
                    self._violation(f"log notification without a string message: {message!r}")
                elif params.get("level", "info") not in LOG_LEVELS:
                    self._violation(f"log notification with unknown level: {message!r}")
                else:
                    self.logs.append((params.get("level", "info"), params["message"]))
            else:
                self._violation(f"unexpected message from plugin: {message!r}")
            self._state.notify_all()

    def _violation(self, text: str) -> None:
        with self._state:
            self.violations.append(text)
            self._state.notify_all()

    def send_raw(self, data: bytes) -> None:
        assert self.process is not None and self.process.stdin is not None
        with self._write_lock:
            self.process.stdin.write(data)
            self.process.stdin.flush()

    def send(self, message: dict) -> None:
        self.send_raw(json.dumps(message).encode() + b"\n\n")

    def notify(self, topic: str, payload: Any) -> None:
        """Sends a notification in the current envelope: params = {"<topic>": payload}."""
        if self.process is None or self.process.poll() is not None:
            return  # lightningd does not queue notifications for a plugin that is down.
        self.send({"jsonrpc": "2.0", "method": topic, "params": {topic: payload}})

    def request(self, method: str, params: Any, timeout: float = 10.0) -> dict:
        self._next_request += 1
        request_id = f"cln:{method}#{self._next_request}"
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        self.wait_for(lambda: request_id in self.responses, timeout, f"no answer to {method}")
        return self.responses[request_id]

    def getmanifest(self) -> dict:
        return self.request("getmanifest", {"allow-deprecated-apis": False})

    def init(self, options: dict) -> dict:
        return self.request("init", {
            "options": options,
            "configuration": {
                "lightning-dir": self.lightning_dir, "rpc-file": self.rpc_file, "startup": True,
                "network": self.network, "feature_set": {"init": "08a0000a", "node": "88a0000a"},
            },
        })

    def start_plugin(self, options: dict) -> dict:
        """Spawns the plugin and runs the handshake; returns the init response."""
        self.spawn_plugin()
        manifest = self.getmanifest()
        if "result" not in manifest:
            raise AssertionError(f"getmanifest failed: {manifest}")
        return self.init(options)

    def stop_plugin(self, how: str = "eof", timeout: float = 10.0) -> int:
        """Ends the plugin: "eof" closes stdin (lightningd exited), "shutdown" sends the
        notification, "term" is SIGTERM, "kill" is SIGKILL. Returns the exit status."""
        process = self.process
        if process is None:
            return 0
        try:
            if how == "shutdown":
                self.send({"jsonrpc": "2.0", "method": "shutdown", "params": {}})
            elif how == "eof":
                assert process.stdin is not None
                process.stdin.close()
            elif how == "term":
                process.terminate()
            else:
                process.kill()
        except (BrokenPipeError, ValueError):
            pass
        try:
            status = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            status = process.wait()
            raise AssertionError(f"plugin did not exit within {timeout} s after {how}")
        finally:
            if self._reader is not None:
                self._reader.join(5)
            for stream in (process.stdin, process.stdout):
                if stream is not None and not stream.closed:
                    stream.close()
            if self._stderr_file is not None:
                self._stderr_file.close()
                self._stderr_file = None
            self.process = None
        return status

    def plugin_alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # --- helpers ---------------------------------------------------------

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        with self._state:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
                self._state.wait(min(remaining, 0.1))

    def wait_for_log(self, fragment: str, timeout: float = 10.0) -> tuple[str, str]:
        found: list[tuple[str, str]] = []

        def seen() -> bool:
            found[:] = [entry for entry in self.logs if fragment in entry[1]]
            return bool(found)

        self.wait_for(seen, timeout, f"a log line containing {fragment!r}")
        return found[0]

    def stderr(self) -> str:
        try:
            with open(self.stderr_path, "rb") as file:
                return file.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def close(self) -> None:
        if self.process is not None:
            try:
                self.stop_plugin("kill", timeout=5)
            except AssertionError:
                pass
        with self._state:
            self._closing = True
            self._state.notify_all()
            connections = list(self._rpc_connections)
        if self._rpc_listener is not None:
            self._rpc_listener.close()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()


class RpcFailure(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
