"""A loopback relay in front of the venue simulator's wallet API (synthusd-venue
--wallet true) that can hold Deribit's private/withdraw, for end-to-end tests
that kill the engine while the venue has a withdrawal request and has not
answered it, deterministically (the way fake_lnd_wallet.py holds a send).

Every request is passed through unchanged (method, path and query,
Authorization, body) and the simulator's answer passed back (status, body).
With hold_withdrawals set, the next private/withdraw is parked before it
reaches the simulator: `held` is set while it waits; release_held() then
either passes it on (the venue takes the withdrawal, as a venue that received
it before the engine died would) or, with drop_held, never does (the request
was lost on the way: the venue has no such withdrawal). The engine's side of
a parked request sees a venue that has not answered yet.

Standard library only; in process: HeldVenueWallet(venue_wallet_url).start().
"""

from __future__ import annotations

import http.client
import http.server
import threading
import urllib.parse

MAX_BODY = 64 * 1024


class HeldVenueWallet:
    def __init__(self, venue_url: str) -> None:
        parsed = urllib.parse.urlparse(venue_url)
        self.venue_host, self.venue_port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.lock = threading.Lock()
        self.withdraw_requests = 0           # private/withdraw calls that arrived
        self.withdrawals_passed = 0          # of them, passed on to the simulator
        self.hold_withdrawals = False        # park the next private/withdraw until release_held()
        self.drop_held = False               # a released parked request is never passed on
        self.held = threading.Event()        # set while a request is parked
        self._release = threading.Event()
        relay = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.close_connection = True
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the engine went away (killed while its request was parked)

            def _relay(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self._answer(413, b'{"error":"request too large"}')
                    return
                body = self.rfile.read(length) if length else None
                if self.path.split("?", 1)[0].endswith("/private/withdraw") and not relay._pass_withdrawal():
                    # Dropped: the venue never saw it. The engine that asked is
                    # gone; whatever is said here reaches nobody.
                    self._answer(502, b'{"error":"dropped by the test"}')
                    return
                headers = {}
                for name in ("Authorization", "Content-Type"):
                    if self.headers.get(name) is not None:
                        headers[name] = self.headers[name]
                connection = http.client.HTTPConnection(relay.venue_host, relay.venue_port, timeout=10)
                try:
                    connection.request(method, self.path, body=body, headers=headers)
                    answer = connection.getresponse()
                    data = answer.read()
                    self._answer(answer.status, data, answer.getheader("Content-Type") or "application/json")
                except OSError as error:
                    self._answer(502, f'{{"error":"venue unreachable: {error}"}}'.encode())
                finally:
                    connection.close()

            def do_GET(self) -> None:  # noqa: N802
                self._relay("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._relay("POST")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "HeldVenueWallet":
        self.thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def release_held(self) -> None:
        self._release.set()

    def _pass_withdrawal(self) -> bool:
        """Whether this private/withdraw goes on to the simulator (after a hold)."""
        with self.lock:
            self.withdraw_requests += 1
            hold = self.hold_withdrawals
        if hold:
            self.held.set()
            self._release.wait()
            self._release.clear()
            with self.lock:
                self.hold_withdrawals = False
                dropped = self.drop_held
                self.drop_held = False
                if not dropped:
                    self.withdrawals_passed += 1
            # Cleared last: a test that saw `held` go down sees the outcome counted.
            self.held.clear()
            return not dropped
        with self.lock:
            self.withdrawals_passed += 1
        return True
