"""County accuracy (issue 17 item 1, ADR 20): the city re-checks a seeded sample of what each
county pre-accepted, and reads how far each county's scores lie from its own.

- The draw is a pure function (`draw`): the same seed and the same lists give the same sample,
  county by county (each county's stratum has its own generator, seeded from the draw's seed
  and the county's code, so one county's list never moves another county's sample).
- The population of a county is the campaign's communities under it in a pre-accepted state
  (`assessments.todo.PRE_ACCEPTED`, the one list of those states).
- The sizes are the campaign's (`SamplingSettings`, or `DEFAULTS`): the usual size, and the
  enlarged size for a county whose previous stratum lay beyond the threshold (its mean absolute
  deviation of the total, city minus county, in points).
- The drawn communities join the municipal round's coverage through the round's own service
  (`assessments.services.round_configure`, which asks `assessments.coverage`), never by hand.
- The figures read the stored results (`scoring.reader.stored`) and the round SQL
  (`scoring.rounds.item_values`): no second copy of the score arithmetic.

Who may: the municipal round's lead office (the city) sets the sizes, draws and sees every
county; a county officer sees his own county's figures only; anyone else gets 404.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from civicmark.accounts import authz
from civicmark.accounts.roles import Role
from civicmark.assessments import panels
from civicmark.assessments.services import round_configure
from civicmark.assessments.todo import PRE_ACCEPTED
from civicmark.assessments.workflow import State
from civicmark.campaigns.models import AcceptanceRound, Campaign, Enrollment
from civicmark.core import audit
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.divisions.models import Division, Level
from civicmark.quality import stats
from civicmark.quality.models import SampleDraw, SampleStratum, SamplingSettings, SizeKind
from civicmark.scoring import reader
from civicmark.scoring.rounds import item_values
from civicmark.scoring.rules import Outcome
from civicmark.standards.models import Item

SEED_MAX = 2**63 - 1  # what a BigIntegerField keeps


@dataclass(frozen=True)
class Sizes:
    kind: str
    base: int
    enlarged: int
    threshold: Decimal


# A fifth of what each county pre-accepted, two fifths after a county lay more than three
# points (mean absolute deviation of the total) from the city.
DEFAULTS = Sizes(kind=SizeKind.SHARE, base=20, enlarged=40, threshold=Decimal(3))


# --- the pure draw --------------------------------------------------------------------------


def stratum_size(population: int, kind: str, size: int) -> int:
    """How many of a county's `population` pre-accepted communities are drawn: `size` of them,
    or `size` percent rounded up (at least one of a county that pre-accepted any)."""
    if population <= 0:
        return 0
    if kind == SizeKind.SHARE:
        return min(population, max(1, math.ceil(population * size / 100)))
    return min(population, size)


def size_for(population: int, sizes: Sizes, previous_deviation: Decimal | None) -> tuple[int, bool]:
    """A county's size and whether it is enlarged: its previous sample's mean absolute
    deviation (None: no earlier sample, or none re-checked in full) beyond the threshold."""
    enlarged = previous_deviation is not None and previous_deviation > sizes.threshold
    return stratum_size(
        population, sizes.kind, sizes.enlarged if enlarged else sizes.base
    ), enlarged


def draw(
    seed: int, strata: Mapping[str, Sequence[int]], sizes: Mapping[str, int]
) -> dict[str, list[int]]:
    """Draw `sizes[key]` of each stratum's ids without replacement, reproducibly from `seed`.
    Each stratum's generator is seeded from the seed and its key, and its population is sorted
    first, so the order the lists come in changes nothing."""
    drawn: dict[str, list[int]] = {}
    for key in sorted(strata):
        population = sorted(set(strata[key]))
        # Reproducible on purpose (anyone may re-draw from the recorded seed); the seed itself
        # comes from `secrets`, so nobody can choose a draw by choosing a seed unseen.
        rng = random.Random(f"{seed}/{key}")  # noqa: S311
        drawn[key] = sorted(rng.sample(population, min(sizes.get(key, 0), len(population))))
    return drawn


# --- who may --------------------------------------------------------------------------------


def city_refusal(user: Any, round_: AcceptanceRound) -> str | None:
    """Why the person may not draw, set the sizes or read every county (None: he may)."""
    if round_.level != Level.CITY:
        return _("The city re-checks the counties in a municipal round only.")
    if not authz.can_lead_round(user, round_):
        return _("Only the municipal round's lead office draws and reads the county sample.")
    return None


def may_see_county(user: Any, round_: AcceptanceRound, county: Division) -> bool:
    """The city sees every county's figures; a county officer his own county's only."""
    if city_refusal(user, round_) is None:
        return True
    return any(
        g.role == Role.COUNTY_OFFICER and county.path.startswith(g.path) for g in authz.grants(user)
    )


def own_counties(user: Any, round_: AcceptanceRound) -> list[Division]:
    """The counties of the round's campaign whose figures the person may read."""
    return [c for c in counties(round_.campaign) if may_see_county(user, round_, c)]


# --- the campaign's lists -------------------------------------------------------------------


def counties(campaign: Campaign) -> list[Division]:
    """The strata: the campaign's own county, or the counties of its city, in path order."""
    if campaign.division.level == Level.COUNTY:
        return [campaign.division]
    return list(
        Division.objects.filter(
            level=Level.COUNTY, path__startswith=campaign.division.path
        ).order_by("path")
    )


def pre_accepted(campaign: Campaign, county: Division) -> list[int]:
    """The enrollment ids of what the county pre-accepted (and the workflow kept since)."""
    return list(
        campaign.enrollments.filter(
            status__in=PRE_ACCEPTED, community__path__startswith=county.path
        ).values_list("pk", flat=True)
    )


def county_round(campaign: Campaign) -> AcceptanceRound | None:
    return campaign.rounds.filter(level=Level.COUNTY).order_by("number").first()


def sizes_of(campaign: Campaign) -> Sizes:
    found = SamplingSettings.objects.filter(campaign=campaign).first()
    if found is None:
        return DEFAULTS
    return Sizes(found.kind, found.base, found.enlarged, found.threshold)


# --- writes ---------------------------------------------------------------------------------


def sizes_refusal(
    kind: str, base: int, enlarged: int, threshold: Decimal
) -> tuple[str, str] | None:
    """What is wrong with these sizes, as (the field it belongs beside, the sentence)."""
    if kind not in SizeKind.values:
        return "kind", _("Choose a share or a number of communities.")
    if base < 1:
        return "base", _("The usual size must be at least one.")
    if enlarged < base:
        return "enlarged", _("The enlarged size must be at least the usual size.")
    if kind == SizeKind.SHARE and enlarged > 100:
        return "enlarged", _("A share is at most 100 percent.")
    if threshold <= 0:
        return "threshold", _("The threshold must be above zero points.")
    return None


def sampling_settings_save(
    *,
    actor: Any,
    round_: AcceptanceRound,
    kind: str,
    base: int,
    enlarged: int,
    threshold: Decimal,
    via: str = "web",
) -> SamplingSettings:
    """The campaign's sample sizes and threshold, set by the municipal round's lead office."""
    if refusal := city_refusal(actor, round_):
        raise NotAllowed(refusal)
    if refused := sizes_refusal(kind, base, enlarged, threshold):
        raise ApplicationError(refused[1])
    campaign = round_.campaign
    with transaction.atomic():
        before = sizes_of(campaign)
        row, _created = SamplingSettings.objects.select_for_update().update_or_create(
            campaign=campaign,
            defaults={
                "kind": kind,
                "base": base,
                "enlarged": enlarged,
                "threshold": threshold,
                "updated_by": actor if getattr(actor, "pk", None) else None,
            },
        )
        audit.record(
            actor=actor,
            action="sample.settings_saved",
            object_type="campaign",
            object_ref=campaign.slug,
            scope_path=campaign.division.path,
            summary=f"{kind} {base}/{enlarged}, > {threshold}",
            before=_sizes_dict(before),
            after=_sizes_dict(sizes_of(campaign)),
            via=via,
        )
    return row


def _sizes_dict(sizes: Sizes) -> dict[str, str]:
    return {
        "kind": str(sizes.kind),
        "base": str(sizes.base),
        "enlarged": str(sizes.enlarged),
        "threshold": str(sizes.threshold),
    }


@dataclass(frozen=True)
class Planned:
    """One county's part of a draw before it is written: its list, size and why."""

    county: Division
    population: list[int]
    size: int
    previous: SampleStratum | None
    previous_deviation: Decimal | None
    enlarged: bool


def plan(campaign: Campaign, round_: AcceptanceRound, sizes: Sizes) -> list[Planned]:
    """Each county's population and size: enlarged when its previous stratum (this campaign's
    earlier draw, or an earlier campaign's) lay beyond the threshold."""
    planned = []
    for county in counties(campaign):
        population = pre_accepted(campaign, county)
        previous = (
            SampleStratum.objects.filter(county=county)
            .exclude(draw__round=round_)
            .select_related("draw__round", "draw__county_round", "county")
            .order_by("-draw__drawn_at", "-pk")
            .first()
        )
        deviation = None
        if previous is not None:
            deviation = figures_of(previous.draw, [previous])[0].mean_abs
        size, enlarged = size_for(len(population), sizes, deviation)
        planned.append(Planned(county, population, size, previous, deviation, enlarged))
    return planned


def sample_draw(
    *, actor: Any, round_: AcceptanceRound, seed: int | None = None, via: str = "web"
) -> SampleDraw:
    """Draw the round's sample (once), record it with its seed, and have the round cover it."""
    if refusal := city_refusal(actor, round_):
        raise NotAllowed(refusal)
    if round_.finalised_at is not None:
        raise ApplicationError(
            _("The round is finalised: draw its sample before it is signed off.")
        )
    if SampleDraw.objects.filter(round=round_).exists():
        raise ApplicationError(_("This round's sample is drawn already: it is drawn once."))
    if seed is not None and not 0 <= seed <= SEED_MAX:
        raise ApplicationError(_("The seed is a whole number from 0 to %d.") % SEED_MAX)
    campaign = round_.campaign
    compared = county_round(campaign)
    if compared is None or compared.number >= round_.number:
        raise ApplicationError(_("The campaign has no county round before this one to re-check."))
    sizes = sizes_of(campaign)
    planned = plan(campaign, round_, sizes)
    if not any(p.size for p in planned):
        raise ApplicationError(_("No county has pre-accepted a community yet: nothing to draw."))
    seed = secrets.randbelow(SEED_MAX) if seed is None else seed
    drawn = draw(
        seed,
        {p.county.code: p.population for p in planned},
        {p.county.code: p.size for p in planned},
    )
    with transaction.atomic():
        record = SampleDraw.objects.create(
            round=round_,
            county_round=compared,
            seed=seed,
            kind=sizes.kind,
            base=sizes.base,
            enlarged=sizes.enlarged,
            threshold=sizes.threshold,
            drawn_by=actor if getattr(actor, "pk", None) else None,
        )
        for p in planned:
            stratum = SampleStratum.objects.create(
                draw=record,
                county=p.county,
                population=len(p.population),
                size=p.size,
                enlarged=p.enlarged,
                previous=p.previous,
                previous_deviation=p.previous_deviation,
            )
            stratum.communities.set(drawn[p.county.code])
        _cover(actor, round_, [pk for ids in drawn.values() for pk in ids], via)
        codes = dict(
            Enrollment.objects.filter(
                pk__in=[pk for ids in drawn.values() for pk in ids]
            ).values_list("pk", "community__code")
        )
        audit.record(
            actor=actor,
            action="sample.drawn",
            object_type="round",
            object_ref=f"{campaign.slug}/{round_.number}",
            scope_path=campaign.division.path,
            summary=f"{round_.name}: seed {seed}",
            after={
                "seed": str(seed),
                "sizes": _sizes_dict(sizes),
                "strata": {
                    p.county.code: {
                        "population": len(p.population),
                        "size": p.size,
                        "enlarged": p.enlarged,
                        "drawn": [codes[pk] for pk in drawn[p.county.code]],
                    }
                    for p in planned
                },
            },
            via=via,
        )
    return record


def _cover(actor: Any, round_: AcceptanceRound, drawn: list[int], via: str) -> None:
    """The drawn communities join the round's coverage through the round's own service (which
    stores no list when they are covered by default already)."""
    current = panels.covered_ids(round_)
    if set(drawn) <= current:
        return
    round_configure(
        actor=actor,
        round_=round_,
        opens_on=round_.opens_on,
        closes_on=round_.closes_on,
        combine_rule=round_.combine_rule,
        rescore=round_.rescore,
        lead=round_.lead,
        panel=list(round_.panel.all()),
        covers=list(round_.campaign.enrollments.filter(pk__in=current | set(drawn))),
        via=via,
    )


# --- reads ----------------------------------------------------------------------------------


@dataclass
class CommunityRow:
    enrollment: Enrollment
    county_total: Decimal | None
    city_total: Decimal | None
    county_outcome: str = ""
    city_outcome: str = ""

    @property
    def compared(self) -> bool:
        """Both rounds hold a complete result for it (the city has re-checked it in full)."""
        return (
            self.county_total is not None
            and self.city_total is not None
            and Outcome.INCOMPLETE not in (self.county_outcome, self.city_outcome)
        )

    @property
    def deviation(self) -> Decimal | None:
        if not self.compared:
            return None
        assert self.city_total is not None and self.county_total is not None
        return self.city_total - self.county_total

    @property
    def changed(self) -> bool:
        return self.compared and self.county_outcome != self.city_outcome

    @property
    def county_label(self) -> str:
        return outcome_label(self.county_outcome)

    @property
    def city_label(self) -> str:
        return outcome_label(self.city_outcome)


def outcome_label(outcome: str) -> str:
    """The outcome as the workflow names it (its states carry the outcomes' values)."""
    if outcome in State.values and outcome != Outcome.INCOMPLETE:
        return str(State(outcome).label)
    return _("not yet scored in full") if outcome else _("no result")


@dataclass
class ItemRow:
    item: Item
    n: int
    mean: Decimal | None


@dataclass
class CountyFigures:
    """A county's stratum and how far its scores lie from the city's on what was re-checked."""

    stratum: SampleStratum
    rows: list[CommunityRow]
    items: list[ItemRow] = field(default_factory=list)
    threshold: Decimal = Decimal(0)

    @property
    def compared(self) -> list[CommunityRow]:
        return [r for r in self.rows if r.compared]

    @property
    def mean(self) -> Decimal | None:
        """Mean of city minus county totals (below zero: the county was more lenient)."""
        return _mean([r.deviation for r in self.compared])

    @property
    def mean_abs(self) -> Decimal | None:
        """Mean absolute deviation of the totals: what the threshold reads."""
        return _mean([abs(r.deviation) for r in self.compared if r.deviation is not None])

    @property
    def changed(self) -> int:
        return sum(1 for r in self.compared if r.changed)

    @property
    def changed_share(self) -> Decimal | None:
        """Percent of the compared communities whose outcome changed."""
        n = len(self.compared)
        return stats.shown(Fraction(self.changed * 100, n), 1) if n else None

    @property
    def beyond(self) -> bool:
        return self.mean_abs is not None and self.mean_abs > self.threshold


def _mean(values: Sequence[Decimal | None]) -> Decimal | None:
    known = [Fraction(v) for v in values if v is not None]
    return stats.shown(sum(known, Fraction(0)) / len(known)) if known else None


def figures_of(
    draw_: SampleDraw, strata: Sequence[SampleStratum] | None = None
) -> list[CountyFigures]:
    """Each stratum's figures (all of the draw's, or those given), in four queries whatever the
    number of counties: both rounds' stored results and item values for the drawn communities."""
    chosen = list(strata) if strata is not None else list(draw_.strata.select_related("county"))
    members = {s.pk: list(s.communities.select_related("community")) for s in chosen}
    ids = [e.pk for found in members.values() for e in found]
    county = {r.enrollment_id: r for r in reader.stored(draw_.county_round, ids)}
    city = {r.enrollment_id: r for r in reader.stored(draw_.round, ids)}
    before, na_before = item_values(draw_.county_round, enrollment_ids=ids)
    after, na_after = item_values(draw_.round, enrollment_ids=ids)
    items = {i.pk: i for i in draw_.round.campaign.standard.items.order_by("order", "code")}
    found = []
    for stratum in chosen:
        rows = []
        for e in sorted(members[stratum.pk], key=lambda e: e.community.path):
            a, b = county.get(e.pk), city.get(e.pk)
            rows.append(
                CommunityRow(
                    enrollment=e,
                    county_total=a.total if a else None,
                    city_total=b.total if b else None,
                    county_outcome=a.outcome if a else "",
                    city_outcome=b.outcome if b else "",
                )
            )
        compared = {r.enrollment.pk for r in rows if r.compared}
        per_item: dict[int, list[Decimal]] = {}
        for (e_id, i_id), value in after.items():
            key = (e_id, i_id)
            if e_id in compared and key in before and key not in na_before | na_after:
                per_item.setdefault(i_id, []).append(value - before[key])
        item_rows = [
            ItemRow(items[pk], len(per_item[pk]), _mean(list(per_item[pk])))
            for pk in items
            if pk in per_item
        ]
        found.append(CountyFigures(stratum, rows, item_rows, draw_.threshold))
    return found


def draw_of(round_: AcceptanceRound) -> SampleDraw | None:
    return SampleDraw.objects.filter(round=round_).select_related("round", "county_round").first()
