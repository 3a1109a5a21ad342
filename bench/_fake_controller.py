"""A stand-in controller for the agent benches: a thread that answers every heartbeat POST.

Used by bench/agent_memory.py and bench/agent_http_cost.py, which measure the agent (its memory,
its client's instructions per POST) against this server instead of a whole `vigil up`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def fake_controller(interval: float, *, keep_alive: bool) -> Iterator[str]:
    """Serve heartbeats on loopback while the block runs; yields ``http://127.0.0.1:PORT``.
    Each answer is 200 with ``{"interval": interval}`` as the controller sends it;
    ``keep_alive`` answers in HTTP/1.1 (the connection kept), else HTTP/1.0 (closed)."""
    body = b'{"interval": %s}' % repr(float(interval)).encode()

    class Controller(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # the base class's names
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Controller)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
