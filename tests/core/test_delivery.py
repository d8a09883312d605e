"""Webhook and SMTP delivery against real receivers on loopback: content, STARTTLS + AUTH LOGIN, retries, failures."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.delivery import DeliveryFailed, Message, SmtpServer, post_webhook, send_email, webhook_payload
from tests.receivers import Mailbox, refused_port, silent_port, smtp_receiver, webhook_receiver

MESSAGE = Message("FAILED: job 4242 (train <!channel>) in mahti-may on mahti",
                  "Job 4242 of SACCT run mahti-may on mahti ended FAILED after 01:02:03. Ping @channel.",
                  (("Job page", "https://monitor.example.org/job?job=4242&run=mahti-may"),))


def server(box: Mailbox, **changes: object) -> SmtpServer:
    fields: dict[str, object] = {"host": box.host, "port": box.port, "user": box.user, "password": box.password,
                                 "sender": "monitor@example.org", "recipients": ("ops@example.org", "me@example.org"),
                                 "cafile": box.cafile}
    fields.update(changes)
    return SmtpServer(**fields)  # type: ignore[arg-type]


def test_webhook_payload_is_text_for_slack_and_mattermost_and_a_card_for_teams() -> None:
    payload = webhook_payload(MESSAGE)
    assert payload["text"].startswith("FAILED: job 4242")
    assert "https://monitor.example.org/job?job=4242&run=mahti-may" in payload["text"]
    assert payload["@type"] == "MessageCard" and payload["@context"] == "https://schema.org/extensions"
    assert payload["summary"] == payload["title"]
    assert payload["potentialAction"] == [{"@type": "OpenUri", "name": "Job page", "targets": [
        {"os": "default", "uri": "https://monitor.example.org/job?job=4242&run=mahti-may"}]}]
    # A job name cannot ping a channel: Slack's control sequence and Mattermost's mention are inert.
    assert "<!channel>" not in payload["text"] and "@channel" not in payload["text"]


def test_webhook_receives_the_message_as_json() -> None:
    with webhook_receiver() as hook:
        post_webhook(hook.url, MESSAGE, timeout=5, attempts=3, backoff=0)
    [request] = hook.requests
    assert request["path"] == "/hooks/T000/B000/secret-token"
    assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert request["json"] == webhook_payload(MESSAGE)


def test_webhook_5xx_is_retried_then_delivered() -> None:
    with webhook_receiver(statuses=[503, 502]) as hook:
        post_webhook(hook.url, MESSAGE, timeout=5, attempts=3, backoff=0)
    assert [r["status"] for r in hook.requests] == [503, 502, 200]


def test_webhook_failures_are_one_line_without_the_url_secret() -> None:
    with webhook_receiver(statuses=[500, 500, 500, 500]) as hook, pytest.raises(DeliveryFailed) as failed:
        post_webhook(hook.url, MESSAGE, timeout=5, attempts=3, backoff=0)
    assert len(hook.requests) == 3  # bounded: three attempts, no more
    assert str(failed.value) == "webhook at 127.0.0.1: HTTP 500 Internal Server Error after 3 attempts"
    with webhook_receiver(statuses=[404]) as hook, pytest.raises(DeliveryFailed) as failed:
        post_webhook(hook.url, MESSAGE, timeout=5, attempts=3, backoff=0)
    assert len(hook.requests) == 1  # a 4xx will not change: not retried
    assert "404" in str(failed.value) and "secret-token" not in str(failed.value)
    with pytest.raises(DeliveryFailed, match=r"cannot connect .* after 2 attempts"):
        post_webhook(f"http://127.0.0.1:{refused_port()}/hook", MESSAGE, timeout=5, attempts=2, backoff=0)
    with silent_port() as port:
        began = time.monotonic()
        with pytest.raises(DeliveryFailed, match=r"no answer within 0.2 s after 2 attempts"):
            post_webhook(f"http://127.0.0.1:{port}/hook", MESSAGE, timeout=0.2, attempts=2, backoff=0)
        assert time.monotonic() - began < 5


def test_email_goes_over_starttls_with_auth_login_and_carries_the_message(tmp_path: Path) -> None:
    with smtp_receiver(tmp_path) as box:
        send_email(server(box), MESSAGE, timeout=5, attempts=1)
    [(sender, recipients, mail)] = box.messages
    assert box.tls == [True] and box.mechanisms == ["LOGIN"]
    assert sender == "monitor@example.org" and recipients == ["ops@example.org", "me@example.org"]
    assert mail["Subject"] == MESSAGE.subject
    assert mail["To"] == "ops@example.org, me@example.org"
    body = mail.get_content()
    assert "ended FAILED after 01:02:03" in body
    assert "Job page: https://monitor.example.org/job?job=4242&run=mahti-may" in body


def test_email_failures_wrong_login_untrusted_certificate_refused_and_silent(tmp_path: Path) -> None:
    with smtp_receiver(tmp_path) as box:
        with pytest.raises(DeliveryFailed) as failed:
            send_email(server(box, password="wrong"), MESSAGE, timeout=5, attempts=3, backoff=0)
        assert str(failed.value) == f"e-mail via 127.0.0.1:{box.port}: login refused (535)"  # not retried
        assert "wrong" not in str(failed.value)
        with pytest.raises(DeliveryFailed, match="TLS failed"):
            send_email(server(box, cafile=None), MESSAGE, timeout=5, attempts=1)  # system CAs do not sign it
        assert box.messages == []
    with pytest.raises(DeliveryFailed, match=r"cannot connect .* after 3 attempts"):
        send_email(SmtpServer("127.0.0.1", refused_port(), "u", "p", "a@b.c", ("d@e.f",)), MESSAGE, timeout=2,
                   attempts=3, backoff=0)
    with silent_port() as port, pytest.raises(DeliveryFailed, match=r"no answer within 0.2 s after 2 attempts"):
        send_email(SmtpServer("127.0.0.1", port, "u", "p", "a@b.c", ("d@e.f",)), MESSAGE, timeout=0.2, attempts=2,
                   backoff=0)
