"""The one validator of a score entry against its item (ADR 17).

Every way of scoring (the page, the offline sheet, survey-derived points, the command line)
checks an entry here and nowhere else, so each refusal reads the same wherever it is made and
each names the item's code. Empty is not zero: an entry with no points that is not marked not
applicable is refused, never stored as 0.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from civicmark.core.errors import ApplicationError

DEFAULT_STEP = Decimal("0.5")
ZERO = Decimal(0)


class Invalid(ApplicationError):
    """An entry its item does not allow; `field` is the input at fault (points, occurrences,
    reason or not_applicable), so a page or a sheet can show the message beside it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def step_of(item: Any) -> Decimal:
    """The item's grid: its own step, else its standard's, else 0.5."""
    if item.step:
        return Decimal(item.step)
    standard_step = getattr(item.standard, "step", None)
    return Decimal(standard_step) if standard_step else DEFAULT_STEP


def occurrence_points(item: Any, occurrences: int) -> Decimal:
    """A per-occurrence item's points for a count: the maximum less a deduction per occurrence,
    never below the floor (0 when the item names none)."""
    floor = Decimal(item.floor) if item.floor is not None else ZERO
    per = Decimal(item.per_occurrence or 0)
    return max(floor, Decimal(item.points) - occurrences * per)


def validate(
    item: Any,
    *,
    points: Decimal | None,
    occurrences: int | None = None,
    not_applicable: bool = False,
    reason: str = "",
) -> tuple[Decimal | None, int | None]:
    """The entry normalised as it is stored, (points, occurrences), or Invalid naming the item.

    Kinds: graded (0 to the maximum on the step), all or nothing (0 or the maximum), per
    occurrence (the count is given and the points follow), bonus (0 to the maximum on the step),
    penalty (the floor up to 0 on the step). Not applicable carries no points and needs a reason;
    so does a deduction (points below the maximum; for a penalty, below 0)."""
    code = item.code
    kind = item.kind or "graded"
    maximum = Decimal(item.points)
    reason = (reason or "").strip()
    if not_applicable:
        if points is not None or occurrences is not None:
            raise Invalid(
                _("%(code)s is marked not applicable: it has no points.") % {"code": code},
                "points",
            )
        if not reason:
            raise Invalid(
                _("%(code)s: say why the item does not apply.") % {"code": code}, "reason"
            )
        return None, None
    if kind == "per_occurrence":
        if occurrences is None:
            if points is None:
                raise Invalid(
                    _("%(code)s: give the number of occurrences, or mark the item not applicable.")
                    % {"code": code},
                    "occurrences",
                )
            raise Invalid(
                _("%(code)s is scored by occurrences: give their number, the points follow.")
                % {"code": code},
                "occurrences",
            )
        if occurrences < 0:
            raise Invalid(
                _("%(code)s: the number of occurrences is a whole number from 0.") % {"code": code},
                "occurrences",
            )
        computed = occurrence_points(item, occurrences)
        if points is not None and points != computed:
            raise Invalid(
                _("%(code)s: %(n)s occurrences give %(points)s points, not %(given)s.")
                % {"code": code, "n": occurrences, "points": computed, "given": points},
                "points",
            )
        points = computed
    else:
        if occurrences is not None:
            raise Invalid(
                _("%(code)s is not scored by occurrences: give its points.") % {"code": code},
                "occurrences",
            )
        if points is None:
            raise Invalid(
                _("%(code)s: give the points, or mark the item not applicable.") % {"code": code},
                "points",
            )
        step = step_of(item)
        if kind == "all_or_nothing":
            if points not in (ZERO, maximum):
                raise Invalid(
                    _("%(code)s is all or nothing: its points are 0 or %(max)s.")
                    % {"code": code, "max": maximum},
                    "points",
                )
        elif kind == "penalty":
            floor = Decimal(item.floor) if item.floor is not None else ZERO
            if not (floor <= points <= ZERO) or points % step:
                raise Invalid(
                    _("Points for %(code)s go from %(floor)s to 0 in steps of %(step)s.")
                    % {"code": code, "floor": floor, "step": step},
                    "points",
                )
        elif not (ZERO <= points <= maximum) or points % step:
            raise Invalid(
                _("Points for %(code)s go from 0 to %(max)s in steps of %(step)s.")
                % {"code": code, "max": maximum, "step": step},
                "points",
            )
    deducted = points < ZERO if kind == "penalty" else points < maximum
    if deducted and not reason:
        raise Invalid(_("%(code)s: say why points were deducted.") % {"code": code}, "reason")
    return points, occurrences
