"""Late and returning communities (ADR 17; issue 15, item 3): a community first covered in the
November round is scored there in full ("re-score only what lost points" is for communities
scored in July), and nothing done in November changes the finalised July round."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from civicmark.assessments import panels, part_services
from civicmark.assessments.services import round_finalise, round_reopen, score_save
from civicmark.campaigns.models import AcceptanceRound, Enrollment
from civicmark.results.summary import results_for
from civicmark.scoring.materialize import current
from civicmark.scoring.models import CommunityResult
from civicmark.scoring.rounds import round_results
from tests.test_round_results import cover

ITEMS = ("A1", "A2", "B1", "B2")


def fresh(round_: AcceptanceRound) -> AcceptanceRound:
    return AcceptanceRound.objects.get(pk=round_.pk)


def stored(round_: AcceptanceRound) -> list[tuple]:
    current(fresh(round_))
    return sorted(
        CommunityResult.objects.filter(round=round_).values_list(
            "enrollment__community__code",
            "total",
            "outcome",
            "level",
            "assessed",
            "subtotals",
            "vetoes",
            "commendable",
        )
    )


def listed(round_: AcceptanceRound, user) -> list[tuple]:  # noqa: ANN001
    return [
        (r.enrollment.community.code, r.total, r.outcome)
        for r in results_for(fresh(round_), user).order_by("enrollment__community__code")
    ]


def give(s, round_, community, code, points, reason=""):  # noqa: ANN001, ANN201
    return score_save(
        actor=s["assessors"][0],
        round_=round_,
        enrollment=s["enrollments"][community],
        item=s["items"][code],
        points=Decimal(points),
        reason=reason,
    )


@pytest.fixture
def july(scoring, world):  # noqa: ANN001, ANN201
    """Default coverage: C111 reported and scored in July (A1 lost 10 points), July finalised;
    C112 was still in its town's hands then."""
    s = scoring
    for r in s["campaign"].rounds.all():
        r.covers.clear()
    Enrollment.objects.filter(pk=s["enrollments"]["C111"].pk).update(status="reported")
    july = s["round"]
    for code in ITEMS:
        lost = 10 if code == "A1" else 0
        give(s, july, "C111", code, s["items"][code].points - lost, "台账缺失" if lost else "")
    round_finalise(actor=world.users["city_admin"], round_=fresh(july))
    return s | {"july": fresh(july), "november": s["campaign"].rounds.get(number=3)}


def test_a_late_community_is_scored_in_full_in_november_and_completes(july, world, client_for):
    s = july
    november = s["november"]
    Enrollment.objects.filter(pk=s["enrollments"]["C112"].pk).update(status="reported")
    cover(s, world, november, ["C111", "C112"])  # the lead adds the late community
    november = fresh(november)
    assert panels.items_to_score(november, s["enrollments"]["C111"]) == {s["items"]["A1"].pk}
    assert panels.items_to_score(november, s["enrollments"]["C112"]) is None
    assert part_services.unscored(november, [s["enrollments"]["C112"]]) == ["Community 112 (4)"]
    page = (
        client_for(s["assessors"][0])
        .get(reverse("score_community", args=["c", 3, "C112"]))
        .content.decode()
    )
    assert all(f'data-item="{code}"' in page for code in ITEMS)
    for code in ITEMS:
        give(s, november, "C112", code, s["items"][code].points)
    give(s, november, "C111", "A1", 30)
    results = round_results(fresh(november))
    assert results[s["enrollments"]["C112"].pk].outcome == "standard_unit"
    assert results[s["enrollments"]["C112"].pk].total == Decimal("100.00")
    assert results[s["enrollments"]["C111"].pk].total == Decimal("100.00")
    assert not part_services.unscored(fresh(november), list(panels.covered(fresh(november))))


def test_nothing_done_in_november_changes_the_finalised_july_round(july, world):
    s = july
    city = world.users["city_admin"]
    july_round, november = s["july"], s["november"]
    before, shown = stored(july_round), listed(july_round, city)
    assert [code for code, *_ in shown] == ["C111"]
    # C112 is reported late, added to November, scored there in full.
    Enrollment.objects.filter(pk=s["enrollments"]["C112"].pk).update(status="reported")
    cover(s, world, november, ["C111", "C112"])
    for code in ITEMS:
        give(s, fresh(november), "C112", code, s["items"][code].points)
    assert stored(july_round) == before
    assert listed(july_round, city) == shown
    # Its workflow moves on (November did not find it wanting at first: rectifying): July
    # still does not count it.
    Enrollment.objects.filter(pk=s["enrollments"]["C112"].pk).update(status="rectifying")
    assert stored(july_round) == before and listed(july_round, city) == shown
    # July reopened to correct a score: it covers what it judged, not the late community,
    # and signs off again without asking for C112's items.
    round_reopen(actor=city, round_=fresh(july_round), reason="更正一处笔误")
    assert sorted(panels.covered(fresh(july_round)).values_list("community__code", flat=True)) == [
        "C111"
    ]
    assert listed(july_round, city) == shown
    round_finalise(actor=city, round_=fresh(july_round))
    assert stored(july_round) == before
