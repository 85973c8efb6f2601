"""A real SMTP server for the tests (aiosmtpd), and Django's mail settings pointed at it.

`smtp_server` starts one on a free local port for the test and switches EMAIL_BACKEND to
Django's SMTP backend, so mail goes over a real socket exactly as in production. The server
can be told to refuse mail (`refuse()` → 451 to every message) or be stopped and started again
(`stop()` / `start()`, same port) to test what an outage does. `messages` holds what arrived,
parsed (`email.message.EmailMessage`).
"""

from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):
        if self.server.refusing:
            return "451 4.3.0 Try again later (the test server was told to refuse)"
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.server.lock:
            self.server.messages.append(message)
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


class SmtpServer:
    def __init__(self):
        self.host = "127.0.0.1"
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refusing = False
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, refusing: bool = True) -> None:
        self.refusing = refusing

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        """The messages once at least `count` have arrived (for mail sent by another process)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} message(s), got {len(self.messages)}")


def subject_of(message: EmailMessage) -> str:
    """The Subject as a mail client shows it (Django folds a non-ASCII subject onto a
    continuation line, which the parser keeps as a leading space)."""
    return str(message["Subject"]).strip()


def message_text(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def message_html(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


@pytest.fixture
def smtp_server(settings):
    """A running SMTP server; Django's mail goes to it through the real SMTP backend."""
    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()
