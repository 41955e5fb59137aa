"""Local stand-ins for the outside world, on loopback only: an SMTP server,
an HTTP server (the chat webhook, and Twilio's REST API), and a Twilio HTTP
client that sends the service's real requests to that server instead."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

TWILIO_API = "https://api.twilio.com"


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, QUIT."""

    server: SmtpServer

    def handle(self) -> None:
        self._reply("220 localhost test SMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode().rstrip("\r\n")
            verb = command[:4].upper()
            if verb == "EHLO":
                self._reply("250-localhost", "250 8BITMIME")
            elif verb == "HELO":
                self._reply("250 localhost")
            elif verb == "MAIL":
                sender, recipients = _address(command), []
                self._reply("250 OK")
            elif verb == "RCPT":
                recipients.append(_address(command))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                self.server.received.append(Mail(sender, recipients, self._message()))
                self._reply("250 OK queued")
            elif verb == "RSET":
                sender, recipients = "", []
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("502 Command not implemented")

    def _message(self) -> EmailMessage:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        message = message_from_bytes(b"".join(lines), policy=policy.default)
        assert isinstance(message, EmailMessage)
        return message

    def _reply(self, *lines: str) -> None:
        self.wfile.write("".join(f"{line}\r\n" for line in lines).encode())


def _address(command: str) -> str:
    return command.partition(":")[2].strip().split()[0].strip("<>")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.received: list[Mail] = []

    @property
    def port(self) -> int:
        return self.server_address[1]


@dataclass
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpServer:
    """Records every request; answers each with the next planned status."""

    statuses: list[int] = field(default_factory=list)
    answer: dict[str, Any] = field(default_factory=dict)
    received: list[HttpRequest] = field(default_factory=list)
    port: int = 0

    def next_status(self) -> int:
        return self.statuses.pop(0) if self.statuses else 200


def _http_handler(recorder: HttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            recorder.received.append(
                HttpRequest(
                    method="POST",
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                )
            )
            body = json.dumps(recorder.answer).encode()
            self.send_response(recorder.next_status())
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def http_server(recorder: HttpServer | None = None) -> Iterator[HttpServer]:
    recorder = recorder or HttpServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _http_handler(recorder))
    recorder.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class LoopbackTwilioHttp(TwilioHttpClient):
    """Twilio's own HTTP client, with api.twilio.com swapped for a local port.

    Everything else (the path, the form body, the basic auth) is exactly
    what the service would send to Twilio.
    """

    def __init__(self, port: int) -> None:
        super().__init__(timeout=5)
        self.port = port

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        assert url.startswith(TWILIO_API), f"unexpected Twilio URL {url}"
        local = f"http://127.0.0.1:{self.port}" + url[len(TWILIO_API) :]
        return super().request(method, local, *args, **kwargs)


def twilio_message_answer(sid: str = "SM" + "0" * 32) -> dict[str, Any]:
    """What Twilio answers to a created message, as far as the client reads it."""
    return {"sid": sid, "status": "queued", "body": "", "to": "", "from": ""}
