"""Email and the webhook: opening deliveries, trying them, retrying with backoff (ADR 28).

A delivery is opened once per (person, channel, key) and tried by the `deliver` task on Django's
task framework. An attempt first *claims* the delivery (one UPDATE that pushes its next try a
lease ahead), so the task enqueued twice, or the periodic sweep beside it, never sends it twice
at once; the HTTP call or the mail is made outside any transaction; then the attempt is logged.
A failure is tried again after 1, 2, 4 … times the backoff (`CIVICMARK_DELIVERY_BACKOFF`), by
the task re-enqueued with `run_after` where the backend can wait, and in any case by the
periodic sweep (`deliveries_retry_due`), up to `CIVICMARK_DELIVERY_ATTEMPTS` attempts.
"""

from __future__ import annotations

import logging
import smtplib
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import task

from civicmark.accounts.models import User
from civicmark.notifications import messages
from civicmark.notifications.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    Frequency,
    Notification,
    Preference,
)

log = logging.getLogger(__name__)


# --- who gets what ---------------------------------------------------------------------------------


def preferences_of(users: Iterable[User]) -> dict[int, Preference]:
    """Each person's preference, the defaults for one who never chose (one query)."""
    people = {u.pk: u for u in users}
    found = {p.user_id: p for p in Preference.objects.filter(user_id__in=list(people))}
    return {pk: found.get(pk) or Preference.defaults(person) for pk, person in people.items()}


def reachable(user: User, channel: str) -> bool:
    """Whether the channel can reach the person at all: an email address, a configured gateway."""
    if channel == Channel.EMAIL:
        return bool(user.email)
    return bool(settings.CIVICMARK_WEBHOOK_URL)


def dispatch(notifications: list[Notification]) -> None:
    """After the commit (a DISPATCHER of `notify`): a delivery for each notification on each
    channel its recipient wants at once; the digest job gathers the others."""
    recipients = {n.recipient_id: n.recipient for n in notifications}
    preferences = preferences_of(recipients.values())
    opened = []
    for n in notifications:
        preference = preferences[n.recipient_id]
        for channel in Channel.values:
            if preference.frequency(channel) != Frequency.IMMEDIATE:
                continue
            if not reachable(recipients[n.recipient_id], channel):
                continue
            subject, text = messages.one(n, preference.language)
            delivery = delivery_open(
                recipient=recipients[n.recipient_id],
                channel=channel,
                key=f"n:{n.pk}",
                notifications=[n],
                subject=subject,
                text=text,
            )
            if delivery is not None:
                opened.append(delivery)
    for delivery in opened:
        enqueue(delivery.pk)


def delivery_open(
    *,
    recipient: User,
    channel: str,
    key: str,
    notifications: Sequence[Notification],
    subject: str,
    text: str,
) -> Delivery | None:
    """A new delivery, or None when that person already has one under this key and channel."""
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                recipient=recipient,
                channel=channel,
                key=key[:64],
                subject=subject[:200],
                text=text,
            )
            delivery.notifications.set(notifications)
    except IntegrityError:  # opened meanwhile by another run
        return None
    return delivery


# --- trying ------------------------------------------------------------------------------------------


@task()
def deliver(delivery_id: int) -> str:
    """The task: one attempt at one delivery, now."""
    return delivery_attempt(delivery_id=delivery_id, now=timezone.now())


def enqueue(delivery_id: int, run_after: datetime | None = None) -> None:
    """Hands the delivery to the task framework; a later try only where the backend can wait
    (`supports_defer`), else the periodic sweep takes it when it is due."""
    job = deliver
    if run_after is not None:
        if not job.get_backend().supports_defer:
            return
        job = job.using(run_after=run_after)
    job.enqueue(delivery_id)


def _lease() -> timedelta:
    # Longer than any one attempt can take: a worker that died mid-attempt is retried after it.
    return timedelta(seconds=2 * settings.CIVICMARK_WEBHOOK_TIMEOUT + 60)


def delivery_attempt(*, delivery_id: int, now: datetime) -> str:
    """Tries the delivery once if it is due and not sent; returns what happened ("sent",
    "retry", "failed", or "skipped" for one sent, given up, not due or being tried)."""
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING)
        .filter(Q(next_attempt_at=None) | Q(next_attempt_at__lte=now))
        .update(next_attempt_at=now + _lease(), attempts=F("attempts") + 1)
    )
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.select_related("recipient").get(pk=delivery_id)
    status_code: int | None = None
    error = ""
    try:
        status_code = _send(delivery, now)
    except urllib.error.HTTPError as exc:  # an answer, but not 2xx
        status_code, error = exc.code, f"HTTP {exc.code} {exc.reason}"
    except (OSError, smtplib.SMTPException, ValueError) as exc:  # refused, timed out, no route
        error = f"{type(exc).__name__}: {exc}"
    return _log_attempt(delivery, now=now, status_code=status_code, error=error)


def _log_attempt(delivery: Delivery, *, now: datetime, status_code: int | None, error: str) -> str:
    ok = not error
    number = delivery.attempts
    if ok:
        status, next_try = Delivery.Status.SENT, None
    elif number >= settings.CIVICMARK_DELIVERY_ATTEMPTS:
        status, next_try = Delivery.Status.FAILED, None
    else:
        wait = settings.CIVICMARK_DELIVERY_BACKOFF * 2 ** (number - 1)
        status, next_try = Delivery.Status.PENDING, now + timedelta(seconds=wait)
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=status, next_attempt_at=next_try, sent_at=now if ok else None
        )
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            at=now,
            status_code=status_code,
            error=error[:300],
            ok=ok,
            next_try_at=next_try,
        )
    if next_try is not None:
        enqueue(delivery.pk, run_after=next_try)
    if not ok:
        log.warning("delivery %s attempt %d failed: %s", delivery.public_id, number, error)
    return "sent" if ok else ("retry" if next_try else "failed")


def _send(delivery: Delivery, now: datetime) -> int | None:
    if delivery.channel == Channel.EMAIL:
        _send_email(delivery)
        return None
    return _post_webhook(delivery, now)


def _send_email(delivery: Delivery) -> None:
    address = delivery.recipient.email
    if not address:
        raise ValueError("the person has no email address")
    EmailMessage(delivery.subject, delivery.text, to=[address]).send(fail_silently=False)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer that is not 2xx: the signed body goes to the configured address
    only (a redirect would turn the POST into a GET elsewhere)."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _post_webhook(delivery: Delivery, now: datetime) -> int:
    url = settings.CIVICMARK_WEBHOOK_URL
    if not url:
        raise ValueError("no webhook gateway is configured (CIVICMARK_WEBHOOK_URL)")
    mobile = (
        Preference.objects.filter(user=delivery.recipient_id)
        .values_list("mobile", flat=True)
        .first()
    )
    body = messages.payload(
        delivery,
        list(delivery.notifications.order_by("created_at", "pk")),
        mobile or "",
    )
    timestamp = str(int(now.timestamp()))
    request = urllib.request.Request(  # noqa: S310 (the operator's https:// or http:// gateway)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "CivicMark",
            messages.TIMESTAMP_HEADER: timestamp,
            messages.DELIVERY_HEADER: str(delivery.public_id),
            messages.SIGNATURE_HEADER: messages.sign(
                settings.CIVICMARK_WEBHOOK_SECRET, timestamp, body
            ),
        },
    )
    with _opener.open(request, timeout=settings.CIVICMARK_WEBHOOK_TIMEOUT) as response:
        return int(response.status)


def deliveries_retry_due(now: datetime) -> dict[str, int]:
    """The sweep: every delivery whose next try is due (and any never tried a minute after it was
    opened: its task was lost), tried now. Counts what happened."""
    due = (
        Delivery.objects.filter(status=Delivery.Status.PENDING)
        .filter(
            Q(next_attempt_at__lte=now)
            | Q(next_attempt_at=None, created_at__lte=now - timedelta(minutes=1))
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)
    )
    outcome: dict[str, int] = {}
    for pk in list(due[:500]):
        result = delivery_attempt(delivery_id=pk, now=now)
        outcome[result] = outcome.get(result, 0) + 1
    return outcome
