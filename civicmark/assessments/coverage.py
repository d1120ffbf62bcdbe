"""What a change of a round's coverage does, said before it is done (issue 16, item 7).

The lead ticks the communities a round covers, starting from what it covers now (the defaults,
`panels`, until he lists his own). `coverage_change` compares the ticks with that: which
communities are added, which taken out, which are defaults. A change that takes communities out
is refused (`CoverageRemoves`, naming them) unless the person confirmed it, on the page or with
the command's `--confirm-removal`: ticking one community can no longer drop the others silently.
Ticks equal to the defaults store no list, so the round keeps following the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from civicmark.assessments import panels
from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.core.errors import ApplicationError

NAMED = 20  # communities named in a refusal; the page lists them all


@dataclass
class CoverageChange:
    current: set[int]
    defaults: set[int]
    wanted: set[int]
    # What to store: the ticks, or nothing when they are the defaults.
    covers: list[Enrollment] = field(default_factory=list)

    @property
    def added(self) -> set[int]:
        return self.wanted - self.current

    @property
    def removed(self) -> set[int]:
        return self.current - self.wanted


class CoverageRemoves(ApplicationError):
    code = "coverage_removes"

    def __init__(self, change: CoverageChange, names: list[str]) -> None:
        self.change = change
        shown = "、".join(names[:NAMED]) + ("…" if len(names) > NAMED else "")
        super().__init__(
            ngettext(
                "This change takes %(n)d community out of the round: %(names)s. Confirm to "
                "take it out.",
                "This change takes %(n)d communities out of the round: %(names)s. Confirm to "
                "take them out.",
                len(names),
            )
            % {"n": len(names), "names": shown}
        )


def _within(round_: AcceptanceRound, county: Any) -> QuerySet[Enrollment]:
    found = round_.campaign.enrollments.all()
    return found.filter(community__path__startswith=county.path) if county is not None else found


def coverage_change(
    round_: AcceptanceRound, covers: list[Enrollment], county: Any = None
) -> CoverageChange:
    """The change the ticks `covers` make to the round (or to a county's part of it); no ticks
    at all keep (or bring back) the defaults. A county's part ticks only its own communities:
    another county's is refused here, before the confirmation could name it."""
    scope = set(_within(round_, county).values_list("pk", flat=True))
    if county is not None and {e.pk for e in covers} - scope:
        # Refused before anything is compared: the confirmation would name the others.
        raise ApplicationError(_("%s's part covers only its own communities.") % county.name)
    current = panels.covered_ids(round_) & scope
    defaults = set(panels.default_covered(round_).values_list("pk", flat=True)) & scope
    wanted = {e.pk for e in covers} if covers else set(defaults)
    return CoverageChange(
        current=current,
        defaults=defaults,
        wanted=wanted,
        covers=[] if wanted == defaults else list(covers),
    )


def refuse_unconfirmed_removal(change: CoverageChange, round_: AcceptanceRound) -> None:
    if not change.removed:
        return
    names = list(
        round_.campaign.enrollments.filter(pk__in=change.removed)
        .order_by("community__path")
        .values_list("community__name", flat=True)
    )
    raise CoverageRemoves(change, names)


def describe(round_: AcceptanceRound, change: CoverageChange) -> dict[str, list[Enrollment]]:
    """The communities added and taken out, for the confirmation page."""
    rows = round_.campaign.enrollments.select_related("community").order_by("community__path")
    return {
        "added": list(rows.filter(pk__in=change.added)),
        "removed": list(rows.filter(pk__in=change.removed)),
    }
