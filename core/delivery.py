"""Sending a message to people: an incoming webhook (Slack, Mattermost, Microsoft Teams) or e-mail over SMTP.

A send is tried at most ``attempts`` times, waiting ``backoff``, 2 × ``backoff``, ... between tries, for what may
pass (a 5xx or 429 answer, a refused or dropped connection, a timeout, an SMTP 4xx reply); an answer that will not
change (a 4xx from the webhook, an SMTP 5xx such as a refused login or recipient) ends it at once. A send that does
not succeed raises :class:`DeliveryFailed` with one line that names the channel and the reason, never the webhook's
URL (its path is the secret) or a password.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from core.errors import MonitorError

T = TypeVar("T")

#: The Teams MessageCard context (Office 365 connectors); Slack and Mattermost ignore the card's keys.
MESSAGE_CARD_CONTEXT = "https://schema.org/extensions"


class NotifySettings(BaseModel):
    """Where notifications go and how hard sending is tried (``NOTIFY_<FIELD>`` in the environment or .env)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    #: An incoming webhook (Slack, Mattermost, Teams); its path is its secret.
    webhook_url: SecretStr | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(587, gt=0, lt=65536)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    #: A CA bundle that signs the SMTP server's certificate, instead of the system's CAs.
    smtp_cafile: str | None = None
    email_from: str = "hpc-monitor@localhost"
    #: Recipients, comma-separated.
    email_to: str = ""
    #: Messages per channel and hour; past it, the hour's last message is a digest of the rest.
    max_per_hour: int = Field(20, ge=1)
    timeout_seconds: float = Field(10, gt=0, le=300)
    attempts: int = Field(3, ge=1, le=10)
    #: Wait before the second attempt (doubled before each next one).
    retry_seconds: float = Field(2, ge=0, le=300)
    #: How long a claim waits for concurrent ones to land (core.store.ledger); a claim PUT must take under half.
    claim_settle_seconds: float = Field(2, gt=0, le=60)
    #: After this, a claim without a sent record belongs to a run that died.
    claim_lease_minutes: float = Field(15, gt=0)

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("email_to")
    @classmethod
    def _addresses(cls, value: str) -> str:
        for address in cls._split(value):
            if "@" not in address or any(c.isspace() for c in address):
                raise ValueError("must be e-mail addresses separated by commas")
        return value

    @staticmethod
    def _split(value: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in value.split(",") if part.strip())

    @property
    def recipients(self) -> tuple[str, ...]:
        """The addresses of ``email_to``."""
        return self._split(self.email_to)


@dataclass(frozen=True)
class Message:
    """One message: a one-line subject, a plain-text body and the links it carries (label, URL)."""

    subject: str
    body: str
    links: tuple[tuple[str, str], ...] = ()

    def text(self) -> str:
        """The message as plain text: subject, body, then each link on its own line (every client links a bare URL)."""
        lines = [self.subject, "", self.body.rstrip()]
        if self.links:
            lines.append("")
            lines.extend(f"{label}: {url}" for label, url in self.links)
        return "\n".join(lines)


class DeliveryFailed(MonitorError):
    """A message could not be delivered; the text is one line naming the channel and why."""

    def __init__(self, channel: str, reason: str, attempts: int) -> None:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f"{channel}: {reason}{tries}")
        self.channel = channel
        self.reason = reason


class _Transient(Exception):
    """A failure that may pass: tried again."""


class _Permanent(Exception):
    """A failure that will not pass: not tried again."""


def _retry(channel: str, send: Callable[[], T], attempts: int, backoff: float,
           sleep: Callable[[float], None]) -> T:
    reason = "not tried"
    for attempt in range(1, max(1, attempts) + 1):
        try:
            return send()
        except _Permanent as exc:
            raise DeliveryFailed(channel, str(exc), attempt) from None
        except _Transient as exc:
            reason = str(exc)
            if attempt < attempts:
                sleep(backoff * 2 ** (attempt - 1))
    raise DeliveryFailed(channel, reason, max(1, attempts))


def chat_text(text: str) -> str:
    """``text`` with what chat services act on made inert.

    Slack's ``<!channel>``-style control sequences lose their brackets and Mattermost's ``@channel``/``@all``
    mentions get a zero-width word joiner after the ``@``.
    """
    return text.replace("<", "‹").replace(">", "›").replace("@", "@\u2060")


def webhook_payload(message: Message) -> dict[str, object]:
    """JSON that Slack, Mattermost and Microsoft Teams incoming webhooks accept.

    ``text`` is what Slack and Mattermost show (bare URLs become links); ``@type``, ``@context``, ``summary``,
    ``title`` and ``potentialAction`` make it a MessageCard for a Teams connector, whose buttons open the links.
    """
    return {
        "text": chat_text(message.text()),
        "@type": "MessageCard",
        "@context": MESSAGE_CARD_CONTEXT,
        "summary": chat_text(message.subject),
        "title": chat_text(message.subject),
        "potentialAction": [
            {"@type": "OpenUri", "name": chat_text(label), "targets": [{"os": "default", "uri": url}]}
            for label, url in message.links
        ],
    }


def _host(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or "?"


def post_webhook(url: str, message: Message, *, timeout: float, attempts: int, backoff: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
    """POST the message as JSON to an incoming webhook."""
    channel = f"webhook at {_host(url)}"
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryFailed(channel, "the webhook URL is not http:// or https://", 1)
    body = json.dumps(webhook_payload(message)).encode()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler())

    def send() -> None:
        request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 -- scheme checked above
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with opener.open(request, timeout=timeout) as answer:
                answer.read(65536)
        except urllib.error.HTTPError as exc:
            reason = f"HTTP {exc.code} {exc.reason}"
            if exc.code >= 500 or exc.code == 429:
                raise _Transient(reason) from None
            raise _Permanent(reason) from None
        except TimeoutError:
            raise _Transient(f"no answer within {timeout:g} s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise _Transient(f"no answer within {timeout:g} s") from None
            raise _Transient(f"cannot connect ({getattr(exc.reason, 'strerror', None) or exc.reason})") from None
        except (ConnectionError, OSError) as exc:
            raise _Transient(f"connection failed ({exc.strerror or type(exc).__name__})") from None

    _retry(channel, send, attempts, backoff, sleep)


@dataclass(frozen=True)
class SmtpServer:
    """Where and how e-mail is sent: always STARTTLS (verified against the system's CAs or ``cafile``) then login."""

    host: str
    port: int
    user: str | None
    password: str | None
    sender: str
    recipients: tuple[str, ...]
    cafile: str | None = None


def email_message(message: Message, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The message as a plain-text UTF-8 e-mail."""
    mail = EmailMessage()
    mail["Subject"] = " ".join(message.subject.split())
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    mail.set_content(message.text() + "\n")
    return mail


def send_email(server: SmtpServer, message: Message, *, timeout: float, attempts: int, backoff: float = 1.0,
               sleep: Callable[[float], None] = time.sleep) -> None:
    """Send the message to every recipient through the SMTP server (STARTTLS, then AUTH when a user is set)."""
    channel = f"e-mail via {server.host}:{server.port}"
    mail = email_message(message, server.sender, server.recipients)
    context = ssl.create_default_context(cafile=server.cafile)

    def send() -> None:
        try:
            with smtplib.SMTP(server.host, server.port, timeout=timeout) as smtp:
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise _Permanent("the server offers no STARTTLS; nothing is sent in clear text")
                smtp.starttls(context=context)
                smtp.ehlo()
                if server.user:
                    smtp.login(server.user, server.password or "")
                refused = smtp.send_message(mail, server.sender, list(server.recipients))
                if refused:
                    raise _Permanent(f"recipients refused: {', '.join(sorted(refused))}")
        except smtplib.SMTPAuthenticationError as exc:
            raise _Permanent(f"login refused ({exc.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise _Permanent(f"recipients refused: {', '.join(sorted(exc.recipients))}") from None
        except smtplib.SMTPResponseException as exc:
            reason = f"the server answered {exc.smtp_code} {_reply(exc.smtp_error)}"
            if 400 <= exc.smtp_code < 500:
                raise _Transient(reason) from None
            raise _Permanent(reason) from None
        except ssl.SSLError as exc:
            raise _Permanent(f"TLS failed ({exc.reason or exc})") from None
        except TimeoutError:
            raise _Transient(f"no answer within {timeout:g} s") from None
        except smtplib.SMTPServerDisconnected as exc:  # smtplib's words for a read that timed out
            if "timed out" in str(exc):
                raise _Transient(f"no answer within {timeout:g} s") from None
            raise _Transient(f"the server closed the connection ({' '.join(str(exc).split())})") from None
        except smtplib.SMTPException as exc:
            raise _Transient(f"{type(exc).__name__}: {' '.join(str(exc).split())}") from None
        except OSError as exc:
            raise _Transient(f"cannot connect ({exc.strerror or type(exc).__name__})") from None

    _retry(channel, send, attempts, backoff, sleep)


def _reply(error: bytes | str) -> str:
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    return " ".join(text.split())[:200]
