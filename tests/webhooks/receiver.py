"""A real HTTP receiver on 127.0.0.1 for delivery tests: records every request and answers from a script."""

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.statuses: list[int] = []
        self.default_status = 200
        self.response_body = b'{"ok":true}'
        self.delay_seconds = 0.0
        self._arrived = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def respond_with(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, then with default_status."""
        self.statuses = list(statuses)

    def wait_for(self, count: int, timeout: float) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.requests) >= count, timeout=timeout)

    def start(self) -> "Receiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                request = ReceivedRequest(
                    path=self.path, headers={name.lower(): value for name, value in self.headers.items()}, body=body
                )
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
                with receiver._arrived:
                    receiver.requests.append(request)
                    receiver._arrived.notify_all()
                if receiver.delay_seconds:
                    time.sleep(receiver.delay_seconds)
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(receiver.response_body)))
                    self.end_headers()
                    self.wfile.write(receiver.response_body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender timed out and hung up, as the test wanted

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler
