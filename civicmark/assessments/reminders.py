"""What the acceptance work tells people by the clock (issue 18 items 3 and 4):

- a rectification due within the window is announced to its community's staff, once per due
  date; once overdue it is escalated (`notifications.escalation`, ADR 26): the staff, then the
  town's officers, then the county's;
- a round that opens (its window begins, and a round that re-scores what an earlier one found
  opens only once that one is signed off): the communities it covers are told (their staff: the
  evidence they may still add) while it is in its window, and each assessor on its panel with
  items of his to score is told "scores needed" with his count while it is open for scoring.
  There is no service that opens a round (its dates do), so the job finds it; the same job finds
  an assessor put on a panel later, or a community the workflow brings in later, and tells him
  then. An assessor with items to score is told once per round, not "opened" and then "scores
  needed" at the same moment.

Each is idempotent by its notification keys: the jobs run every few minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.models import User
from civicmark.assessments import panels, todo
from civicmark.assessments.models import Rectification, RectificationStatus
from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.notifications import escalation, reminders
from civicmark.notifications.models import Escalation, Event
from civicmark.notifications.services import notify

# -- rectifications ------------------------------------------------------------------------------


def _open_rectifications() -> QuerySet[Rectification]:
    return (
        Rectification.objects.filter(status=RectificationStatus.OPEN, due_on__isnull=False)
        .select_related(
            "enrollment__community__parent", "round__campaign__division", "item", "veto"
        )
        .order_by("due_on", "pk")
    )


def rectification_link(rectification: Rectification) -> str:
    community = rectification.enrollment.community
    town = community.parent.code if community.parent is not None else ""
    return (
        reverse("rectifications", args=[rectification.round.campaign.slug])
        + (f"?town={town}" if town else "")
        + f"#rect-{rectification.public_id}"
    )


def rectification_subject(rectification: Rectification) -> str:
    """The rectification in the reader's language: its community and what it is about."""
    if rectification.item is not None:
        about = f"{rectification.item.code} {rectification.item.title}"
    elif rectification.veto is not None:
        about = _("One-vote veto")
    else:
        about = _("Re-check of the title")
    return f"{rectification.enrollment.community.name} · {about}"


def _owners_of(found: list[Rectification]) -> Callable[[Rectification], list[User]]:
    """A rectification's owners are its community's staff (read in one query for the lot)."""
    holders = authz.office_holders({r.enrollment.community for r in found})
    return lambda r: list(holders.get(r.enrollment.community_id, []))


def rectifications_due_soon(now: datetime) -> int:
    today, last = reminders.due_soon(now)
    found = list(_open_rectifications().filter(due_on__gte=today, due_on__lte=last))
    return reminders.announce_each(
        found,
        _owners_of(found),
        lambda r: f"rectification_due:{r.public_id}:{r.due_on}",
        _announce,
    )


def _announce(rectification: Rectification, people: list[User], key: str) -> list[object]:
    due = rectification.due_on.isoformat() if rectification.due_on else ""
    return list(
        notify(
            people,
            event=Event.RECTIFICATION_DUE,
            key=key,
            title=lambda: (
                _("Rectification due on %(date)s: %(what)s")
                % {"date": due, "what": rectification_subject(rectification)}
            ),
            body=lambda: _("Report what was done, with its evidence, before it is overdue."),
            link=rectification_link(rectification),
            scope_path=rectification.enrollment.community.path,
        )
    )


def rectifications_overdue(now: datetime) -> list[Escalation]:
    """Every open rectification with an escalation step due today, handed to the engine."""
    today = timezone.localdate(now)
    found = list(
        _open_rectifications().filter(
            escalation.pending_q(
                "rectification", id_field="public_id", due_field="due_on", today=today
            )
        )
    )
    owners = _owners_of(found)
    return escalation.advance([_overdue(r, owners) for r in found], now)


def _overdue(
    rectification: Rectification, owners: Callable[[Rectification], list[User]]
) -> escalation.Overdue:
    assert rectification.due_on is not None  # the scan takes only those with a date
    return escalation.Overdue(
        object_type="rectification",
        public_id=rectification.public_id,
        due_on=rectification.due_on,
        unit=rectification.enrollment.community,
        top_path=rectification.round.campaign.division.path,
        owners=lambda: owners(rectification),
        what=lambda: rectification_subject(rectification),
        link=rectification_link(rectification),
        owner_event=Event.RECTIFICATION_OVERDUE,
        still_open=lambda: _still_open(rectification),
    )


def _still_open(rectification: Rectification) -> bool:
    """Read under the row's lock: one reported done (or given a later date) takes no step."""
    return bool(
        # Unordered: the model's ordering joins the item, which may be null, and PostgreSQL
        # locks no row on the nullable side of an outer join.
        Rectification.objects.select_for_update(of=("self",))
        .order_by()
        .filter(pk=rectification.pk, status=RectificationStatus.OPEN, due_on=rectification.due_on)
        .values_list("pk", flat=True)
    )


# -- rounds --------------------------------------------------------------------------------------


def open_rounds(now: datetime) -> list[AcceptanceRound]:
    """The rounds open for scoring today: opened, not signed off, and, for one that re-scores
    what an earlier round found, that round signed off. One past its closing day is still open
    for scoring (late, as the to-do shows it) until its lead signs it off."""
    today = timezone.localdate(now)
    found = AcceptanceRound.objects.filter(
        finalised_at__isnull=True, opens_on__lte=today
    ).select_related("campaign__division", "campaign__standard")
    return [
        r
        for r in found.order_by("campaign_id", "number")
        if (earlier := panels.earlier_round(r)) is None or earlier.finalised_at is not None
    ]


def rounds_opened(now: datetime) -> int:
    """The communities of a round in its window are told it is open; its assessors with items
    left are told so while it is open for scoring."""
    today = timezone.localdate(now)
    written = 0
    for round_ in open_rounds(now):
        if round_.closes_on >= today:
            written += _tell_communities(round_)
        written += _tell_panel(round_)
    return written


def _round_key(kind: str, round_: AcceptanceRound) -> str:
    return f"{kind}:{round_.campaign.public_id}:{round_.number}:{round_.opens_on.isoformat()}"


def _tell_communities(round_: AcceptanceRound) -> int:
    key = _round_key("round_opened", round_)
    covered = list(panels.covered(round_).select_related("community"))
    holders = authz.office_holders({e.community for e in covered})
    told = reminders.told([key])
    written = 0
    for enrollment in covered:
        people = [p for p in holders.get(enrollment.community_id, []) if (p.pk, key) not in told]
        if people:
            written += len(_opened(round_, enrollment, people, key))
    return written


def _opened(
    round_: AcceptanceRound, enrollment: Enrollment, people: list[User], key: str
) -> list[object]:
    campaign, community = round_.campaign, enrollment.community
    window = {"opens": round_.opens_on.isoformat(), "closes": round_.closes_on.isoformat()}
    return list(
        notify(
            people,
            event=Event.ROUND_OPENED,
            key=key,
            title=lambda: (
                _("%(round)s is open: %(opens)s to %(closes)s") % {"round": round_.name, **window}
            ),
            body=lambda: (
                _(
                    "%(community)s is among the communities it assesses: its evidence may still be "
                    "added while the round is open."
                )
                % {"community": community.name}
            ),
            link=reverse("self_assessment", args=[campaign.slug]) + f"?community={community.code}",
            scope_path=community.path,
        )
    )


def _tell_panel(round_: AcceptanceRound) -> int:
    key = _round_key("scores_needed", round_)
    told = {pk for pk, _k in reminders.told([key])}
    written = 0
    for member in panels.panel(round_).exclude(pk__in=told):
        left = todo.left_to_score(member, round_, todo.items_of(member, round_.campaign))
        if left:
            written += len(_scores_needed(round_, member, left, key))
    return written


def _scores_needed(
    round_: AcceptanceRound, member: User, left: dict[int, int], key: str
) -> list[object]:
    counts = {
        "communities": len(left),
        "items": sum(left.values()),
        "opens": round_.opens_on.isoformat(),
        "closes": round_.closes_on.isoformat(),
    }
    return list(
        notify(
            [member],
            event=Event.SCORES_NEEDED,
            key=key,
            title=lambda: _("Scores needed in %(round)s") % {"round": round_.name},
            body=lambda: (
                _(
                    "Communities: %(communities)d; items of yours to score: %(items)d. The "
                    "round's window: %(opens)s to %(closes)s."
                )
                % counts
            ),
            link=reverse("score_home", args=[round_.campaign.slug, round_.number]),
            scope_path=round_.campaign.division.path,
        )
    )
