"""Email, the webhook and the daily digest (issue 18 item 3, ADR 28).

The webhook goes to a real HTTP server on 127.0.0.1 in a thread, which answers as it is told
(500 then 200) and keeps every request it got, so the signature, the headers and the retries are
checked on the wire."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from civicmark.assessments.workflow import State
from civicmark.campaigns.models import Enrollment
from civicmark.core import periodic
from civicmark.notifications import messages
from civicmark.notifications.delivery import delivery_attempt
from civicmark.notifications.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    Event,
    Frequency,
    Notification,
    Preference,
)
from civicmark.notifications.services import notify

SECRET = "a-secret-of-the-gateway-0123456789"


@dataclass
class Receiver:
    """The gateway: answers each POST with the next code of `answers` (the last one after)."""

    answers: list[int] = field(default_factory=lambda: [200])
    got: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.got.append({"headers": self.headers, "body": body})  # any case
            code = state.answers.pop(0) if len(state.answers) > 1 else state.answers[0]
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def gateway(settings, receiver):  # noqa: ANN001, ANN201
    settings.CIVICMARK_WEBHOOK_URL = receiver.url
    settings.CIVICMARK_WEBHOOK_SECRET = SECRET
    settings.CIVICMARK_WEBHOOK_TIMEOUT = 5
    settings.CIVICMARK_DELIVERY_BACKOFF = 60
    settings.CIVICMARK_DELIVERY_ATTEMPTS = 3
    settings.CIVICMARK_DIGEST_HOUR = 8
    return receiver


def submitted(scoring: dict[str, Any], code: str = "C111") -> Enrollment:
    Enrollment.objects.filter(pk=scoring["enrollments"][code].pk).update(status=State.SUBMITTED)
    return Enrollment.objects.get(pk=scoring["enrollments"][code].pk)


def wants(user: Any, *, email: str = "immediate", webhook: str = "immediate", **extra: Any) -> None:
    Preference.objects.update_or_create(
        user=user, defaults={"email": email, "webhook": webhook, **extra}
    )


def tell(user: Any, key: str, **extra: Any) -> Notification:
    return notify([user], event=Event.TASK_DUE, key=key, title=f"Task {key}", **extra)[0]


# -- the end to end: a returned self-assessment ------------------------------------------------------


def test_a_returned_self_assessment_reaches_the_inbox_the_email_and_the_gateway_retried(
    scoring, world, client_for, gateway, django_capture_on_commit_callbacks
):
    # Given the community's staff, who wants email and SMS at once, and a gateway failing first
    staff = world.users["community_staff"]
    staff.email = "staff@c111.example"
    staff.save(update_fields=["email"])
    wants(staff, mobile="13800138000")
    enrollment = submitted(scoring)
    gateway.answers = [500, 200]
    town = client_for(world.users["town_officer"])

    # When the town returns the self-assessment from its page
    with django_capture_on_commit_callbacks(execute=True):
        response = town.post(
            reverse("self_assessment", args=["c"]),
            {"community": "C111", "action": "return", "comment": "A1 台账不全"},
        )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == State.RETURNED

    # Then an inbox item for the staff, linking to the self-assessment page
    item = Notification.objects.get(recipient=staff)
    assert item.event == Event.RETURNED
    assert item.link == reverse("self_assessment", args=["c"]) + "?community=C111"
    assert "Community 111" in item.title and "已退回修改" in item.title  # Chinese by default
    assert "A1 台账不全" in item.body
    assert not Notification.objects.exclude(recipient=staff).exists()  # the town is not told

    # and an email, in his language, with the link
    assert [m.to for m in mail.outbox] == [["staff@c111.example"]]
    assert mail.outbox[0].subject == item.title
    assert "http://" in mail.outbox[0].body and "?community=C111" in mail.outbox[0].body

    # and a webhook that failed once, waiting its backoff
    hook = Delivery.objects.get(recipient=staff, channel=Channel.WEBHOOK)
    first = DeliveryAttempt.objects.get(delivery=hook)
    assert (first.number, first.ok, first.status_code) == (1, False, 500)
    assert hook.status == Delivery.Status.PENDING and hook.next_attempt_at == first.next_try_at
    assert first.next_try_at - first.at == timedelta(seconds=60)

    # When the sweep runs before the backoff is over, nothing is sent; after it, it is retried
    assert periodic.run_one("notifications.retries", first.at + timedelta(seconds=30)) == {}
    assert len(gateway.got) == 1
    periodic.run_one("notifications.retries", first.at + timedelta(seconds=61))

    # Then the log shows both attempts, the second a success, and the signature verifies
    hook.refresh_from_db()
    log = list(hook.attempt_log.values_list("number", "status_code", "ok"))
    assert log == [(1, 500, False), (2, 200, True)]
    assert hook.status == Delivery.Status.SENT and hook.next_attempt_at is None
    assert len(gateway.got) == 2
    for request in gateway.got:
        headers, body = request["headers"], request["body"]
        assert headers[messages.DELIVERY_HEADER] == str(hook.public_id)
        assert messages.verify(
            SECRET, headers[messages.TIMESTAMP_HEADER], body, headers[messages.SIGNATURE_HEADER]
        )
        assert not messages.verify(
            "another-secret",
            headers[messages.TIMESTAMP_HEADER],
            body,
            headers[messages.SIGNATURE_HEADER],
        )
    assert gateway.got[0]["body"] == gateway.got[1]["body"]  # a retry sends the same message
    document = json.loads(gateway.got[1]["body"])
    assert document["person"] == {
        "username": "community_staff",
        "full_name": "community_staff",
        "mobile": "13800138000",
    }
    assert document["notifications"][0]["id"] == str(item.public_id)
    assert document["notifications"][0]["link"].endswith("?community=C111")

    # And a delivery that succeeded is not sent again, by the task or by the sweep
    later = first.at + timedelta(hours=1)
    assert delivery_attempt(delivery_id=hook.pk, now=later) == "skipped"
    assert periodic.run_one("notifications.retries", later) == {}
    assert len(gateway.got) == 2 and len(mail.outbox) == 1


def test_the_worker_retries_a_failed_webhook_through_the_database_queue(
    transactional_db, world, settings, gateway
):
    """The same retry by the task framework itself: the database backend keeps the task, the
    failed attempt re-enqueues it with run_after, the worker runs both (no backoff here, so the
    retry is due at once within the same batch)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.CIVICMARK_DELIVERY_BACKOFF = 0
    staff = world.users["community_staff"]
    wants(staff, email="off")
    gateway.answers = [500, 200]
    tell(staff, "worker")  # committed at once: no transaction around the test
    assert gateway.got == []  # queued, not sent: the worker sends it
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=StringIO())
    hook = Delivery.objects.get(recipient=staff)
    assert list(hook.attempt_log.values_list("status_code", "ok")) == [(500, False), (200, True)]
    assert hook.status == Delivery.Status.SENT and len(gateway.got) == 2


def test_it_gives_up_after_the_last_attempt(world, gateway, django_capture_on_commit_callbacks):
    staff = world.users["community_staff"]
    wants(staff, email="off")
    gateway.answers = [503]
    with django_capture_on_commit_callbacks(execute=True):
        tell(staff, "down")
    hook = Delivery.objects.get(recipient=staff)
    at = hook.attempt_log.get().at
    # 3 attempts at most, after 60 s and then 120 s: exponential backoff
    periodic.run_one("notifications.retries", at + timedelta(seconds=60))
    second = hook.attempt_log.get(number=2)
    assert second.next_try_at - second.at == timedelta(seconds=120)
    periodic.run_one("notifications.retries", second.next_try_at)
    hook.refresh_from_db()
    assert hook.status == Delivery.Status.FAILED and hook.attempts == 3
    assert hook.attempt_log.get(number=3).next_try_at is None
    periodic.run_one("notifications.retries", at + timedelta(days=1))
    assert len(gateway.got) == 3


def test_an_unreachable_gateway_is_logged_as_an_error_and_retried(
    world, settings, django_capture_on_commit_callbacks
):
    settings.CIVICMARK_WEBHOOK_URL = "http://127.0.0.1:9/nothing-listens-here"
    settings.CIVICMARK_WEBHOOK_SECRET = SECRET
    staff = world.users["community_staff"]
    wants(staff, email="off")
    with django_capture_on_commit_callbacks(execute=True):
        tell(staff, "refused")
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None and attempt.error and not attempt.ok
    assert attempt.next_try_at is not None


# -- preferences --------------------------------------------------------------------------------------


def test_email_off_sends_no_email_and_the_inbox_still_has_it(
    world, gateway, django_capture_on_commit_callbacks
):
    staff = world.users["community_staff"]
    staff.email = "staff@c111.example"
    staff.save(update_fields=["email"])
    wants(staff, email="off", webhook="off")
    with django_capture_on_commit_callbacks(execute=True):
        tell(staff, "quiet")
    assert mail.outbox == [] and gateway.got == []
    assert not Delivery.objects.exists()
    assert Notification.objects.filter(recipient=staff, key="quiet").exists()


def test_email_is_written_in_the_persons_language(world, django_capture_on_commit_callbacks):
    staff = world.users["community_staff"]
    staff.email = "staff@c111.example"
    staff.save(update_fields=["email"])
    wants(staff, webhook="off", language="en")
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            [staff],
            event=Event.RETURNED,
            key="lang",
            title=lambda: str(State.RETURNED.label),
            link="/x/",
        )
    assert mail.outbox[0].subject == "Returned for changes"
    assert "/inbox/preferences/" in mail.outbox[0].body


def test_the_default_is_email_at_once_in_chinese(world, django_capture_on_commit_callbacks):
    staff = world.users["community_staff"]
    staff.email = "staff@c111.example"
    staff.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        notify([staff], event=Event.RETURNED, key="zh", title=lambda: str(State.RETURNED.label))
    assert [m.subject for m in mail.outbox] == ["已退回修改"]
    assert not Delivery.objects.filter(channel=Channel.WEBHOOK).exists()  # no gateway set up


def test_a_person_without_an_email_address_gets_no_email_delivery(
    world, django_capture_on_commit_callbacks
):
    staff = world.users["community_staff"]
    with django_capture_on_commit_callbacks(execute=True):
        tell(staff, "no-address")
    assert mail.outbox == [] and not Delivery.objects.exists()


# -- the daily digest -------------------------------------------------------------------------------


def at_local(hour: int, days: int = 0) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, 5))


def test_the_digest_is_sent_once_a_day_after_its_hour(
    world, gateway, django_capture_on_commit_callbacks
):
    staff, town = world.users["community_staff"], world.users["town_officer"]
    for person in (staff, town):
        person.email = f"{person.username}@example.org"
        person.save(update_fields=["email"])
    wants(staff, email="digest", webhook="digest", mobile="13900139000")
    wants(town, email="immediate", webhook="off")
    with django_capture_on_commit_callbacks(execute=True):
        for key in ("a", "b", "c"):
            tell(staff, key)
        tell(town, "t")
    assert [m.to for m in mail.outbox] == [[town.email]]  # only the one who wants it at once
    mail.outbox.clear()
    read = Notification.objects.get(recipient=staff, key="c")
    read.read_at = timezone.now()
    read.save(update_fields=["read_at"])

    # Before the hour nothing goes; after it one email and one webhook, listing the unread two
    tomorrow = 1
    assert periodic.run_one("notifications.digest", at_local(7, tomorrow)) == {}
    with django_capture_on_commit_callbacks(execute=True):
        sent = periodic.run_one("notifications.digest", at_local(9, tomorrow))
    assert sent == {"email": 1, "webhook": 1}
    assert [m.to for m in mail.outbox] == [[staff.email]]
    assert "Task a" in mail.outbox[0].body and "Task b" in mail.outbox[0].body
    assert "Task c" not in mail.outbox[0].body  # read in the inbox already
    document = json.loads(gateway.got[0]["body"])
    assert document["kind"] == "digest" and len(document["notifications"]) == 2

    # A second run the same day sends nothing; the next day's has only what came since
    with django_capture_on_commit_callbacks(execute=True):
        assert periodic.run_one("notifications.digest", at_local(18, tomorrow)) == {
            "email": 0,
            "webhook": 0,
        }
        tell(staff, "d")
        assert periodic.run_one("notifications.digest", at_local(23, tomorrow)) == {
            "email": 0,
            "webhook": 0,
        }
    assert len(mail.outbox) == 1 and len(gateway.got) == 1
    with django_capture_on_commit_callbacks(execute=True):
        periodic.run_one("notifications.digest", at_local(9, tomorrow + 1))
    assert len(mail.outbox) == 2
    assert "Task d" in mail.outbox[1].body and "Task a" not in mail.outbox[1].body
    keys = set(Delivery.objects.filter(recipient=staff).values_list("channel", "key"))
    day1, day2 = (at_local(9, d).date().isoformat() for d in (tomorrow, tomorrow + 1))
    assert keys == {
        (c, f"digest:{d}") for c in (Channel.EMAIL, Channel.WEBHOOK) for d in (day1, day2)
    }


def test_the_default_webhook_frequency_is_the_digest(world):
    assert Preference.defaults(world.users["nobody"]).frequency(Channel.WEBHOOK) == (
        Frequency.DIGEST
    )


# -- the signature and the number, over many cases ---------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(body=st.binary(max_size=300), timestamp=st.integers(0, 2**40), flip=st.integers(0, 10**6))
def test_the_signature_verifies_and_any_changed_byte_breaks_it(body, timestamp, flip):
    stamp = str(timestamp)
    signature = messages.sign(SECRET, stamp, body)
    assert messages.verify(SECRET, stamp, body, signature)
    assert not messages.verify(SECRET, str(timestamp + 1), body, signature)
    if body:
        n = flip % len(body)
        changed = body[:n] + bytes([body[n] ^ 0x01]) + body[n + 1 :]
        assert not messages.verify(SECRET, stamp, changed, signature)
    assert not messages.verify(SECRET + "x", stamp, body, signature)
