"""A TLS front for a plain HTTP test server: what a public HTTPS API such as
Deribit's is to its backend. Accepts TLS on 127.0.0.1 with the given
certificate and passes the bytes both ways to the backend's port, one thread
per connection. For tests that reach the venue simulator's wallet API
(plain HTTP) the way the engine reaches Deribit (HTTPS). Standard library only.
"""

from __future__ import annotations

import select
import socket
import ssl
import threading


class TlsTerminator:
    def __init__(self, backend_port: int, cert_file: str, key_file: str) -> None:
        self.backend_port = backend_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert_file, key_file)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0          # handshakes completed
        self.handshake_failures = 0
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> "TlsTerminator":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped = True
        self.listener.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(5)
        try:
            tls = self.context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):
            self.handshake_failures += 1
            client.close()
            return
        self.connections += 1
        try:
            with tls, socket.create_connection(("127.0.0.1", self.backend_port), timeout=5) as backend:
                self._pump(tls, backend)
        except OSError:
            pass

    @staticmethod
    def _pump(tls: ssl.SSLSocket, backend: socket.socket) -> None:
        while True:
            # Bytes OpenSSL already decrypted do not make the socket readable.
            ready = [tls] if tls.pending() else select.select([tls, backend], [], [], 10)[0]
            if not ready:
                return
            for source in ready:
                data = source.recv(65536)
                if not data:
                    return
                (backend if source is tls else tls).sendall(data)
