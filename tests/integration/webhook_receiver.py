"""A real HTTP receiver on 127.0.0.1 for webhook tests: records requests, answers per plan."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from border_gate.notifications.signature import SignatureError, verify_signature


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float = field(default_factory=time.time)  # wall clock, for the benchmark


@dataclass
class Receiver:
    """Answers each POST with the next status of `plan` (then 200 for ever).

    With `secret` set it checks X-BorderGate-Signature first, as a real receiver would, and
    answers 401 to a request whose signature does not verify (`rejected` counts them).
    """

    url: str
    plan: list[int] = field(default_factory=list)
    secret: str | None = None
    rejected: int = 0
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, received: Received) -> int:
        with self.lock:
            self.requests.append(received)
            if self.secret is not None:
                try:
                    verify_signature(
                        self.secret,
                        received.headers.get("x-bordergate-signature"),
                        received.body,
                        now=int(time.time()),
                        tolerance_seconds=300,
                    )
                except SignatureError:
                    self.rejected += 1
                    return 401
            return self.plan.pop(0) if self.plan else 200

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.requests)


@contextmanager
def receiver(plan: list[int] | None = None) -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    state = Receiver(url=f"http://127.0.0.1:{port}/hooks/border-gate", plan=list(plan or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status = state.answer(
                Received(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
            )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A URL nobody listens on (connection refused): a receiver that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks/down"
