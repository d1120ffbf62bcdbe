"""What the round's lead must settle, and settling it (ADR 17).

Two assessors of an item in a round disagree when one says it does not apply and another gives
points, or when their points lie further apart than the round's gap (`disagreement_gap`; empty:
a fifth of the item's maximum, of its floor for a penalty item; for an all-or-nothing item any
difference counts). The lead settles each with a value and a reason; the settlement replaces
the combined value of the item for that community in that round, and the round cannot be
finalised while one is open.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, NamedTuple, Protocol

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils.translation import gettext as _

from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.scoring.models import Score, Settlement, SettlementSource
from civicmark.scoring.validate import Invalid, occurrence_points, validate
from civicmark.standards.models import Item, ItemKind

FIFTH = Decimal(5)


class Value(NamedTuple):
    """What one assessor gave: points, or None with `not_applicable`."""

    assessor: Any
    points: Decimal | None
    not_applicable: bool


class Disagreement(NamedTuple):
    community: Any
    item: Item
    values: list[Value]
    enrollment: Enrollment


def gap_for(round_: AcceptanceRound, item: Item) -> Decimal:
    """How far apart two assessors' points on the item may lie without disagreeing."""
    if item.kind == ItemKind.ALL_OR_NOTHING:
        return Decimal(0)  # only 0 or the maximum: any difference counts
    if round_.disagreement_gap is not None:
        return round_.disagreement_gap
    if item.kind == ItemKind.PENALTY:
        return abs(item.floor or Decimal(0)) / FIFTH
    return item.points / FIFTH


def open_disagreements(
    round_: AcceptanceRound, enrollment_ids: Iterable[int] | None = None
) -> list[Disagreement]:
    """The disagreements of the round not yet settled (of the given communities only, when
    named), by community and then in the standard's order. One grouped query finds them,
    one more reads their values (four queries in all, however many there are). Live and whole:
    what finalising a round or a part asks (`assessments.services`), never the stored counts."""
    flagged, items = _flagged(round_, enrollment_ids)
    found = _described(round_, flagged, items)
    found.sort(key=lambda d: (d.community.path, d.item.order, d.item.code))
    return found


def counts(round_: AcceptanceRound, enrollment_ids: Iterable[int] | None = None) -> dict[int, int]:
    """How many open disagreements each community has in the round (those with none left out):
    what `materialize` stores beside the community's result (`CommunityResult.disagreements`),
    by the same rule as `open_disagreements`, so that a page finds the first ones by index."""
    flagged, _items = _flagged(round_, enrollment_ids)
    return dict(Counter(e for e, _i in flagged))


def first_open(
    round_: AcceptanceRound, enrollment_ids: Iterable[int] | None = None, limit: int = 50
) -> tuple[list[Disagreement], int]:
    """The first `limit` open disagreements (by community in the order of enrolment, then in
    the standard's order) and how many there are, for a page that lists a few (ADR 11, ADR 31).
    The communities and the total come from the counts stored beside the results (brought up
    to date first: `materialize.current`), by the partial index of the rows that have any; the
    disagreements themselves are found by the rule for those few communities only. The cost is
    that of the shown communities, not of the round."""
    from civicmark.scoring.materialize import current
    from civicmark.scoring.models import CommunityResult, RoundTally

    current(round_)
    rows = CommunityResult.objects.filter(round=round_, disagreements__gt=0)
    if enrollment_ids is None:  # the whole round: its total, kept with the rows
        total = (
            RoundTally.objects.filter(round=round_).values_list("disagreements", flat=True).first()
        ) or 0
    else:  # a county's part: its own rows, bounded by its size
        rows = rows.filter(enrollment_id__in=list(enrollment_ids))
        total = rows.aggregate(n=Sum("disagreements"))["n"] or 0
    shown: list[int] = []
    held = 0
    # Each listed community holds at least one: `limit` communities always hold `limit` rows.
    for enrollment_id, n in rows.order_by("enrollment_id").values_list(
        "enrollment_id", "disagreements"
    )[:limit]:
        if held >= limit:
            break
        shown.append(enrollment_id)
        held += n
    flagged, items = _flagged(round_, shown)
    found = _described(round_, flagged, items)
    place = {e: n for n, e in enumerate(shown)}
    found.sort(key=lambda d: (place[d.enrollment.pk], d.item.order, d.item.code))
    return found[:limit], total


def _flagged(
    round_: AcceptanceRound, enrollment_ids: Iterable[int] | None = None
) -> tuple[set[tuple[int, int]], dict[int, Item]]:
    """The rule: the (enrollment, item) pairs of the round whose assessors disagree and that the
    lead has not settled, and the items they concern. One grouped query over the round's (or
    the named communities') scores, then the items and the settlements of the candidates."""
    scores = Score.objects.filter(round=round_)
    if enrollment_ids is not None:
        scores = scores.filter(enrollment_id__in=list(enrollment_ids))
    groups = (
        scores.order_by()
        .values("enrollment_id", "item_id")
        .annotate(
            n=Count("id"),
            na=Count("id", filter=Q(not_applicable=True)),
            high=Max("points"),
            low=Min("points"),
        )
        .filter(n__gte=2)
        .filter(Q(na__gt=0) | Q(high__gt=F("low")))
    )
    candidates = list(groups)
    if not candidates:
        return set(), {}
    items = {
        i.pk: i
        for i in Item.objects.filter(pk__in={g["item_id"] for g in candidates}).select_related(
            "standard"
        )
    }
    settled = set(
        Settlement.objects.filter(
            round=round_, enrollment_id__in={g["enrollment_id"] for g in candidates}
        ).values_list("enrollment_id", "item_id")
    )
    flagged = set()
    for g in candidates:
        key = (g["enrollment_id"], g["item_id"])
        if key in settled:
            continue
        mixed = 0 < g["na"] < g["n"]
        apart = (
            g["high"] is not None
            and g["low"] is not None
            and g["high"] - g["low"] > gap_for(round_, items[g["item_id"]])
        )
        if mixed or apart:
            flagged.add(key)
    return flagged, items


def _described(
    round_: AcceptanceRound, flagged: set[tuple[int, int]], items: dict[int, Item]
) -> list[Disagreement]:
    """The flagged pairs with each assessor's value (one query), unordered."""
    if not flagged:
        return []
    values: dict[tuple[int, int], list[Value]] = {}
    enrollments: dict[int, Enrollment] = {}
    rows = (
        Score.objects.filter(
            round=round_,
            enrollment_id__in={e for e, _i in flagged},
            item_id__in={i for _e, i in flagged},
        )
        .select_related("assessor", "enrollment__community")
        .order_by("assessor__username")
    )
    for s in rows:
        key = (s.enrollment_id, s.item_id)
        if key in flagged:
            values.setdefault(key, []).append(Value(s.assessor, s.points, s.not_applicable))
            enrollments.setdefault(s.enrollment_id, s.enrollment)
    return [
        Disagreement(enrollments[e].community, items[i], values[(e, i)], enrollments[e])
        for e, i in flagged
    ]


def settled(
    round_: AcceptanceRound, enrollment_ids: Iterable[int] | None = None
) -> list[Settlement]:
    """The settlements made in the round, by community and item."""
    found = Settlement.objects.filter(round=round_).select_related(
        "enrollment__community", "item", "settled_by"
    )
    if enrollment_ids is not None:
        found = found.filter(enrollment_id__in=list(enrollment_ids))
    return list(found.order_by("enrollment__community__path", "item__order", "item__code"))


def describe(found: list[Disagreement]) -> str:
    """The disagreements in a sentence: community, item and each assessor's value."""
    return "; ".join(
        f"{d.community.name} {d.item.code} ("
        + ", ".join(
            f"{v.assessor.username}: {_('N/A') if v.not_applicable else v.points}" for v in d.values
        )
        + ")"
        for d in found
    )


def _check_value(item: Item, points: Decimal | None, not_applicable: bool, reason: str) -> None:
    """The settled value must be one the item allows, checked by the one validator of an entry
    (`scoring.validate`) with its messages. A per-occurrence item is settled on points, which
    must be what some count of occurrences gives."""
    if item.kind == ItemKind.PER_OCCURRENCE and not not_applicable and points is not None:
        per = Decimal(item.per_occurrence or 0)
        floor = Decimal(item.floor) if item.floor is not None else Decimal(0)
        counts = int((Decimal(item.points) - floor) / per) + 2 if per > 0 else 1
        if not any(occurrence_points(item, n) == points for n in range(counts)):
            raise Invalid(
                _("%(code)s: no number of occurrences gives %(points)s points.")
                % {"code": item.code, "points": points},
                "points",
            )
        return
    validate(item, points=points, not_applicable=not_applicable, reason=reason)


class Access(Protocol):
    """Who may settle, and the seal, as the workflow decides them (`assessments.settling`):
    scoring imports no workflow app (ADR 17)."""

    def refusal(self, actor: Any, round_: Any, enrollment: Any) -> str | None: ...

    def hold(self, round_: Any) -> None: ...

    def sealed(self, round_: Any, enrollment: Any) -> bool: ...


def settle(
    *,
    actor: Any,
    round_: AcceptanceRound,
    enrollment: Enrollment,
    item: Item,
    points: Decimal | None,
    not_applicable: bool = False,
    reason: str = "",
    access: Access,
    via: str = "web",
) -> Settlement:
    """The lead's decision on an item its assessors disagree on: it replaces their combined
    value for the community in this round. A second decision replaces the first. `access` says
    who may settle (the round's lead, or a county part's lead for its communities) and whether
    the round or part is finalised, and holds the sign-off lock during the write."""
    if (
        enrollment.campaign_id != round_.campaign_id
        or item.standard_id != round_.campaign.standard_id
    ):
        raise ApplicationError(_("That item or community is not part of this round."))
    if refusal := access.refusal(actor, round_, enrollment):
        raise NotAllowed(refusal)
    if access.sealed(round_, enrollment):
        raise ApplicationError(_("The round is finalised: its scores are locked."))
    if not Score.objects.filter(round=round_, enrollment=enrollment, item=item).exists():
        raise ApplicationError(
            _(
                "Nobody has scored %(item)s for %(community)s in this round: there is nothing to settle."
            )
            % {"item": item.code, "community": enrollment.community.name}
        )
    if not reason.strip():
        raise ApplicationError(_("Say why the item is settled at this value."))
    _check_value(item, points, not_applicable, reason)
    with transaction.atomic():
        access.hold(round_)  # a sign-off under way commits first
        if access.sealed(round_, enrollment):
            raise ApplicationError(_("The round is finalised: its scores are locked."))
        settlement = _store(
            actor=actor,
            round_=round_,
            enrollment=enrollment,
            item=item,
            points=points,
            not_applicable=not_applicable,
            reason=reason,
            action="score.settled",
            via=via,
        )
    return settlement


# --- the one sanctioned change of a sealed round: an appeal's decision (ADR 20) ---------------


class SealAccess(Protocol):
    """The seal as the workflow reads it (`assessments`): held during the write, and asked."""

    def hold(self, round_: Any) -> None: ...

    def sealed(self, round_: Any, enrollment: Any) -> bool: ...


def _settlement_state(existing: Settlement | None) -> dict[str, Any] | None:
    if existing is None:
        return None
    return {
        "points": None if existing.points is None else str(existing.points),
        "not_applicable": existing.not_applicable,
        "reason": existing.reason,
        "source": existing.source,
    }


def appeal_settle(
    *,
    actor: Any,
    round_: AcceptanceRound,
    enrollment: Enrollment,
    item: Item,
    points: Decimal | None,
    not_applicable: bool = False,
    reason: str,
    appeal_ref: str,
    access: SealAccess,
    via: str = "web",
) -> Settlement:
    """Write an item's value for a community in a SEALED round, as an appeal's reviewer decided
    it: the only write into a signed-off round (ADR 15, ADR 20). The value replaces the
    combination (and any lead's settlement) as a settlement whose source is the appeal, so that
    every reader follows it through the stored result. Who may decide is the appeal service's
    check (`quality.appeals`), which alone calls this; this route refuses an open round (its own
    writers correct it) and writes its own audit event, `score.appeal_changed`."""
    if (
        enrollment.campaign_id != round_.campaign_id
        or item.standard_id != round_.campaign.standard_id
    ):
        raise ApplicationError(_("That item or community is not part of this round."))
    if not reason.strip():
        raise ApplicationError(_("Say why the item is settled at this value."))
    if not appeal_ref:
        raise NotAllowed(_("Only an appeal's decision changes a signed-off round."))
    _check_value(item, points, not_applicable, reason)
    with transaction.atomic():
        access.hold(round_)
        if not access.sealed(round_, enrollment):
            raise ApplicationError(
                _("The round is open: its assessors and lead correct it, not an appeal.")
            )
        settlement = _store(
            actor=actor,
            round_=round_,
            enrollment=enrollment,
            item=item,
            points=points,
            not_applicable=not_applicable,
            reason=reason,
            action="score.appeal_changed",
            via=via,
            appeal_ref=appeal_ref,
        )
    return settlement


def _store(
    *,
    actor: Any,
    round_: AcceptanceRound,
    enrollment: Enrollment,
    item: Item,
    points: Decimal | None,
    not_applicable: bool,
    reason: str,
    action: str,
    via: str,
    appeal_ref: str = "",
) -> Settlement:
    """The one write of a settlement, inside its writer's transaction and after its checks: the
    lead's (`settle`) or an appeal's (`appeal_settle`, with `appeal_ref`), the round's result
    marked stale and the audit event with the value before and after."""
    from civicmark.scoring.materialize import mark

    community = enrollment.community
    existing = Settlement.objects.filter(round=round_, enrollment=enrollment, item=item).first()
    before = _settlement_state(existing)
    source = SettlementSource.APPEAL if appeal_ref else SettlementSource.LEAD
    settlement, _created = Settlement.objects.update_or_create(
        round=round_,
        enrollment=enrollment,
        item=item,
        defaults={
            "points": None if not_applicable else points,
            "not_applicable": not_applicable,
            "reason": reason.strip(),
            "settled_by": actor,
            "source": source,
            "appeal_ref": appeal_ref,
        },
    )
    mark(round_, [enrollment.pk])
    after: dict[str, Any] = {
        "item": item.code,
        "points": None if not_applicable else str(points),
        "not_applicable": not_applicable,
        "reason": reason.strip(),
        "round": round_.number,
    }
    if appeal_ref:
        after["appeal"] = appeal_ref
    audit.record(
        actor=actor,
        via=via,
        action=action,
        object_type="enrollment",
        object_ref=f"{round_.campaign.slug}/{round_.number}/{community.code}",
        scope_path=community.path,
        summary=f"{item.code} {community.name}",
        before=before,
        after=after,
    )
    return settlement
