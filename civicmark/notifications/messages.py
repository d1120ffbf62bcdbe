"""What a delivery says, and how the webhook's payload is signed (ADR 28).

The subject and text are written once, when the delivery is opened, in the recipient's language;
each attempt sends the same words. The webhook's JSON is built from the stored delivery the same
way at every attempt, so a retry carries the same body under the same delivery id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from civicmark.notifications.models import Delivery, Notification

SIGNATURE_HEADER = "X-CivicMark-Signature"
TIMESTAMP_HEADER = "X-CivicMark-Timestamp"
DELIVERY_HEADER = "X-CivicMark-Delivery"


def absolute(link: str) -> str:
    """A path inside the application as an address a phone can open."""
    if not link:
        return ""
    return settings.SITE_URL.rstrip("/") + link


def one(notification: Notification, language: str) -> tuple[str, str]:
    """The subject and text of a notification sent at once."""
    with translation.override(language):
        lines = [notification.title]
        if notification.body:
            lines += ["", notification.body]
        if notification.link:
            lines += ["", _("Open: %(link)s") % {"link": absolute(notification.link)}]
        return notification.title, "\n".join([*lines, "", _footer()])


def digest(notifications: Sequence[Notification], language: str) -> tuple[str, str]:
    """The subject and text of a day's digest: one line (and its link) per notification."""
    with translation.override(language):
        count = len(notifications)
        subject = ngettext(
            "CivicMark: %(count)d new notification",
            "CivicMark: %(count)d new notifications",
            count,
        ) % {"count": count}
        lines = []
        for n in notifications:
            lines.append(f"- {n.title}")
            if n.link:
                lines.append(f"  {absolute(n.link)}")
        lines += ["", _("Your inbox: %(link)s") % {"link": absolute(reverse("inbox"))}]
        return subject, "\n".join([*lines, "", _footer()])


def _footer() -> str:
    return _("You can choose how you are told on %(link)s") % {
        "link": absolute(reverse("notification_preferences"))
    }


def payload(delivery: Delivery, notifications: Sequence[Notification], mobile: str) -> bytes:
    """The webhook's body: who is to be told and what (the gateway turns it into an SMS or a
    WeChat Work message). Keys sorted and no spaces, so the same delivery gives the same bytes."""
    person = delivery.recipient
    document = {
        "delivery": str(delivery.public_id),
        "kind": "digest" if delivery.key.startswith("digest:") else "notification",
        "person": {
            "username": person.get_username(),
            "full_name": getattr(person, "full_name", ""),
            "mobile": mobile,
        },
        "message": {"subject": delivery.subject, "text": delivery.text},
        "notifications": [
            {
                "id": str(n.public_id),
                "event": n.event,
                "title": n.title,
                "body": n.body,
                "link": absolute(n.link),
                "created_at": n.created_at.isoformat(),
            }
            for n in notifications
        ],
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", as the X-CivicMark-Signature header carries it."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a gateway checks (in constant time); it should also refuse an old timestamp."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
