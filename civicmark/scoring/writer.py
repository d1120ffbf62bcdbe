"""The one writer of scores (ADR 17): the page, the offline sheet, survey-derived points and the
command line all write through `write`.

Who may write is decided by the caller's `access` object (in `assessments`: panels, coverage,
sealing); this module imports no workflow app. `write` validates every entry (`validate`), asks
`access` about each, then in one transaction: holds the sign-off lock, reads the seal again,
locks the assessor's scores it would change and compares their versions (a first score meeting
the one-score-per-item constraint is a Conflict too), writes, records one audit event per score
changed and marks the stored results stale. All or nothing: any refusal or conflict writes
nothing and raises ScoreErrors keyed by each entry's `key`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.inserts import insert_rows
from civicmark.scoring.models import Score
from civicmark.scoring.validate import validate


class Conflict(ApplicationError):
    code = "conflict"


class Sealed(ApplicationError):
    """The round was signed off for the community: its scores and findings are locked (the API
    answers it as a conflict, ADR 24)."""

    code = "sealed"


class ScoreErrors(ApplicationError):
    """Some entries were refused; nothing was saved. `errors` maps each entry's key (its item's id
    unless the caller gave another, a sheet's row number) to the refusal."""

    def __init__(self, errors: dict[Any, ApplicationError]) -> None:
        super().__init__(_("Nothing was saved: correct the rows marked below."))
        self.errors = errors


@dataclass(frozen=True)
class ScoreEntry:
    """What an assessor gives one item: points (or, for a per-occurrence item, the count) or not
    applicable, the reason, and the version he saw (None for a first score). `enrollment` names
    the community when one write spans several (a sheet); `key` names the entry in errors."""

    item: Any
    points: Decimal | None
    not_applicable: bool = False
    reason: str = ""
    expected_version: int | None = None
    occurrences: int | None = None
    enrollment: Any = None
    key: Hashable = None

    def name(self) -> Hashable:
        return self.item.pk if self.key is None else self.key


class Access(Protocol):
    """Who may write, answered by the workflow (assessments.access)."""

    def refusal(self, actor: Any, round_: Any, enrollment: Any, item: Any) -> str | None: ...

    def sealed(self, round_: Any, enrollment: Any) -> bool: ...

    def hold(self, round_: Any) -> None: ...


@dataclass
class Written:
    """What a write did: the scores saved (new or changed), how many entries were unchanged, and
    the (enrollment id, item id) of every score the assessor holds in the communities written,
    as the write left them (read under its lock: the page's progress asks no more)."""

    saved: list[Score]
    unchanged: int = 0
    held: set[tuple[int, int]] = field(default_factory=set)


class _AlreadyScored(Exception):
    def __init__(self, keys: list[Hashable]) -> None:
        self.keys = keys


def check(
    *,
    actor: Any,
    round_: Any,
    enrollment: Any,
    entries: list[ScoreEntry],
    access: Access,
) -> tuple[
    list[tuple[ScoreEntry, Any, Decimal | None, int | None]], dict[Hashable, ApplicationError]
]:
    """Each entry asked of `access` and validated: (the entries as they would be written, the
    refusals by key). Writes nothing."""
    errors: dict[Hashable, ApplicationError] = {}
    checked: list[tuple[ScoreEntry, Any, Decimal | None, int | None]] = []
    for entry in entries:
        where = entry.enrollment if entry.enrollment is not None else enrollment
        try:
            refusal = access.refusal(actor, round_, where, entry.item)
            if refusal:
                raise NotAllowed(refusal)
            points, occurrences = validate(
                entry.item,
                points=entry.points,
                occurrences=entry.occurrences,
                not_applicable=entry.not_applicable,
                reason=entry.reason,
            )
        except ApplicationError as exc:
            errors[entry.name()] = exc
            continue
        checked.append((entry, where, points, occurrences))
    return checked, errors


def write(
    *,
    actor: Any,
    round_: Any,
    enrollment: Any,
    entries: list[ScoreEntry],
    access: Access,
    via: str,
) -> Written:
    """Write what one assessor gave: every entry, or none (ScoreErrors)."""
    checked, errors = check(
        actor=actor, round_=round_, enrollment=enrollment, entries=entries, access=access
    )
    if errors:
        raise ScoreErrors(errors)
    if not checked:
        return Written([])
    try:
        return _write(actor, round_, checked, access, via)
    except _AlreadyScored as taken:
        raise ScoreErrors(
            {
                key: Conflict(_("You have already scored this item; reload and change that score."))
                for key in taken.keys
            }
        ) from None


def _values(points: Decimal | None, occurrences: int | None, entry: ScoreEntry) -> dict[str, Any]:
    return {
        "points": points,
        "occurrences": occurrences,
        "not_applicable": entry.not_applicable,
        "reason": entry.reason.strip(),
    }


def _state(score: Score) -> dict[str, Any]:
    return {
        "points": None if score.points is None else str(score.points),
        "occurrences": score.occurrences,
        "not_applicable": score.not_applicable,
        "reason": score.reason,
    }


# The columns of a new score, as `_insert` writes them.
_NEW_COLUMNS = (
    "public_id",
    "round_id",
    "enrollment_id",
    "item_id",
    "assessor_id",
    "points",
    "occurrences",
    "not_applicable",
    "reason",
    "version",
    "updated_at",
)


def _insert(new: list[Score], now: Any) -> None:
    """The new scores in one statement (`inserts.insert_rows`: bulk_create's per-value
    compiling cost a sheet of 10,000 more than the rest of the write, ADR 17), their keys
    returned by it (`RETURNING`), since the page hands the saved scores back; where the database
    returns none, in one query after it. All are one round's and one assessor's."""
    for score in new:
        score.updated_at = now  # auto_now, as a save would set it
    by_key = {(s.enrollment_id, s.item_id): s for s in new}
    keys = insert_rows(
        Score,
        _NEW_COLUMNS,
        ([getattr(s, name) for name in _NEW_COLUMNS] for s in new),
        returning=("enrollment_id", "item_id", "id"),
    )
    if keys is None:
        # The keys by the same look-up as the writer's lock of the assessor's scores.
        first = new[0]
        keys = list(
            Score.objects.filter(
                round_id=first.round_id,
                assessor_id=first.assessor_id,
                enrollment_id__in={k[0] for k in by_key},
                item_id__in={k[1] for k in by_key},
            ).values_list("enrollment_id", "item_id", "pk")
        )
    for enrollment_id, item_id, pk in keys:
        stored = by_key.get((enrollment_id, item_id))
        if stored is not None:
            stored.pk = pk
            stored._state.adding, stored._state.db = False, Score.objects.db


def _write(
    actor: Any,
    round_: Any,
    checked: list[tuple[ScoreEntry, Any, Decimal | None, int | None]],
    access: Access,
    via: str,
) -> Written:
    errors: dict[Hashable, ApplicationError] = {}
    with transaction.atomic():
        access.hold(round_)  # a sign-off waits for this write, and this write for a sign-off
        enrollments = {where.pk: where for _e, where, _p, _o in checked}
        for where in enrollments.values():
            if access.sealed(round_, where):  # signed off since the request read the round
                raise ScoreErrors(
                    {
                        e.name(): Sealed(_("The round is finalised: its scores are locked."))
                        for e, w, _p, _o in checked
                        if w.pk == where.pk
                    }
                )
        # The assessor's own scores in these communities, locked: only he writes them, so a
        # second save of his waits for this one and compares versions after it. All of them,
        # not only the items given: what he holds afterwards is then known (`Written.held`).
        current = {
            (s.enrollment_id, s.item_id): s
            for s in Score.objects.select_for_update().filter(
                round=round_, assessor_id=actor.pk, enrollment_id__in=list(enrollments)
            )
        }
        new: list[Score] = []
        new_keys: list[Hashable] = []
        changed: list[Score] = []
        events: list[tuple[Score, Any, dict[str, Any] | None]] = []
        unchanged = 0
        now = timezone.now()
        for entry, where, points, occurrences in checked:
            values = _values(points, occurrences, entry)
            found = current.get((where.pk, entry.item.pk))
            if found is not None and (
                found.points,
                found.occurrences,
                found.not_applicable,
                found.reason,
            ) == tuple(values.values()):
                unchanged += 1  # as stored already: nothing to write, nothing to audit
                continue
            if entry.expected_version is None:
                if found is not None:
                    errors[entry.name()] = Conflict(
                        _("You have already scored this item; reload and change that score.")
                    )
                    continue
                score = Score(
                    round=round_, enrollment=where, item=entry.item, assessor=actor, **values
                )
                new.append(score)
                new_keys.append(entry.name())
                events.append((score, where, None))
                continue
            if found is None:
                errors[entry.name()] = Conflict(_("This score no longer exists; reload it."))
                continue
            if found.version != entry.expected_version:
                errors[entry.name()] = Conflict(
                    _("This score was changed by someone else since you opened it; reload it.")
                )
                continue
            before = _state(found)
            for key, value in values.items():
                setattr(found, key, value)
            found.version += 1
            found.updated_at = now
            changed.append(found)
            events.append((found, where, before))
        if errors:
            raise ScoreErrors(errors)
        if new:
            # No savepoint of its own: the exception leaves the atomic block and rolls the whole
            # write back (all or nothing), so the connection is never left broken.
            try:
                _insert(new, now)
            except IntegrityError:  # someone scored one of them first
                raise _AlreadyScored(new_keys) from None
        if changed:
            Score.objects.bulk_update(
                changed,
                ["points", "occurrences", "not_applicable", "reason", "version", "updated_at"],
                batch_size=2000,
            )
        if events:
            from civicmark.scoring.materialize import mark

            mark(round_, {where.pk for _s, where, _b in events})
            audit.record_many(
                [
                    audit.Event(
                        actor=actor,
                        via=via,
                        action="score.saved",
                        object_type="score",
                        object_ref=str(score.public_id),
                        scope_path=where.community.path,
                        summary=f"{score.item.code} {where.community.name}",
                        before=before,
                        after={**_state(score), "round": round_.number},
                    )
                    for score, where, before in events
                ]
            )
    held = set(current) | {(s.enrollment_id, s.item_id) for s in new}
    return Written([score for score, _w, _b in events], unchanged, held)
