"""Collateral transfers executed end to end on loopback: `synthusd run`, the
venue simulator with its wallet on (synthusd-venue --wallet true), and the
fake lnd wallet (tests/support/fake_lnd_wallet.py), which "broadcasts" its
sends to the simulator's test chain.

Liability growth through the intake raises leverage above the collateral
band; the kernel asks for a deposit; the engine gets the venue's deposit
address, sends from the node, the venue credits the deposit after its delay
(pending -> completed), FIX reports the new equity and leverage returns into
the band. Then kill -9 at each step of a deposit, each stop made
deterministic by a hold, the kill switch, a long poll interval or a verified
venue state:
  - after the deposit address was journaled, before the send (poll_ms 3000
    between the two steps; the journal shows no "sending" afterwards): the
    restart sends it once and completes;
  - while the node holds the send (journal: address, sending), the node then
    broadcasting it: the restart finds the send by its label and completes,
    after lnd answered its first three lookups with an error (counted in
    synthusd_transfer_lookups_failed_total, never held for the operator);
  - after the send, the venue's deposit still pending (verified): completes;
  - after the venue credited it, the executor halted by /kill so that the
    completion is not yet journaled (verified): completes;
  - while the node holds the send, the node then dropping it (never on the
    chain): the restart cannot know, reports it to the operator (/health,
    /metrics, GET /transfers) and never sends it; the operator settles it as
    never sent (POST /transfers/settle/<id> "not_sent"), the kernel asks for
    a new deposit and that one executes once; the same again, but the
    operator finds the deposit made by hand and settles it "sent <txid>":
    the venue's credit of that txid completes it.
Every transfer is sent at most once (the node's count per label).
Withdrawals, the same way, with a relay in front of the venue's wallet API
that can hold private/withdraw (tests/support/held_venue_wallet.py); each
withdrawal is made by topping up the venue account from outside (the test
chain) while nothing is hedged, so that leverage is below the band:
  - after the node's address was journaled, before the venue is asked;
  - while the venue holds the request, then takes it: found at the venue;
  - while the venue holds the request, then loses it: held for the operator,
    settled "not_sent", and the next top-up's withdrawal executes once;
  - after the venue took it, still unconfirmed (verified);
  - after the node received it, the executor halted by /kill (verified).
Exactly one withdrawal at the venue per node address (one per transfer).
Also: with nothing to hedge, all collateral is withdrawn to the node (the
venue's withdraw, the node's incoming transaction), then a liability brings a
deposit and leverage into its band, once over plain HTTP and once over TLS
to both counterparties (the fake lnd serving HTTPS with its own tls.cert,
pinned by the engine; the venue's wallet API served over TLS by the
simulator itself, its certificate pinned and its server name checked); and a deposit the venue
never credits raises the overdue alert in /metrics and /health.

The harness (venue, relay, engine, journal) is transfers_e2e_support.py,
shared with run_transfers_cln_e2e_test.py.

Run: python3 tests/engine/run_transfers_e2e_test.py --synthusd build/synthusd --venue build/synthusd-venue
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "support"))
from engine_harness import run_tests  # noqa: E402
from fake_lnd_wallet import FakeLndWallet  # noqa: E402
from transfers_e2e_support import BINARIES, TransferSetup, read, wait_for  # noqa: E402

MACAROON = b"\x02\x01fake-admin-macaroon"


def make_certificate(directory: str, name: str, subject_alt_name: str) -> tuple[str, str]:
    """A self-signed P-256 certificate and its key, as lnd makes its tls.cert."""
    cert, key = os.path.join(directory, name + ".cert"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=" + subject_alt_name, "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def plain_http_answer(port: int) -> str | None:
    """The status line a plain HTTP request to 127.0.0.1:port is answered
    with, or None when the server closes without an HTTP answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/api/v2/private/get_current_deposit_address?currency=BTC")
        answer = connection.getresponse()
        return f"{answer.status} {answer.reason}"
    except (http.client.HTTPException, ConnectionError):
        return None
    finally:
        connection.close()


class Setup(TransferSetup):
    """Venue, lnd node and engine in one temporary directory (tls: HTTPS to both)."""

    def __init__(self, *args, tls: bool = False, **kwargs) -> None:
        self.tls = tls
        self.venue_certificate: tuple[str, str] | None = None
        super().__init__(*args, **kwargs)

    def venue_tls(self) -> tuple[str, str] | None:
        if self.tls:
            # The simulator serves its wallet API over TLS itself; its
            # certificate names only "localhost", reached at 127.0.0.1.
            self.venue_certificate = make_certificate(self.directory, "venue-tls", "DNS:localhost")
        return self.venue_certificate

    def start_node(self) -> str:
        if self.tls:
            assert self.venue_certificate is not None
            # lnd's tls.cert names localhost and the loopback addresses.
            node_cert, node_key = make_certificate(self.directory, "lnd-tls", "DNS:localhost,IP:127.0.0.1,IP:::1")
            self.node = FakeLndWallet(self.venue.url, MACAROON.hex(), balance_sats=100_000_000,
                                      tls_cert=node_cert, tls_key=node_key, chain_context=self.venue.context).start()
            tls_keys = f"""node_tls = true
node_tls_cert_file = "{node_cert}"
venue_tls = true
venue_tls_cert_file = "{self.venue_certificate[0]}"
venue_tls_server_name = "localhost"
"""
        else:
            self.node = FakeLndWallet(self.venue.url, MACAROON.hex(), balance_sats=100_000_000).start()
            tls_keys = "node_tls = false\nvenue_tls = false\n"
        macaroon = os.path.join(self.directory, "admin.macaroon")
        with open(macaroon, "wb") as f:
            f.write(MACAROON)
        os.chmod(macaroon, 0o600)
        return f"""node_host = "127.0.0.1"
node_port = {self.node.port}
{tls_keys}macaroon_file = "{macaroon}"
"""


class RunTransfersTest(unittest.TestCase):
    def test_deposits_execute_once_and_survive_kill_minus_nine_at_every_step(self) -> None:
        s = Setup(collateral="0.01", credit_delay_ms=2000, credit_timeout_seconds=600)
        try:
            s.start_engine()
            # $1,500 against 0.01 BTC ($600 at the simulator's $60,000): 2.5x, in band.
            s.add_liability(150_000)
            wait_for(lambda: (s.leverage() or 0) > 2.4, 30, "the hedge at 2.5x")
            self.assertEqual(s.transfer_ids(), [])

            def in_band() -> bool:
                lev = s.leverage()
                return lev is not None and 2.9 <= lev <= 4.0

            def complete(transfer_id: int) -> None:
                wait_for(lambda: s.has_step(transfer_id, "completed"), 30, f"transfer {transfer_id} completed")
                wait_for(in_band, 30, "leverage back in its band")

            # 1. No crash: the liability doubles (5x), one deposit brings it back to 3x.
            s.add_liability(150_000)
            first = s.new_transfer(0)
            complete(first)
            self.assertEqual(s.node.sends_by_label, {f"synthusd-transfer-{first}": 1})
            txid = s.has_step(first, "sent")[1]
            self.assertEqual(s.venue.deposit_state(txid), "completed")

            # 1b. kill -9 after the address was journaled, before the send: with
            # poll_ms 3000 the executor waits 3 s between the two steps; the journal
            # afterwards proves the kill fell between them.
            s.kill_engine()
            s.set_poll_ms(3000)
            s.start_engine()
            s.add_liability(s.liability_cents)
            addressed = s.new_transfer(first)
            wait_for(lambda: s.has_step(addressed, "address"), 30, "the deposit address journaled")
            s.kill_engine()
            self.assertIsNone(s.has_step(addressed, "sending"))
            self.assertEqual(s.node.send_requests, 1)
            s.set_poll_ms(100)
            s.start_engine()
            complete(addressed)
            first = addressed

            # 2. kill -9 while the node holds the send; the node then broadcasts it.
            s.node.hold_sends = True
            s.add_liability(s.liability_cents)
            second = s.new_transfer(first)
            wait_for(s.node.held.is_set, 30, "the send held at the node")
            self.assertTrue(s.has_step(second, "sending"))
            s.kill_engine()
            s.node.release_held()
            wait_for(lambda: s.node.sends_by_label.get(f"synthusd-transfer-{second}"), 10, "the held send broadcast")
            # lnd restarting too: its first three answers to the restart's
            # lookup are errors, which decide nothing (not needs_operator).
            s.node.failing_lookups = 3
            s.start_engine()
            complete(second)
            self.assertEqual(s.node.failed_lookups, 3)
            self.assertIsNone(s.has_step(second, "needs_operator"))
            self.assertEqual(s.engine.metric("synthusd_transfer_lookups_failed_total"), 3)
            # Logged once for the streak, with lnd's reason; no journal line for any of them.
            wait_for(lambda: "wallet locked" in read(s.engine.log_path), 10, "the unanswered lookup logged")
            self.assertEqual(read(s.engine.log_path).count("a lookup went unanswered"), 1)
            self.assertEqual([w[0] for w in s.steps(second)], ["requested", "address", "sending", "sent", "completed"])
            self.assertEqual(s.node.sends_by_label[f"synthusd-transfer-{second}"], 1)

            # 3. kill -9 after the send, the venue's deposit still pending.
            s.add_liability(s.liability_cents)
            third = s.new_transfer(second)
            sent = wait_for(lambda: s.has_step(third, "sent"), 30, "the deposit sent")
            self.assertEqual(s.venue.deposit_state(sent[1]), "pending")
            s.kill_engine()
            s.start_engine()
            complete(third)

            # 4. kill -9 after the venue credited it, before the completion is journaled.
            s.add_liability(s.liability_cents)
            fourth = s.new_transfer(third)
            sent = wait_for(lambda: s.has_step(fourth, "sent"), 30, "the deposit sent")
            halts = read(s.engine.log_path).count("transfers halted by the kill switch")
            self.assertEqual(s.engine.http("POST", "/kill", token=s.engine.token)[0], 200)
            wait_for(lambda: read(s.engine.log_path).count("transfers halted by the kill switch") > halts,
                     10, "the executor halted")
            wait_for(lambda: s.venue.deposit_state(sent[1]) == "completed", 10, "the venue's credit")
            self.assertIsNone(s.has_step(fourth, "completed"))
            s.kill_engine()
            s.start_engine()
            complete(fourth)

            # 5. kill -9 while the node holds the send; the node then drops it.
            s.node.hold_sends = True
            s.node.drop_held = True
            s.add_liability(s.liability_cents)
            fifth = s.new_transfer(fourth)
            wait_for(s.node.held.is_set, 30, "the send held at the node")
            s.kill_engine()
            s.node.release_held()
            wait_for(lambda: not s.node.held.is_set(), 10, "the held send dropped")
            s.start_engine()
            wait_for(lambda: s.has_step(fifth, "needs_operator"), 30, "the interrupted send reported")
            wait_for(lambda: s.engine.metric("synthusd_transfers_needing_operator") == 1, 10, "the metric")
            status, health = s.engine.http("GET", "/health")
            self.assertEqual(status, 503)
            self.assertIn("1 collateral transfer(s) need the operator", health)
            self.assertEqual(s.engine.metric("synthusd_transfers_completed"), 5)
            listed = s.listed(fifth)
            self.assertEqual((listed["kind"], listed["state"], listed["venue"]), ("deposit", "needs_operator", "deribit"))
            self.assertEqual(listed["address"], s.has_step(fifth, "address")[1])
            self.assertEqual(listed["reference"], "")

            # 6. The operator finds no such send and settles it as never sent:
            # it fails, the kernel asks again, and that deposit executes once.
            self.assertEqual(s.engine.http("POST", f"/transfers/settle/{fifth}", body="not_sent")[0], 401)
            self.assertEqual(s.settle(fifth, "sent 1234")[0], 400)  # a deposit's reference is a txid
            self.assertEqual(s.settle(fifth, "maybe")[0], 400)
            self.assertEqual(s.settle(fourth, "not_sent")[0], 409)  # completed: not the operator's to settle
            self.assertEqual(s.settle(fifth + 100, "not_sent")[0], 404)
            self.assertIsNone(s.has_step(fifth, "settled"))
            status, text = s.settle(fifth, "not_sent")
            self.assertEqual(status, 202, text)
            wait_for(lambda: s.has_step(fifth, "failed"), 10, "the settled transfer failed")
            self.assertEqual(s.has_step(fifth, "settled"), ["settled", "not_sent"])
            self.assertEqual(s.settle(fifth, "not_sent")[0], 409)  # once
            sixth = s.new_transfer(fifth)
            complete(sixth)
            wait_for(lambda: s.engine.metric("synthusd_transfers_needing_operator") == 0, 10, "nothing held")
            self.assertEqual(s.engine.http("GET", "/health")[0], 200)
            self.assertEqual(s.engine.metric("synthusd_transfers_failed"), 1)
            self.assertEqual(s.engine.metric("synthusd_transfers_completed"), 6)
            self.assertEqual(s.engine.metric("synthusd_transfers_settled_total"), 1)
            self.assertEqual(s.engine.metric("synthusd_transfers_settlements_refused_total"), 5)
            self.assertEqual(s.listed(fifth)["state"], "failed")

            # 7. Held and dropped again; this time the operator finds the deposit
            # (made by hand from another wallet: here straight onto the test chain)
            # and settles it with its txid: the venue's credit of it completes it.
            s.node.hold_sends = True
            s.node.drop_held = True
            s.add_liability(s.liability_cents)
            seventh = s.new_transfer(sixth)
            wait_for(s.node.held.is_set, 30, "the send held at the node")
            s.kill_engine()
            s.node.release_held()
            wait_for(lambda: not s.node.held.is_set(), 10, "the held send dropped")
            s.start_engine()
            wait_for(lambda: s.has_step(seventh, "needs_operator"), 30, "the interrupted send reported")
            # The journal line is visible before the pass ends (its fsync, then
            # the worker publishes the state settlements are checked against).
            wait_for(lambda: s.listed(seventh)["state"] == "needs_operator", 10, "the held state published")
            address = s.venue.private("get_current_deposit_address?currency=BTC")["address"]
            self.assertEqual(s.has_step(seventh, "address")[1], address)
            txid = s.venue.top_up(int(s.has_step(seventh, "requested")[3]))
            status, text = s.settle(seventh, f"sent {txid.upper()}")
            self.assertEqual(status, 202, text)
            complete(seventh)
            self.assertEqual(s.has_step(seventh, "settled")[:3], ["settled", "sent", txid])
            self.assertEqual(s.listed(seventh)["reference"], txid)
            wait_for(lambda: s.engine.metric("synthusd_transfers_completed") == 7, 10, "the completion counted")
            self.assertEqual(s.engine.metric("synthusd_transfers_settled_total"), 1)  # since this start

            # Exactly one on-chain send per transfer, none for the dropped ones.
            self.assertEqual(s.node.sends_by_label,
                             {f"synthusd-transfer-{i}": 1 for i in [*range(1, fifth), sixth]})
            self.assertEqual(len(s.node.sends), 6)
            self.assertEqual(sorted(d["state"] for d in s.venue.deposits()), ["completed"] * 7)
        finally:
            s.close()
        shutil.rmtree(s.directory, ignore_errors=True)

    def test_a_completion_the_kernel_never_journaled_is_reported_to_it_again_at_start(self) -> None:
        # The crash window between the executor journaling "completed" and the
        # kernel journaling TransferCompleted: the executor's journal says done,
        # the kernel's state still has the transfer in flight. Made exactly:
        # the executor halted after the venue credited the deposit, kill -9,
        # then the executor's "completed" line written as it would have been.
        s = Setup(collateral="0.01", credit_delay_ms=300, credit_timeout_seconds=600)
        try:
            s.start_engine()
            s.add_liability(150_000)  # 2.5x on $600
            wait_for(lambda: (s.leverage() or 0) > 2.4, 30, "the hedge at 2.5x")
            s.add_liability(150_000)  # 5x: a deposit
            deposit = s.new_transfer(0)
            sent = wait_for(lambda: s.has_step(deposit, "sent"), 30, "the deposit sent")
            self.assertEqual(s.engine.http("POST", "/kill", token=s.engine.token)[0], 200)
            wait_for(lambda: "transfers halted by the kill switch" in read(s.engine.log_path), 10, "the executor halted")
            wait_for(lambda: s.venue.deposit_state(sent[1]) == "completed", 10, "the venue's credit")
            s.kill_engine()
            self.assertIsNone(s.has_step(deposit, "completed"))
            with open(s.journal, "a") as f:
                f.write(f"{deposit} completed\n")
            s.start_engine()
            in_flight = 'synthusd_transfer_in_flight_sats'
            wait_for(lambda: s.engine.metric(in_flight, '{venue="deribit"}') == 0, 30,
                     "the kernel told the transfer completed")
            wait_for(lambda: 2.9 <= (s.leverage() or 0) <= 4.0, 30, "leverage back in its band")
            # Nothing repeated: the executor wrote nothing more for it, one send.
            self.assertEqual([w[0] for w in s.steps(deposit)], ["requested", "address", "sending", "sent", "completed"])
            self.assertEqual(s.node.sends_by_label, {f"synthusd-transfer-{deposit}": 1})
            # And the kernel asks for the next deposit (one in flight at a time:
            # a transfer it still thought in flight would block this).
            s.add_liability(300_000)
            following = s.new_transfer(deposit)
            wait_for(lambda: s.has_step(following, "completed"), 30, f"transfer {following} completed")
            self.assertEqual(len(s.node.sends), 2)
        finally:
            s.close()
        shutil.rmtree(s.directory, ignore_errors=True)

    def test_withdrawals_execute_once_and_survive_kill_minus_nine_at_every_step(self) -> None:
        # Nothing hedged: leverage 0 is below the band (2..3), so whatever the
        # account holds is withdrawn. poll_ms 3000 for the first start only (a
        # kill between the address and the request); timeout_ms 30000 so that a
        # request parked at the relay is still waited for when the test kills.
        s = Setup(collateral="0.01", credit_delay_ms=300, credit_timeout_seconds=600, low_bounds=(2, 3),
                  relay=True, withdrawal_delay_ms=2000, timeout_ms=30_000, poll_ms=3000)
        relay = s.relay
        assert relay is not None
        try:
            def completed(transfer_id: int) -> None:
                wait_for(lambda: s.has_step(transfer_id, "completed"), 30, f"withdrawal {transfer_id} completed")

            def address_of(transfer_id: int) -> str:
                return s.has_step(transfer_id, "address")[1]

            # 1. kill -9 after the node's address was journaled, before the venue is asked.
            s.start_engine()
            first = s.new_transfer(0)
            wait_for(lambda: s.has_step(first, "address"), 30, "the node's address journaled")
            s.kill_engine()
            self.assertIsNone(s.has_step(first, "requesting"))
            self.assertEqual(relay.withdraw_requests, 0)
            s.set_poll_ms(100)
            s.start_engine()
            completed(first)
            self.assertEqual(s.venue.withdrawal_to(address_of(first))["amount"], 0.01)

            # 2. kill -9 while the venue holds the request; the venue then takes it.
            relay.hold_withdrawals = True
            s.venue.top_up(1_000_000)
            second = s.new_transfer(first)
            wait_for(relay.held.is_set, 30, "the withdrawal held on its way to the venue")
            self.assertTrue(s.has_step(second, "requesting"))
            s.kill_engine()
            relay.release_held()
            wait_for(lambda: s.venue.withdrawal_to(address_of(second)), 10, "the venue took the held request")
            s.start_engine()
            completed(second)
            self.assertIsNone(s.has_step(second, "needs_operator"))

            # 3. kill -9 while the venue holds the request; the request is then lost:
            # held for the operator, who settles it as never sent.
            relay.hold_withdrawals = True
            relay.drop_held = True
            s.venue.top_up(1_000_000)
            third = s.new_transfer(second)
            wait_for(relay.held.is_set, 30, "the withdrawal held on its way to the venue")
            s.kill_engine()
            relay.release_held()
            wait_for(lambda: not relay.held.is_set(), 10, "the held request dropped")
            s.start_engine()
            wait_for(lambda: s.has_step(third, "needs_operator"), 30, "the interrupted request reported")
            wait_for(lambda: s.listed(third)["state"] == "needs_operator", 10, "the held state published")
            listed = s.listed(third)
            self.assertEqual((listed["kind"], listed["state"]), ("withdrawal", "needs_operator"))
            self.assertEqual(listed["address"], address_of(third))
            self.assertEqual(s.settle(third, "sent " + "ab" * 32)[0], 400)  # a withdrawal's reference is the venue's id
            status, text = s.settle(third, "not_sent")
            self.assertEqual(status, 202, text)
            wait_for(lambda: s.has_step(third, "failed"), 10, "the settled withdrawal failed")
            self.assertIsNone(s.venue.withdrawal_to(address_of(third)))
            # The kernel asks again once more can be withdrawn than was refused:
            # after the next top-up, for both.

            # 4. kill -9 after the venue took it, while it is still unconfirmed.
            s.venue.top_up(1_000_000)
            fourth = s.new_transfer(third)
            wait_for(lambda: s.has_step(fourth, "requested_at_venue"), 30, "the venue's withdrawal id journaled")
            self.assertEqual(s.venue.withdrawal_to(address_of(fourth))["state"], "unconfirmed")
            s.kill_engine()
            s.start_engine()
            completed(fourth)

            # 5. kill -9 after the node received it, before the completion is journaled
            # (the executor halted by /kill).
            s.venue.top_up(1_000_000)
            fifth = s.new_transfer(fourth)
            wait_for(lambda: s.has_step(fifth, "requested_at_venue"), 30, "the venue's withdrawal id journaled")
            halts = read(s.engine.log_path).count("transfers halted by the kill switch")
            self.assertEqual(s.engine.http("POST", "/kill", token=s.engine.token)[0], 200)
            wait_for(lambda: read(s.engine.log_path).count("transfers halted by the kill switch") > halts,
                     10, "the executor halted")
            wait_for(lambda: (s.venue.withdrawal_to(address_of(fifth)) or {}).get("state") == "completed", 10,
                     "the venue's withdrawal on the chain")
            wait_for(lambda: any(t["dest_addresses"] == [address_of(fifth)] for t in s.node.transactions()), 10,
                     "the node's incoming transaction")
            self.assertIsNone(s.has_step(fifth, "completed"))
            s.kill_engine()
            s.start_engine()
            completed(fifth)

            # One withdrawal at the venue per transfer, none for the lost one, each
            # received by the node; nothing ever sent from the node.
            done = (first, second, fourth, fifth)
            withdrawals = s.venue.withdrawals()
            self.assertEqual(sorted(w["address"] for w in withdrawals), sorted(address_of(t) for t in done))
            self.assertEqual([w["state"] for w in withdrawals], ["completed"] * 4)
            self.assertEqual(relay.withdrawals_passed, 4)
            self.assertEqual(s.transfer_ids(), sorted([*done, third]))
            requested = {t: int(s.has_step(t, "requested")[3]) for t in done}
            self.assertEqual(requested, {first: 1_000_000, second: 1_000_000, fourth: 2_000_000, fifth: 1_000_000})
            self.assertEqual(s.node.received_sats(), sum(requested.values()))
            self.assertEqual(s.node.sends, [])
            wait_for(lambda: s.engine.metric("synthusd_transfers_completed") == 4, 10, "the completions counted")
            self.assertEqual(s.engine.metric("synthusd_transfers_failed"), 1)
            self.assertEqual(s.engine.metric("synthusd_transfers_needing_operator"), 0)
        finally:
            s.close()
        shutil.rmtree(s.directory, ignore_errors=True)

    def withdraw_then_deposit(self, tls: bool) -> None:
        s = Setup(collateral="0.02", credit_delay_ms=500, credit_timeout_seconds=600, low_bounds=(2, 3), tls=tls)
        try:
            s.start_engine()
            # Nothing to hedge: leverage 0 is below the band, all 0.02 BTC comes back.
            withdrawal = s.new_transfer(0)
            wait_for(lambda: s.has_step(withdrawal, "completed"), 30, "the withdrawal completed")
            address = s.has_step(withdrawal, "address")[1]
            self.assertIn(address, s.node.addresses)
            self.assertTrue(s.has_step(withdrawal, "requested_at_venue"))
            self.assertEqual(s.node.received_sats(), 2_000_000)
            self.assertEqual(s.node.sends, [])
            wait_for(lambda: s.engine.metric("synthusd_collateral_sats", '{venue="deribit"}') == 0, 10,
                     "the venue's equity at 0")
            # $1,500 of liabilities against nothing: a deposit, then leverage in 2..4.
            s.add_liability(150_000)
            deposit = s.new_transfer(withdrawal)
            wait_for(lambda: s.has_step(deposit, "completed"), 30, "the deposit completed")
            wait_for(lambda: 2.0 <= (s.leverage() or 0) <= 4.0, 30, "leverage in its band")
            self.assertEqual(len(s.node.sends), 1)
            if tls:
                # Every call went through a verified TLS session: the node
                # refused none, and the venue's port speaks nothing but TLS
                # (a plain HTTP request gets no answer), so the engine's
                # calls that completed both transfers were TLS.
                self.assertEqual(getattr(s.node.server, "handshake_failures", None), 0)
                self.assertTrue(s.venue.url.startswith("https://"))
                self.assertIsNone(plain_http_answer(s.venue.wallet_port))
                self.assertEqual(s.venue.private("get_current_deposit_address?currency=BTC")["currency"], "BTC")
        finally:
            s.close()
        shutil.rmtree(s.directory, ignore_errors=True)

    def test_collateral_comes_back_to_the_node_when_leverage_falls_and_goes_out_when_it_rises(self) -> None:
        self.withdraw_then_deposit(tls=False)

    def test_the_same_over_tls_to_lnd_and_to_the_venue(self) -> None:
        self.withdraw_then_deposit(tls=True)

    def test_a_deposit_the_venue_never_credits_raises_the_overdue_alert(self) -> None:
        s = Setup(collateral="0.001", credit_delay_ms=-1, credit_timeout_seconds=1)
        try:
            s.start_engine()
            s.add_liability(150_000)  # $1,500 against $60: a deposit at once
            transfer = s.new_transfer(0)
            sent = wait_for(lambda: s.has_step(transfer, "sent"), 30, "the deposit sent")
            wait_for(lambda: s.has_step(transfer, "overdue"), 10, "the overdue step")
            wait_for(lambda: s.engine.metric("synthusd_transfers_overdue") == 1, 10, "the overdue metric")
            status, health = s.engine.http("GET", "/health")
            self.assertEqual(status, 503)
            self.assertIn("1 collateral transfer(s) overdue", health)
            self.assertEqual(s.venue.deposit_state(sent[1]), "pending")
            self.assertIsNone(s.has_step(transfer, "completed"))
            self.assertEqual(len(s.node.sends), 1)
        finally:
            s.close()
        shutil.rmtree(s.directory, ignore_errors=True)


if __name__ == "__main__":
    run_tests(BINARIES)
