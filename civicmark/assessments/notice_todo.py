"""What waits for the city on its public notices (the home page's to-do, ADR 18 and 22): the
objections still to decide on the notices of the rounds the person leads. A naming stays open
until they are decided, so they are late once their notice has closed."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from civicmark.assessments import notice
from civicmark.campaigns.models import Campaign
from civicmark.core.todo import Line, Todo


def todos_for(*, user: Any, campaign: Campaign, today: date) -> list[Todo]:
    if not getattr(user, "pk", None):
        return []
    pending = notice.pending_for_lead(user, campaign)
    if not pending:
        return []

    def url(objection: Any) -> str:
        return reverse("notice_detail", args=[campaign.slug, objection.entry.notice.public_id])

    return [
        Todo(
            key="notice_objections",
            title=_("Objections to decide"),
            count=len(pending),
            url=url(pending[0]),
            detail=_(
                "The naming of a community objected to is final only once its objections are "
                "decided."
            ),
            late=any(o.entry.notice.closes_on < today for o in pending),
            lines=tuple(
                Line(
                    str(o.entry.enrollment.community.name),
                    url=url(o),
                    note=o.reference,
                    late=o.entry.notice.closes_on < today,
                )
                for o in pending
            ),
        )
    ]
