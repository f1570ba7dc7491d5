#!/usr/bin/env python3
"""End-to-end check of synthusd-venue in venue mode, over real sockets.

Starts the venue with a frozen clock (--time-scale 0: the price stays at the GBM
start, 60000, so the touch is 60000 / 60000.5), then:
  - FIX: logon, market order (New + fill at the ask), resting limit and its cancel,
    cancel of an unknown order, mass cancel, RequestForPositions (Deribit-like
    PositionReport), CollateralInquiry, an unsupported message type, logout;
  - WebSocket: upgrade, public/subscribe to ticker.BTC-PERPETUAL.100ms, a ticker
    notification with the same touch, public/test;
  - with --logon-secret: a Deribit-style signed logon is accepted, an unsigned or
    wrongly signed one is answered with a Logout;
  - with the wallet on and --wallet-idle-timeout-ms 200: a wallet connection that sends
    nothing is closed by the venue's loop (and counted in its stop line), a request
    on a fresh connection is still answered.

Usage: venue_smoke_test.py --venue build/synthusd-venue. Standard library only.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "acceptance"))
from run_acceptance import SOH, Connection, ScenarioFailure, fixify, utc_now  # noqa: E402

CLIENT = "SYNTHUSD"
VENUE = "DERIBITSERVER"


class Failure(Exception):
    pass


def expect(condition, what):
    if not condition:
        raise Failure(what)


def fields_of(message):
    """[(tag, value)] of a wire message."""
    return [tuple(field.split("=", 1)) for field in message.split(SOH) if field]


def field(message, tag):
    for key, value in fields_of(message):
        if key == str(tag):
            return value
    return None


class FixClient:
    def __init__(self, port):
        self.connection = Connection("127.0.0.1", port)
        self.sequence = 0

    def send(self, msg_type, body):
        self.sequence += 1
        sending_time = utc_now().strftime("%Y%m%d-%H:%M:%S.%f")[:-3]
        text = "8=FIX.4.4%s35=%s%s34=%d%s49=%s%s52=%s%s56=%s%s" % (
            SOH, msg_type, SOH, self.sequence, SOH, CLIENT, SOH, sending_time, SOH, VENUE, SOH)
        text += "".join("%s=%s%s" % (tag, value, SOH) for tag, value in body)
        self.connection.send(fixify(text))

    def receive(self, msg_type):
        message = self.connection.read_message(10)
        expect(field(message, 35) == msg_type,
               "expected 35=%s, got %s" % (msg_type, message.replace(SOH, "|")))
        return message


def check_fix(port):
    client = FixClient(port)
    client.send("A", [(98, 0), (108, 30)])
    client.receive("A")

    client.send("D", [(11, "m1"), (55, "BTC-PERPETUAL"), (54, 1), (38, 10), (40, 1)])
    new = client.receive("8")
    expect(field(new, 150) == "0" and field(new, 39) == "0", "market order accepted: " + new)
    fill = client.receive("8")
    expect(field(fill, 150) == "F" and field(fill, 39) == "2", "market order filled")
    expect(field(fill, 31) == "60000.5" and field(fill, 32) == "10", "filled at the ask: " + fill)
    expect(field(fill, 851) == "2" and field(fill, 479) == "BTC", "taker fill with a BTC fee")

    client.send("D", [(11, "l1"), (55, "BTC-PERPETUAL"), (54, 1), (38, 5), (40, 2), (44, "50000"), (59, 1)])
    expect(field(client.receive("8"), 150) == "0", "limit order rests")
    client.send("F", [(11, "c1"), (41, "l1"), (55, "BTC-PERPETUAL"), (54, 1)])
    cancel = client.receive("8")
    expect(field(cancel, 150) == "4" and field(cancel, 11) == "c1" and field(cancel, 41) == "l1", "cancelled")

    client.send("F", [(11, "c2"), (41, "nope"), (55, "BTC-PERPETUAL"), (54, 1)])
    reject = client.receive("9")
    expect(field(reject, 102) == "1" and field(reject, 434) == "1", "unknown order: " + reject)

    client.send("q", [(11, "mc"), (530, 7)])
    mass = client.receive("r")
    expect(field(mass, 531) == "7" and field(mass, 533) == "0", "mass cancel report: " + mass)

    client.send("AN", [(710, "pos"), (724, 0), (263, 0)])
    report = client.receive("AP")
    tags = [key for key, _ in fields_of(report)]
    group = tags[tags.index("702"):]
    expect(group[:10] == ["702", "703", "704", "705", "55", "854", "231", "883", "54", "730"],
           "Deribit-like 702 group: " + report)
    expect(field(report, 704) == "10" and field(report, 705) == "0", "long 10 contracts")
    expect(field(report, 730) == "60000.5" and field(report, 883) == "60000", "entry and mark")

    client.send("BB", [(909, "inq")])
    collateral = client.receive("BA")
    expect(field(collateral, 909) == "inq" and field(collateral, 15) == "BTC", "collateral report")
    # 1 BTC less the taker fee on $100 at 60000.5: ceil(83.33) sats.
    expect(field(collateral, 901) == "0.99999916", "balance after the fee: " + collateral)

    client.send("H", [(11, "m1"), (55, "BTC-PERPETUAL"), (54, 1)])
    unsupported = client.receive("j")
    expect(field(unsupported, 380) == "3", "unsupported message type")

    client.send("5", [])
    client.receive("5")
    client.connection.close()


def check_signed_logon(port, secret):
    raw_data = "%d.%s" % (int(time.time() * 1000), base64.b64encode(os.urandom(32)).decode())
    good = base64.b64encode(hashlib.sha256((raw_data + secret).encode()).digest()).decode()
    for password, accepted in ((None, False), ("d3Jvbmc=", False), (good, True)):
        client = FixClient(port)
        body = [(98, 0), (108, 30)]
        if password is not None:
            body += [(95, len(raw_data)), (96, raw_data), (553, CLIENT), (554, password)]
        client.send("A", body)
        client.receive("A" if accepted else "5")
        if accepted:
            client.send("5", [])
            client.receive("5")
        client.connection.close()


def start_venue(executable, arguments):
    """The process and the text it printed up to its start line."""
    process = subprocess.Popen([executable] + arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output = b""
    deadline = time.monotonic() + 30
    while b"start price" not in output and time.monotonic() < deadline:
        chunk = os.read(process.stdout.fileno(), 4096)
        if not chunk:
            break
        output += chunk
    return process, output.decode()


def stop_venue(process):
    """What the venue wrote on stderr."""
    process.terminate()
    _, stderr = process.communicate(timeout=15)
    expect(process.returncode == 0, "venue exited with %s: %s" % (process.returncode, stderr.decode()[-2000:]))
    return stderr.decode()


def check_wallet_idle_timeout(port):
    """A silent connection is closed by the venue (waited for up to 30 s: a bound for
    failure, not a speed requirement); a request on a new connection is answered."""
    silent = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        data = silent.recv(4096)
    except ConnectionResetError:
        data = b""
    except socket.timeout:
        raise Failure("the venue kept a silent wallet connection open")
    expect(data == b"", "closed without an answer: %r" % data)
    silent.close()
    client = socket.create_connection(("127.0.0.1", port), timeout=30)
    client.sendall(b"GET /chain/transactions HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    answer = b""
    while True:
        chunk = client.recv(4096)
        if not chunk:
            break
        answer += chunk
    client.close()
    expect(answer.startswith(b"HTTP/1.1 200 OK\r\n"), "wallet answered: %r" % answer[:200])


def ws_send(sock, text):
    payload = text.encode()
    mask = os.urandom(4)
    header = bytes([0x81])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    else:
        header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
    sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def ws_receive(sock, buffer):
    while True:
        if len(buffer) >= 2:
            length = buffer[1] & 0x7F
            offset = 2
            if length == 126:
                length, offset = struct.unpack("!H", bytes(buffer[2:4]))[0], 4
            elif length == 127:
                length, offset = struct.unpack("!Q", bytes(buffer[2:10]))[0], 10
            if len(buffer) >= offset + length:
                opcode = buffer[0] & 0x0F
                payload = bytes(buffer[offset:offset + length])
                del buffer[:offset + length]
                expect(opcode == 1, "text frame")
                return json.loads(payload)
        chunk = sock.recv(65536)
        expect(chunk, "WebSocket closed early")
        buffer.extend(chunk)


def check_websocket(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(("GET /ws/api/v2 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (port, key)).encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(4096)
    head, _, rest = response.partition(b"\r\n\r\n")
    expect(head.startswith(b"HTTP/1.1 101"), "upgrade accepted")
    buffer = bytearray(rest)
    ws_send(sock, json.dumps({"jsonrpc": "2.0", "id": 1, "method": "public/subscribe",
                              "params": {"channels": ["ticker.BTC-PERPETUAL.100ms"]}}))
    reply = ws_receive(sock, buffer)
    while reply.get("id") != 1:
        reply = ws_receive(sock, buffer)
    expect(reply["result"] == ["ticker.BTC-PERPETUAL.100ms"], "subscribed: %r" % reply)
    notification = ws_receive(sock, buffer)
    expect(notification["method"] == "subscription", "ticker notification")
    data = notification["params"]["data"]
    expect(notification["params"]["channel"] == "ticker.BTC-PERPETUAL.100ms", "channel name")
    expect(data["best_bid_price"] == 60000 and data["best_ask_price"] == 60000.5, "touch: %r" % data)
    expect(data["mark_price"] == 60000 and data["instrument_name"] == "BTC-PERPETUAL", "mark")
    for key in ("index_price", "best_bid_amount", "best_ask_amount", "current_funding", "funding_8h", "timestamp"):
        expect(key in data, "ticker has " + key)
    ws_send(sock, json.dumps({"jsonrpc": "2.0", "id": 2, "method": "public/test", "params": {}}))
    reply = ws_receive(sock, buffer)
    while reply.get("id") != 2:
        reply = ws_receive(sock, buffer)
    expect("version" in reply["result"], "public/test answered")
    sock.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venue", required=True)
    options = parser.parse_args()
    processes = []
    try:
        process, text = start_venue(options.venue, ["--fix-port", "0", "--ws-port", "0", "--time-scale", "0"])
        processes.append(process)
        fix_port = re.search(r"FIX acceptor on port (\d+)", text)
        ws_port = re.search(r"ws://127\.0\.0\.1:(\d+)/", text)
        expect(fix_port and ws_port, "venue did not start: " + text)
        check_fix(int(fix_port.group(1)))
        check_websocket(int(ws_port.group(1)))

        secret = "s3cret"
        process, text = start_venue(options.venue, ["--fix-port", "0", "--websocket", "false",
                                                    "--logon-secret", secret])
        processes.append(process)
        fix_port = re.search(r"FIX acceptor on port (\d+)", text)
        expect(fix_port, "venue with a logon secret did not start: " + text)
        check_signed_logon(int(fix_port.group(1)), secret)

        process, text = start_venue(options.venue, ["--fix-port", "0", "--websocket", "false", "--wallet", "true",
                                                    "--wallet-client-id", "id", "--wallet-client-secret", "s",
                                                    "--wallet-idle-timeout-ms", "200"])
        processes.append(process)
        wallet_port = re.search(r"wallet API on http://127\.0\.0\.1:(\d+)/", text)
        expect(wallet_port, "venue with a wallet did not start: " + text)
        check_wallet_idle_timeout(int(wallet_port.group(1)))
        stderr = stop_venue(processes.pop())
        expect("wallet connections closed: 1 at the 200 ms idle timeout, 0 refused" in stderr,
               "the timed-out connection is counted: " + stderr[-2000:])

        while processes:
            stop_venue(processes.pop())
    except (Failure, ScenarioFailure, OSError, ValueError, KeyError) as error:
        print("FAIL: %s" % error)
        for process in processes:
            process.kill()
            process.communicate()
        return 1
    print("PASS: FIX order entry, signed logons, WebSocket tickers and the wallet's idle timeout")
    return 0


if __name__ == "__main__":
    sys.exit(main())
