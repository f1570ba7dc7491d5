#!/usr/bin/env python3
"""Tests for liabilities/cln-plugin/synthusd_plugin.py, the Core Lightning liability source.

The plugin runs as a real child process under fake_lightningd.FakeLightningd, which
speaks lightningd's plugin protocol and serves its RPC socket; FakeEngine below
stands in for the engine's liability intake (liabilities/PROTOCOL.md) until the
C++ server exists. Standard library only; every test uses its own temporary
directory, Unix sockets with short paths and ephemeral TCP ports, so runs can
overlap. Run: python3 tests/liabilities/cln_plugin_test.py -v
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PLUGIN = os.path.join(ROOT, "liabilities", "cln-plugin", "synthusd_plugin.py")
sys.path.insert(0, HERE)

from fake_lightningd import FakeLightningd  # noqa: E402

STATE_FILE_NAME = "synthusd-cln-state.json"
TIMEOUT = 15.0


def payment_hash_of(preimage: str) -> str:
    return hashlib.sha256(bytes.fromhex(preimage)).hexdigest()


def preimage_for(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def short_temporary_directory() -> str:
    """A fresh directory whose socket paths stay far below sun_path's 108 bytes."""
    base = tempfile.gettempdir()
    if len(base) > 40:
        base = "/tmp"
    return tempfile.mkdtemp(prefix="cln-", dir=base)


class FakeEngine:
    """The engine's liability intake, as liabilities/PROTOCOL.md describes it.

    Validates each line, deduplicates on id, and answers in order: an ack with a
    sequence (echoing pay_index), a duplicate ack, or a reject. The journal survives
    stop() and start(), as the real journal survives an engine restart.
    """

    def __init__(self, directory: str, *, tcp: bool = False) -> None:
        self.tcp = tcp
        self.path = os.path.join(directory, "engine.sock")
        self.port = 0
        self._state = threading.Condition()
        self.received: list[dict] = []  # every event line, duplicates included, in arrival order
        self.journal: dict[str, tuple[int, dict]] = {}  # id -> (sequence, first event)
        self.rejected: list[tuple[str, str]] = []
        self.reject_ids: set[str] = set()
        self.answering = True  # False: read events but never answer, like a crash before fsync
        self.wrong_answers = 0  # answer this many events with an ack for another id
        self.connections = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._sequence = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}" if self.tcp else self.path

    def start(self) -> None:
        if self.tcp:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            self.port = listener.getsockname()[1]
        else:
            if os.path.exists(self.path):
                os.unlink(self.path)
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(self.path)
        listener.listen(8)
        with self._state:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="engine-accept", daemon=True).start()

    def stop(self) -> None:
        with self._state:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        if listener is not None:
            listener.close()
        for connection in sockets:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()
        if not self.tcp and os.path.exists(self.path):
            os.unlink(self.path)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with self._state:
                if self._listener is not listener:
                    connection.close()
                    return
                self._sockets.append(connection)
                self.connections += 1
                self._state.notify_all()
            threading.Thread(target=self._serve, args=(connection,), name="engine-conn", daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        buffer = b""
        try:
            while True:
                data = connection.recv(65536)
                if not data:
                    return
                buffer += data
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    answer = self._answer(line)
                    if answer is not None:
                        connection.sendall(json.dumps(answer).encode() + b"\n")
        except OSError:
            return
        finally:
            connection.close()

    def _answer(self, line: bytes) -> dict | None:
        with self._state:
            try:
                event = json.loads(line)
            except ValueError:
                event = None
            if isinstance(event, dict):
                self.received.append(event)
            self._state.notify_all()
            if not self.answering:
                return None
            if self.wrong_answers > 0:
                self.wrong_answers -= 1
                return {"ack": "cln:not-the-event-you-sent", "sequence": 0}
            if len(line) > 4096:
                return self._reject("", "line over 4 KiB")
            if not isinstance(event, dict):
                return self._reject("", "bad JSON")
            event_id = event.get("id")
            reason = self.invalid(event)
            if reason is not None:
                return self._reject(event_id if isinstance(event_id, str) else "", reason)
            if event_id in self.reject_ids:
                return self._reject(event_id, "rejected by the test")
            if event_id in self.journal:
                return {"ack": event_id, "duplicate": True}
            self._sequence += 1
            self.journal[event_id] = (self._sequence, event)
            answer: dict[str, Any] = {"ack": event_id, "sequence": self._sequence}
            if "pay_index" in event:
                answer["pay_index"] = event["pay_index"]
            return answer

    def _reject(self, event_id: str, reason: str) -> dict:
        self.rejected.append((event_id, reason))
        return {"reject": event_id, "reason": reason}

    @staticmethod
    def invalid(event: dict) -> str | None:
        def positive_int(value: Any) -> bool:
            return isinstance(value, int) and not isinstance(value, bool) and value > 0

        event_id = event.get("id")
        if not isinstance(event_id, str) or not 1 <= len(event_id.encode()) <= 128:
            return "id must be a string of 1-128 bytes"
        if event.get("kind") not in ("usd_credit", "usd_debit"):
            return "kind must be usd_credit or usd_debit"
        if "usd_cents" not in event and "sats" not in event:
            return "usd_cents or sats required"
        for field in ("usd_cents", "sats"):
            if field in event and not positive_int(event[field]):
                return f"{field} must be a positive integer"
        if not isinstance(event.get("ts"), int) or isinstance(event.get("ts"), bool):
            return "ts must be an integer"
        if "pay_index" in event and not isinstance(event["pay_index"], int):
            return "pay_index must be an integer"
        if "backfill" in event and not isinstance(event["backfill"], bool):
            return "backfill must be true or false"
        return None

    def wait_for(self, predicate: Any, timeout: float = TIMEOUT, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        with self._state:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"engine: timed out after {timeout} s waiting for {what}; "
                                         f"journal={sorted(self.journal)} received={self.received}")
                self._state.wait(min(remaining, 0.1))

    def wait_for_journal(self, *event_ids: str, timeout: float = TIMEOUT) -> None:
        self.wait_for(lambda: all(event_id in self.journal for event_id in event_ids), timeout,
                      f"{list(event_ids)} in the journal")

    def event(self, event_id: str) -> dict:
        with self._state:
            return self.journal[event_id][1]

    def received_ids(self) -> list[str]:
        with self._state:
            return [event.get("id") for event in self.received]


class PluginTestCase(unittest.TestCase):
    def setUp(self) -> None:
        self.directory = short_temporary_directory()
        self.engine = FakeEngine(self.directory)
        self.lightningd = FakeLightningd(PLUGIN, self.directory)
        self.lightningd.start_rpc()
        self.diagnostics = ""

    def tearDown(self) -> None:
        try:
            self.lightningd.close()
            self.engine.stop()
            self.diagnostics = (f"plugin log:\n" + "\n".join(f"  [{level}] {message}"
                                                            for level, message in self.lightningd.logs)
                                + f"\nplugin stderr:\n{self.lightningd.stderr()}")
            # Whatever happened in the test, the plugin's stdout stayed valid JSON-RPC.
            self.assertEqual(self.lightningd.violations, [])
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def run(self, result: unittest.TestResult | None = None) -> unittest.TestResult | None:
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        super().run(result)
        if len(result.failures) + len(result.errors) > before and self.diagnostics:
            sys.stderr.write(f"\n--- {self.id()} ---\n{self.diagnostics}\n")
        return result

    # --- helpers ---------------------------------------------------------

    def options(self, **extra: Any) -> dict:
        return {"synthusd-socket": self.engine.address, "synthusd-state-file": "", **extra}

    def start_plugin(self, **extra: Any) -> dict:
        response = self.lightningd.start_plugin(self.options(**extra))
        self.assertEqual(response.get("result"), {}, response)
        return response

    def state(self) -> dict:
        path = os.path.join(self.directory, STATE_FILE_NAME)
        try:
            with open(path) as file:
                return json.load(file)
        except FileNotFoundError:
            return {}

    def wait_for_state(self, **expected: int) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            state = self.state()
            if all(state.get(key) == value for key, value in expected.items()):
                return
            time.sleep(0.02)
        self.fail(f"state file is {self.state()}, expected {expected}")

    def assert_forwarding_continues(self, label: str) -> None:
        preimage = preimage_for(label)
        self.lightningd.notify("invoice_payment", {"msat": 1_000_000, "preimage": preimage, "label": label})
        self.engine.wait_for_journal(f"cln:{payment_hash_of(preimage)}")
        self.assertTrue(self.lightningd.plugin_alive())

    def errors_logged(self) -> list[str]:
        return [message for level, message in self.lightningd.logs if level in ("error", "broken")]


class HandshakeTest(PluginTestCase):
    def test_manifest_declares_options_subscriptions_and_string_ids(self) -> None:
        self.lightningd.spawn_plugin()
        manifest = self.lightningd.getmanifest()
        self.assertEqual(manifest["id"], "cln:getmanifest#1")
        result = manifest["result"]
        options = {option["name"]: option for option in result["options"]}
        self.assertEqual(set(options), {"synthusd-socket", "synthusd-state-file"})
        for option in options.values():
            self.assertEqual(option["type"], "string")
            self.assertTrue(option["description"])
        self.assertNotIn("default", options["synthusd-socket"])
        self.assertIn("invoice_payment", result["subscriptions"])
        self.assertIn("sendpay_success", result["subscriptions"])
        self.assertIn("shutdown", result["subscriptions"])
        self.assertEqual(result["rpcmethods"], [])
        self.assertEqual(result["hooks"], [])
        self.assertIs(result["nonnumericids"], True)
        self.assertIn("dynamic", result)

    def test_init_replies_with_an_empty_result_and_starts_forwarding(self) -> None:
        self.engine.start()
        response = self.start_plugin()
        self.assertEqual(response["id"], "cln:init#2")
        self.engine.wait_for(lambda: self.engine.connections >= 1, what="the plugin to connect")
        self.lightningd.wait_for(lambda: any(method == "waitanyinvoice" for method, _ in self.lightningd.rpc_calls),
                                 TIMEOUT, "waitanyinvoice")
        self.lightningd.wait_for_log("forwarding to")

    def test_init_without_the_socket_option_disables_the_plugin(self) -> None:
        self.lightningd.spawn_plugin()
        self.lightningd.getmanifest()
        response = self.lightningd.init({"synthusd-state-file": ""})
        self.assertIn("synthusd-socket", response["result"]["disable"])

    def test_unknown_request_gets_a_method_not_found_error(self) -> None:
        self.engine.start()
        self.start_plugin()
        response = self.lightningd.request("synthusd-nothing", {})
        self.assertEqual(response["error"]["code"], -32601)


class CreditTest(PluginTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.engine.start()
        self.start_plugin()

    def test_invoice_payment_with_numeric_msat_is_credited(self) -> None:
        # Not in the fake's invoice list: only the notification can produce this credit.
        preimage = preimage_for("numeric")
        self.lightningd.notify("invoice_payment", {"msat": 12_345_000, "preimage": preimage, "label": "numeric"})
        event_id = f"cln:{payment_hash_of(preimage)}"
        self.engine.wait_for_journal(event_id)
        event = self.engine.event(event_id)
        self.assertEqual(event["kind"], "usd_credit")
        self.assertEqual(event["sats"], 12_345)
        self.assertNotIn("usd_cents", event)
        self.assertAlmostEqual(event["ts"], time.time() * 1000, delta=60_000)
        self.assertNotIn("backfill", event)  # the notification is live: the engine's ts window applies

    def test_invoice_payment_with_string_msat_is_credited(self) -> None:
        preimage = preimage_for("string")
        self.lightningd.notify("invoice_payment", {"msat": "10000msat", "preimage": preimage, "label": "string"})
        event_id = f"cln:{payment_hash_of(preimage)}"
        self.engine.wait_for_journal(event_id)
        self.assertEqual(self.engine.event(event_id)["sats"], 10)

    def test_paid_invoice_is_credited_once_and_its_pay_index_acknowledged(self) -> None:
        invoice = self.lightningd.pay_invoice("coffee", 50_000_000)
        event_id = f"cln:{invoice['payment_hash']}"
        self.engine.wait_for_journal(event_id)
        self.wait_for_state(lastpay_index=1)
        self.assertEqual(len(self.engine.journal), 1)
        self.assertEqual(self.engine.event(event_id)["sats"], 50_000)
        # The notification and waitanyinvoice both name it; the second is at most a duplicate.
        self.assertLessEqual(self.engine.received_ids().count(event_id), 2)

    def test_invoice_paid_without_a_notification_is_credited_from_waitanyinvoice(self) -> None:
        invoice = self.lightningd.pay_invoice("quiet", 21_000, notify=False)
        event_id = f"cln:{invoice['payment_hash']}"
        self.engine.wait_for_journal(event_id)
        event = self.engine.event(event_id)
        self.assertEqual(event["pay_index"], 1)
        self.assertEqual(event["ts"], invoice["paid_at"] * 1000)
        self.assertEqual(event["sats"], 21)
        # From lightningd's index: history, admitted with its old paid_at.
        self.assertIs(event["backfill"], True)

    def test_unusable_waitanyinvoice_result_is_logged_and_skipped(self) -> None:
        self.lightningd.pay_invoice("unusable", 5_000, notify=False, fields={"payment_hash": "not-a-hash"})
        good = self.lightningd.pay_invoice("usable", 6_000, notify=False)
        self.engine.wait_for_journal(f"cln:{good['payment_hash']}")
        self.wait_for_state(lastpay_index=2)
        self.lightningd.wait_for_log("invoice pay_index 1 skipped")
        self.assertEqual(len(self.engine.journal), 1)

    def test_credits_round_down_and_less_than_a_sat_is_not_credited(self) -> None:
        rounded = self.lightningd.pay_invoice("rounded", 10_999)
        dust = self.lightningd.pay_invoice("dust", 999)
        after = self.lightningd.pay_invoice("after", 2_000)
        self.engine.wait_for_journal(f"cln:{rounded['payment_hash']}", f"cln:{after['payment_hash']}")
        self.assertEqual(self.engine.event(f"cln:{rounded['payment_hash']}")["sats"], 10)
        self.assertNotIn(f"cln:{dust['payment_hash']}", self.engine.received_ids())
        # The dust invoice does not hold the resume cursor back.
        self.wait_for_state(lastpay_index=3)
        self.lightningd.wait_for_log("less than 1 sat")


class DebitTest(PluginTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.engine.start()
        self.start_plugin()

    def test_sendpay_success_is_debited_with_fees_rounded_up(self) -> None:
        payment_hash = payment_hash_of(preimage_for("debit"))
        self.lightningd.complete_sendpay(payment_hash, 100_001_001, amount_msat=100_000_000)
        event_id = f"cln:{payment_hash}:1:0"
        self.engine.wait_for_journal(event_id)
        event = self.engine.event(event_id)
        self.assertEqual(event["kind"], "usd_debit")
        # amount_sent_msat (what left the node, fees included), rounded up to whole sats.
        self.assertEqual(event["sats"], 100_002)
        self.assertNotIn("pay_index", event)
        self.wait_for_state(sendpay_updated_index=1)

    def test_multi_part_payment_debits_every_part(self) -> None:
        payment_hash = payment_hash_of(preimage_for("mpp"))
        for partid, amount in ((1, 30_000_500), (2, 30_000_500), (3, 40_001_000)):
            self.lightningd.complete_sendpay(payment_hash, amount, partid=partid)
        event_ids = [f"cln:{payment_hash}:1:{partid}" for partid in (1, 2, 3)]
        self.engine.wait_for_journal(*event_ids)
        self.assertEqual([self.engine.event(event_id)["sats"] for event_id in event_ids], [30_001, 30_001, 40_001])
        self.wait_for_state(sendpay_updated_index=3)

    def test_failed_parts_are_not_debited_but_advance_the_cursor(self) -> None:
        payment_hash = payment_hash_of(preimage_for("retry"))
        self.lightningd.fail_sendpay(payment_hash, 5_000_000, partid=1, groupid=1)
        self.lightningd.complete_sendpay(payment_hash, 5_000_000, partid=1, groupid=2)
        self.engine.wait_for_journal(f"cln:{payment_hash}:2:1")
        self.wait_for_state(sendpay_updated_index=2)
        self.assertNotIn(f"cln:{payment_hash}:1:1", self.engine.received_ids())

    def test_deleted_payments_do_not_stall_or_spin_the_sendpay_follower(self) -> None:
        failed = self.lightningd.fail_sendpay(payment_hash_of(preimage_for("deleted")), 1_000)
        self.lightningd.delete_sendpay(failed)
        self.wait_for_state(sendpay_updated_index=1)
        calls = len(self.lightningd.rpc_calls)
        time.sleep(0.5)
        self.assertLess(len(self.lightningd.rpc_calls) - calls, 5)
        payment = self.lightningd.complete_sendpay(payment_hash_of(preimage_for("kept")), 2_000, notify=False)
        self.engine.wait_for_journal(f"cln:{payment['payment_hash']}:1:0")
        self.wait_for_state(sendpay_updated_index=2)

    def test_paying_our_own_invoice_is_a_credit_and_a_debit(self) -> None:
        invoice = self.lightningd.pay_invoice("self", 7_000_000)
        self.lightningd.complete_sendpay(invoice["payment_hash"], 7_000_000)
        self.engine.wait_for_journal(f"cln:{invoice['payment_hash']}", f"cln:{invoice['payment_hash']}:1:0")


class StateTest(PluginTestCase):
    def test_acks_advance_the_state_file(self) -> None:
        self.engine.start()
        self.start_plugin()
        self.assertEqual(self.state(), {})
        for number in range(5):
            self.lightningd.pay_invoice(f"invoice-{number}", 1_000_000 * (number + 1))
        self.lightningd.complete_sendpay(payment_hash_of(preimage_for("out")), 2_000_000)
        self.wait_for_state(lastpay_index=5, sendpay_updated_index=1)
        self.assertEqual(self.state(), {"version": 1, "lastpay_index": 5, "sendpay_updated_index": 1})
        self.assertFalse(os.path.exists(os.path.join(self.directory, STATE_FILE_NAME + ".tmp")))

    def test_state_file_option_moves_the_state(self) -> None:
        self.engine.start()
        self.start_plugin(**{"synthusd-state-file": "elsewhere.json"})
        self.lightningd.pay_invoice("moved", 3_000)
        deadline = time.monotonic() + TIMEOUT
        path = os.path.join(self.directory, "elsewhere.json")
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.02)
        with open(path) as file:
            self.assertEqual(json.load(file)["lastpay_index"], 1)

    def test_corrupt_state_file_disables_the_plugin_instead_of_guessing(self) -> None:
        with open(os.path.join(self.directory, STATE_FILE_NAME), "w") as file:
            file.write("{not json")
        self.engine.start()
        response = self.lightningd.start_plugin(self.options())
        self.assertIn("not JSON", response["result"]["disable"])

    def test_restart_resumes_after_the_persisted_pay_index(self) -> None:
        self.engine.start()
        self.start_plugin()
        first = [self.lightningd.pay_invoice(f"before-{number}", 4_000) for number in range(2)]
        self.wait_for_state(lastpay_index=2)
        self.assertEqual(self.lightningd.stop_plugin("eof"), 0)

        # Paid while the plugin is down: lightningd sends no notification to anyone.
        missed = [self.lightningd.pay_invoice(f"down-{number}", 6_000) for number in range(2)]
        debit = self.lightningd.complete_sendpay(payment_hash_of(preimage_for("down")), 3_000)
        calls_before = len(self.lightningd.rpc_calls)
        received_before = len(self.engine.received)

        self.start_plugin()
        ids = [f"cln:{invoice['payment_hash']}" for invoice in missed] + [f"cln:{debit['payment_hash']}:1:0"]
        self.engine.wait_for_journal(*ids)
        self.wait_for_state(lastpay_index=4, sendpay_updated_index=1)

        calls = [params for method, params in self.lightningd.rpc_calls[calls_before:] if method == "waitanyinvoice"]
        self.assertEqual(calls[0], {"lastpay_index": 2})
        resent = [event["id"] for event in self.engine.received[received_before:]]
        for invoice in first:
            self.assertNotIn(f"cln:{invoice['payment_hash']}", resent)
        self.assertEqual(sorted(set(resent)), sorted(ids))

    def test_first_start_without_state_replays_from_the_first_pay_index(self) -> None:
        old = self.lightningd.pay_invoice("history", 8_000, notify=False)
        self.engine.start()
        self.start_plugin()
        self.engine.wait_for_journal(f"cln:{old['payment_hash']}")
        first_call = next(params for method, params in self.lightningd.rpc_calls if method == "waitanyinvoice")
        self.assertEqual(first_call, {"lastpay_index": 0})


class DeliveryTest(PluginTestCase):
    def test_events_are_buffered_while_the_engine_is_down_and_sent_when_it_is_back(self) -> None:
        self.start_plugin()
        invoices = [self.lightningd.pay_invoice(f"buffered-{number}", 9_000) for number in range(3)]
        debit = self.lightningd.complete_sendpay(payment_hash_of(preimage_for("buffered")), 1_500)
        self.lightningd.wait_for_log("unreachable")
        time.sleep(0.3)
        self.assertEqual(self.state(), {})

        self.engine.start()
        ids = [f"cln:{invoice['payment_hash']}" for invoice in invoices] + [f"cln:{debit['payment_hash']}:1:0"]
        self.engine.wait_for_journal(*ids)
        self.wait_for_state(lastpay_index=3, sendpay_updated_index=1)

    def test_a_notification_waiting_for_the_engine_becomes_backfill_with_the_followers_copy(self) -> None:
        # Sent late, the notification's ts would be outside the engine's live window; the
        # follower's copy of the same payment merges into it and says it is history.
        self.start_plugin()
        invoice = self.lightningd.pay_invoice("late", 7_000)
        self.lightningd.wait_for(lambda: sum(method == "waitanyinvoice" for method, _ in self.lightningd.rpc_calls)
                                 > 1, TIMEOUT, "the follower to read the invoice")
        self.engine.start()
        event_id = f"cln:{invoice['payment_hash']}"
        self.engine.wait_for_journal(event_id)
        event = self.engine.event(event_id)
        self.assertIs(event["backfill"], True)
        self.assertEqual(event["pay_index"], 1)

    def test_large_backlog_is_delivered_when_the_engine_comes_back(self) -> None:
        self.start_plugin()
        invoices = [self.lightningd.pay_invoice(f"backlog-{number}", 1_000 + number, notify=False)
                    for number in range(1_000)]
        self.lightningd.wait_for(lambda: sum(method == "waitanyinvoice" for method, _ in self.lightningd.rpc_calls)
                                 > len(invoices), TIMEOUT, "the plugin to read every invoice")
        self.engine.start()
        self.engine.wait_for_journal(*[f"cln:{invoice['payment_hash']}" for invoice in invoices], timeout=60)
        self.wait_for_state(lastpay_index=len(invoices))

    def test_events_sent_but_not_acked_are_resent_after_the_engine_restarts(self) -> None:
        self.engine.start()
        self.engine.answering = False
        self.start_plugin()
        invoice = self.lightningd.pay_invoice("unacked", 11_000, notify=False)
        event_id = f"cln:{invoice['payment_hash']}"
        self.engine.wait_for(lambda: event_id in self.engine.received_ids(), what="the first copy")
        time.sleep(0.2)
        self.assertEqual(self.state(), {})

        self.engine.stop()
        self.engine.answering = True
        self.engine.start()
        self.engine.wait_for_journal(event_id)
        self.wait_for_state(lastpay_index=1)
        self.assertGreaterEqual(self.engine.received_ids().count(event_id), 2)

    def test_duplicate_delivery_is_harmless(self) -> None:
        self.engine.start()
        self.start_plugin()
        invoice = self.lightningd.pay_invoice("twice", 5_000)
        payment = self.lightningd.complete_sendpay(payment_hash_of(preimage_for("paid-twice")), 4_000)
        credit_id, debit_id = f"cln:{invoice['payment_hash']}", f"cln:{payment['payment_hash']}:1:0"
        # Both cursors moved: the plugin has processed the acks, so nothing is pending.
        self.wait_for_state(lastpay_index=1, sendpay_updated_index=1)
        credits, debits = self.engine.received_ids().count(credit_id), self.engine.received_ids().count(debit_id)

        # lightningd (or a replay) delivers the same payments again: the copies reach
        # the engine, come back as duplicate acks, and change nothing.
        for _ in range(3):
            self.lightningd.notify("invoice_payment", {"msat": 5_000, "preimage": invoice["payment_preimage"],
                                                       "label": "twice"})
            self.lightningd.notify("sendpay_success", payment)
        self.engine.wait_for(lambda: self.engine.received_ids().count(credit_id) > credits
                             and self.engine.received_ids().count(debit_id) > debits, what="the copies")
        # Answers are processed in order: once a later payment moves the cursor, every
        # duplicate ack before it was taken.
        later = self.lightningd.pay_invoice("later", 6_000)
        self.wait_for_state(lastpay_index=2)
        self.assertEqual(sorted(self.engine.journal), sorted([credit_id, debit_id, f"cln:{later['payment_hash']}"]))
        self.assertEqual(self.engine.connections, 1)  # Duplicate acks never upset the connection.
        self.assertTrue(self.lightningd.plugin_alive())
        self.assertEqual(self.errors_logged(), [])

    def test_rejected_event_is_logged_not_resent_and_does_not_block_the_rest(self) -> None:
        self.engine.start()
        invoices = [self.lightningd.pay_invoice(f"reject-{number}", 3_000, notify=False) for number in range(3)]
        rejected_id = f"cln:{invoices[0]['payment_hash']}"
        self.engine.reject_ids.add(rejected_id)
        self.start_plugin()
        self.engine.wait_for_journal(*[f"cln:{invoice['payment_hash']}" for invoice in invoices[1:]])
        self.wait_for_state(lastpay_index=3)
        self.lightningd.wait_for_log(f"engine rejected {rejected_id}")

        # A reconnect resends what is un-acked, which the rejected event is not.
        self.engine.stop()
        self.engine.start()
        later = self.lightningd.pay_invoice("reject-later", 3_000, notify=False)
        self.engine.wait_for_journal(f"cln:{later['payment_hash']}")
        self.assertEqual(self.engine.received_ids().count(rejected_id), 1)

    def test_rpc_socket_path_longer_than_sun_path(self) -> None:
        self.lightningd.close()
        long_directory = os.path.join(self.directory, "d" * 70, "e" * 70)
        os.makedirs(long_directory)
        self.lightningd = FakeLightningd(PLUGIN, long_directory)
        self.lightningd.start_rpc()
        self.assertGreater(len(self.lightningd.rpc_path), 108)
        self.engine.start()
        self.start_plugin()
        invoice = self.lightningd.pay_invoice("long", 14_000, notify=False)
        self.engine.wait_for_journal(f"cln:{invoice['payment_hash']}")

    def test_answer_out_of_step_ends_the_connection_and_events_are_resent(self) -> None:
        self.engine.start()
        self.engine.wrong_answers = 1
        self.start_plugin()
        invoice = self.lightningd.pay_invoice("out-of-step", 12_000, notify=False)
        self.lightningd.wait_for_log("engine connection ended")
        self.engine.wait_for_journal(f"cln:{invoice['payment_hash']}")
        self.wait_for_state(lastpay_index=1)
        self.assertGreaterEqual(self.engine.connections, 2)

    def test_engine_over_tcp(self) -> None:
        self.engine = FakeEngine(self.directory, tcp=True)
        self.engine.start()
        self.start_plugin()
        invoice = self.lightningd.pay_invoice("tcp", 13_000)
        self.engine.wait_for_journal(f"cln:{invoice['payment_hash']}")
        self.wait_for_state(lastpay_index=1)


class RobustnessTest(PluginTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.engine.start()
        self.start_plugin()

    def test_malformed_notifications_are_logged_and_the_plugin_stays_alive(self) -> None:
        malformed = [
            ("invoice_payment", {"invoice_payment": {"msat": 1000, "label": "no-preimage"}}),
            ("invoice_payment", {"invoice_payment": {"msat": "lots", "preimage": "00" * 32}}),
            ("invoice_payment", {"invoice_payment": {"msat": -5, "preimage": "00" * 32}}),
            ("invoice_payment", {"invoice_payment": {"msat": 1.5, "preimage": "00" * 32}}),
            ("invoice_payment", {"invoice_payment": {"msat": 1000, "preimage": "xyz"}}),
            ("invoice_payment", {"invoice_payment": "not an object"}),
            ("invoice_payment", ["a", "list"]),
            ("sendpay_success", {"sendpay_success": {"payment_hash": "00" * 32, "status": "complete"}}),
            ("sendpay_success", {"sendpay_success": {"payment_hash": "short", "amount_sent_msat": 1000}}),
            ("sendpay_success", {"sendpay_success": {"payment_hash": "00" * 32, "amount_sent_msat": 1000,
                                                     "partid": "one"}}),
            ("sendpay_success", None),
        ]
        for topic, params in malformed:
            self.lightningd.send({"jsonrpc": "2.0", "method": topic, "params": params})
        self.lightningd.wait_for(lambda: len(self.errors_logged()) >= len(malformed), TIMEOUT,
                                 "an error log per malformed notification")
        self.assert_forwarding_continues("after-malformed")
        self.assertEqual(self.engine.rejected, [])

    def test_non_json_input_is_skipped_and_split_messages_are_reassembled(self) -> None:
        self.lightningd.send_raw(b"this is not JSON\n\n")
        self.lightningd.send_raw(b'{"jsonrpc":"2.0","method":\n\n')  # truncated, then the separator
        self.lightningd.send_raw(b"[1, 2, 3]\n\n")
        self.lightningd.wait_for_log("non-JSON input")

        preimage = preimage_for("split")
        message = json.dumps({"jsonrpc": "2.0", "method": "invoice_payment", "params": {
            "invoice_payment": {"msat": 2_000_000, "preimage": preimage, "label": "split"}}}).encode() + b"\n\n"
        for start in range(0, len(message), 17):
            self.lightningd.send_raw(message[start:start + 17])
            time.sleep(0.005)
        self.engine.wait_for_journal(f"cln:{payment_hash_of(preimage)}")

        batch = b"".join(json.dumps({"jsonrpc": "2.0", "method": "invoice_payment", "params": {
            "invoice_payment": {"msat": 3_000, "preimage": preimage_for(f"batch-{number}"), "label": "b"}}}).encode()
            + b"\n\n" for number in range(3))
        self.lightningd.send_raw(batch)
        self.engine.wait_for_journal(*[f"cln:{payment_hash_of(preimage_for(f'batch-{number}'))}"
                                       for number in range(3)])
        self.assert_forwarding_continues("after-garbage")

    def test_unsubscribed_notifications_are_ignored(self) -> None:
        self.lightningd.send({"jsonrpc": "2.0", "method": "forward_event", "params": {"forward_event": {}}})
        self.assert_forwarding_continues("after-unsubscribed")
        self.assertEqual(self.errors_logged(), [])

    def test_closing_stdin_exits_cleanly(self) -> None:
        self.assertEqual(self.lightningd.stop_plugin("eof"), 0)

    def test_shutdown_notification_exits_cleanly(self) -> None:
        self.assertEqual(self.lightningd.stop_plugin("shutdown"), 0)

    def test_sigterm_exits_cleanly_with_the_cursors_saved(self) -> None:
        self.lightningd.pay_invoice("before-term", 5_000)
        self.wait_for_state(lastpay_index=1)
        self.assertEqual(self.lightningd.stop_plugin("term"), 0)
        self.assertEqual(self.state()["lastpay_index"], 1)


class OldLightningTest(PluginTestCase):
    def test_without_sendpay_indexes_live_debits_still_flow(self) -> None:
        self.lightningd.index_support = False
        self.engine.start()
        self.start_plugin()
        self.lightningd.wait_for_log("before v23.11")
        payment = self.lightningd.complete_sendpay(payment_hash_of(preimage_for("old")), 9_000)
        self.engine.wait_for_journal(f"cln:{payment['payment_hash']}:1:0")
        self.assertNotIn("sendpay_updated_index", {key for key, value in self.state().items() if value})


if __name__ == "__main__":
    unittest.main()
