"""A county round of a city's campaign comes in county parts (ADR 12): each county officer leads
his own county's part (coverage, panel, combining rule, sign-off); the city leads every part."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicmark.assessments import panels
from civicmark.assessments.models import Rectification
from civicmark.assessments.services import (
    round_finalise,
    round_reopen,
    score_save,
)
from civicmark.campaigns.models import AcceptanceRound
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.scoring.models import Score
from civicmark.scoring.rules import Rule
from tests.factories import person
from tests.test_panels import configure, fresh
from tests.test_round_results import COMMUNITIES, MAX, TABLE, round_data


@pytest.fixture
def parts(scoring, world):  # noqa: ANN001, ANN201
    """Round 1 of the city's campaign, covering all four communities (three in K1, one in K2),
    with a family-planning and public-security assessor appointed in each county."""
    from civicmark.accounts.models import RoleAssignment
    from civicmark.divisions.models import Department

    psb = Department.objects.get(code="PSB")
    assessors = {}
    for county in ("K1", "K2"):
        user = person(
            f"{county.lower()}fp", "assessor", world.d[county], department=world.dept["FP"]
        )
        RoleAssignment.objects.create(
            user=user, role="assessor", division=world.d[county], department=psb
        )
        assessors[county] = user
    round1 = scoring["campaign"].rounds.get(number=1)
    return scoring | {
        "round1": round1,
        "county_assessors": assessors,
        "world_k1": world.d["K1"],
        "world_k2": world.d["K2"],
    }


def codes(round_: AcceptanceRound) -> set[str]:
    return set(fresh(round_).covers.values_list("community__code", flat=True))


def covered(round_: AcceptanceRound) -> set[str]:
    return set(panels.covered(fresh(round_)).values_list("community__code", flat=True))


def score_all(s, round_, communities, points=None):  # noqa: ANN001, ANN201
    """Set-up: every item of the given communities scored by its county's assessor."""
    rows = []
    for code in communities:
        county = "K2" if code.startswith("C2") else "K1"
        for item in s["items"].values():
            value = item.points if points is None else points.get(item.code, item.points)
            rows.append(
                Score(
                    round=round_,
                    enrollment=s["enrollments"][code],
                    item=item,
                    assessor=s["county_assessors"][county],
                    points=value,
                    reason="" if value == item.points else "不足",
                )
            )
    Score.objects.bulk_create(rows)


def community(s, code):  # noqa: ANN001, ANN201
    return s["enrollments"][code].community


# --- The finding ----------------------------------------------------------------------------


def test_it_keeps_a_county_officers_coverage_change_inside_his_own_county(parts, world):
    """The finding: a county officer narrowed round 1 to his own community and, with it, took
    every other county's communities out of the round."""
    round1 = parts["round1"]
    configure(world.users["county_officer"], round1, covers=[parts["enrollments"]["C111"]])
    assert codes(round1) == {"C111", "C211"}  # K2's entry is as it was
    assert covered(round1) == {"C111", "C211"}


def test_it_lets_a_county_officer_finalise_only_his_own_countys_part(parts, world):
    """The finding: a county officer finalised round 1 for every county."""
    round1 = parts["round1"]
    score_all(parts, round1, COMMUNITIES)
    round_finalise(actor=world.users["county_officer"], round_=round1)
    round1 = fresh(round1)
    assert panels.round_sealed_for(round1, community(parts, "C111"))
    assert not panels.round_sealed_for(round1, community(parts, "C211"))
    assert round1.finalised_at is None
    # K2's assessor still scores K2's community; K1's scores are locked.
    score_save(
        actor=parts["county_assessors"]["K2"],
        round_=round1,
        enrollment=parts["enrollments"]["C211"],
        item=parts["items"]["A1"],
        points=Decimal(29),
        reason="再看",
        expected_version=1,
    )
    with pytest.raises(ApplicationError):
        score_save(
            actor=parts["county_assessors"]["K1"],
            round_=round1,
            enrollment=parts["enrollments"]["C111"],
            item=parts["items"]["A1"],
            points=Decimal(29),
            reason="再看",
            expected_version=1,
        )


# --- Another county's part is out of reach ---------------------------------------------------


def state(round_: AcceptanceRound) -> tuple:  # noqa: ANN001
    from civicmark.campaigns.models import RoundPart

    r = fresh(round_)
    return (
        r.combine_rule,
        r.finalised_at,
        codes(r),
        set(r.panel.values_list("username", flat=True)),
        set(RoundPart.objects.filter(round=r).values_list("county__code", "combine_rule")),
        set(RoundPart.objects.filter(round=r).values_list("county__code", "finalised_at")),
        Rectification.objects.count(),
    )


def test_it_refuses_a_county_officer_every_change_to_another_countys_part(parts, world):
    round1, k1 = parts["round1"], world.users["county_officer"]
    score_all(parts, round1, COMMUNITIES)
    before, events = state(round1), AuditEvent.objects.count()
    refusals = [
        lambda: configure(k1, round1, county=world.d["K2"], combine_rule="minimum"),
        lambda: configure(k1, round1, county=world.d["K2"], covers=[parts["enrollments"]["C211"]]),
        lambda: configure(k1, round1, covers=[parts["enrollments"]["C211"]]),
        lambda: configure(k1, round1, panel=[parts["county_assessors"]["K2"]]),
        lambda: configure(k1, round1, panel=[parts["assessors"][0]]),  # a city assessor
        lambda: configure(k1, round1, closes_on=round1.opens_on),  # the round's own window
        lambda: round_finalise(actor=k1, round_=round1, county=world.d["K2"]),
        lambda: round_reopen(actor=k1, round_=round1, county=world.d["K2"], reason="x"),
    ]
    for refused in refusals:
        with pytest.raises(ApplicationError):
            refused()
    assert state(round1) == before and AuditEvent.objects.count() == events


def test_it_refuses_crafted_posts_to_the_round_page(parts, world, client_for):
    round1 = parts["round1"]
    score_all(parts, round1, COMMUNITIES)
    url = reverse("round_detail", args=["c", 1])
    client = client_for(world.users["county_officer"])
    before, events = state(round1), AuditEvent.objects.count()
    form = {"opens_on": "2026-06-01", "closes_on": "2026-06-30"}
    for post in (
        form | {"county": "K2", "combine_rule": "minimum"},
        form
        | {"county": "K2", "combine_rule": "mean", "covers": [parts["enrollments"]["C211"].pk]},
        form | {"combine_rule": "mean", "covers": [str(parts["enrollments"]["C211"].pk)]},
        form | {"combine_rule": "mean", "panel": [str(parts["county_assessors"]["K2"].public_id)]},
        {"action": "finalise", "county": "K2"},
        {"action": "reopen", "county": "K2", "reason": "x"},
    ):
        assert client.post(url, post).status_code in (200, 302, 404, 422), post
    communities = reverse("communities", args=["c"])
    client.post(communities, {"action": "finalise", "round": "1", "county": "K2"})
    assert state(round1) == before and AuditEvent.objects.count() == events
    # The page offers him his own county's part and nothing of another's.
    page = client.get(url).content.decode()
    assert 'data-testid="part-form"' in page and 'data-testid="round-form"' not in page
    assert "Community 111" in page and "Community 211" not in page
    assert "k1fp" in page and "k2fp" not in page


# --- His own part works ------------------------------------------------------------------------


def test_it_lets_a_county_officer_set_his_own_parts_rule_panel_and_coverage(
    parts, world, client_for
):
    round1, e = parts["round1"], parts["enrollments"]
    round1.covers.clear()  # the defaults: every community the town has reviewed
    round1.campaign.enrollments.update(status="town_reviewed")
    other = person("k1fp-b", "assessor", world.d["K1"], department=world.dept["FP"])
    k2_other = person("k2fp-b", "assessor", world.d["K2"], department=world.dept["FP"])
    # County Two has listed its own panel: County One's change leaves it exactly as it was.
    configure(world.users["other_county_officer"], round1, panel=[k2_other])
    url = reverse("round_detail", args=["c", 1])
    client = client_for(world.users["county_officer"])
    response = client.post(
        url,
        {
            "combine_rule": "median",
            "panel": [str(parts["county_assessors"]["K1"].public_id)],
            "covers": [str(e["C111"].pk), str(e["C112"].pk)],
            "confirm_removal": "1",  # C121 leaves K1's part
        },
    )
    assert response.status_code == 302
    round1 = fresh(round1)
    assert codes(round1) == {"C111", "C112"}
    assert covered(round1) == {"C111", "C112", "C211"}  # K2 keeps its default coverage
    assert [u.username for u in panels.panel(round1, county=world.d["K1"])] == ["k1fp"]
    assert [u.username for u in panels.panel(round1, county=world.d["K2"])] == ["k2fp-b"]
    assert set(round1.panel.values_list("username", flat=True)) == {"k1fp", "k2fp-b"}
    from civicmark.campaigns import parts as round_parts

    assert round_parts.rule_for(round1, world.d["C111"].path) == "median"
    assert round_parts.rule_for(round1, world.d["C211"].path) == "mean"
    assert round1.combine_rule == "mean"
    event = AuditEvent.objects.filter(action="round.part_configured").latest("id")
    assert event.scope_path == world.d["K1"].path
    assert event.after["covers"] == ["C111", "C112"] and event.after["combine_rule"] == "median"
    # K1's other assessor is off K1's panel now.
    with pytest.raises(NotAllowed, match="panel|考核组"):
        score_save(
            actor=other,
            round_=round1,
            enrollment=e["C111"],
            item=parts["items"]["A1"],
            points=Decimal(30),
        )
    # K2's own panel scores K2 as before.
    score_save(
        actor=k2_other,
        round_=round1,
        enrollment=e["C211"],
        item=parts["items"]["A1"],
        points=Decimal(30),
    )


def test_it_finalises_each_part_and_the_round_when_every_part_is(parts, world):
    round1, e = parts["round1"], parts["enrollments"]
    k1, k2 = world.users["county_officer"], world.users["other_county_officer"]
    score_all(parts, round1, ["C111", "C112", "C121"], {"A1": Decimal(20)})
    with pytest.raises(ApplicationError, match="Community 211"):
        round_finalise(actor=world.users["city_admin"], round_=round1)  # all at once: C211 open
    round_finalise(actor=k1, round_=round1)
    # Rectifications for K1's communities only; K2 is still being scored.
    assert set(Rectification.objects.values_list("enrollment__community__code", flat=True)) == {
        "C111",
        "C112",
        "C121",
    }
    event = AuditEvent.objects.get(action="round.part_finalised")
    assert event.scope_path == world.d["K1"].path
    with pytest.raises(ApplicationError):
        round_finalise(actor=k1, round_=fresh(round1))  # already finalised
    with pytest.raises(ApplicationError):  # his part is sealed: coverage cannot change
        configure(k1, fresh(round1), covers=[e["C111"]])
    score_all(parts, round1, ["C211"])
    round_finalise(actor=k2, round_=fresh(round1))
    assert fresh(round1).finalised_at is not None  # every part that covers communities
    # Reopening a part needs a reason, is audited, and the round is no longer finalised.
    with pytest.raises(ApplicationError):
        round_reopen(actor=k2, round_=fresh(round1), reason=" ")
    round_reopen(actor=k2, round_=fresh(round1), reason="C211 的 A1 录入错误")
    round1 = fresh(round1)
    assert round1.finalised_at is None
    assert panels.round_sealed_for(round1, community(parts, "C111"))
    assert not panels.round_sealed_for(round1, community(parts, "C211"))
    reopened = AuditEvent.objects.get(action="round.part_reopened")
    assert reopened.after["reason"].startswith("C211") and reopened.scope_path == "/C/K2/"


def test_it_lets_the_city_finalise_every_part_at_once_and_reopen_them(parts, world, client_for):
    round1 = parts["round1"]
    city = world.users["city_admin"]
    score_all(parts, round1, COMMUNITIES)
    round_finalise(actor=city, round_=round1)
    round1 = fresh(round1)
    assert round1.finalised_at is not None
    for code in COMMUNITIES:
        assert panels.round_sealed_for(round1, community(parts, code))
    with pytest.raises(ApplicationError):  # nothing left for the county to finalise
        round_finalise(actor=world.users["county_officer"], round_=round1)
    # The city's round page lists every part; it reopens K1's part alone: K2 stays sealed.
    url = reverse("round_detail", args=["c", 1])
    page = client_for(city).get(url).content.decode()
    assert 'data-testid="parts"' in page and "County One" in page and "County Two" in page
    response = client_for(city).post(url, {"action": "reopen", "county": "K1", "reason": "复核"})
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="round.part_reopened").actor == city
    round1 = fresh(round1)
    assert round1.finalised_at is None
    assert not panels.round_sealed_for(round1, community(parts, "C111"))
    assert panels.round_sealed_for(round1, community(parts, "C211"))


def test_a_county_campaigns_round_stays_one_part(world):
    """A campaign run by a county: its county officer leads the whole round, as before."""
    from civicmark.accounts import authz
    from civicmark.campaigns import parts as round_parts
    from civicmark.campaigns.services import campaign_create
    from tests.factories import small_standard

    campaign = campaign_create(
        actor=None,
        slug="k",
        name="k",
        year=2026,
        division=world.d["K1"],
        standard=small_standard(world),
    )
    round1 = campaign.rounds.get(number=1)
    assert not round_parts.is_split(round1)
    assert authz.can_lead_round(world.users["county_officer"], round1)
    assert not authz.can_lead_round(world.users["other_county_officer"], round1)
    configure(world.users["county_officer"], round1, combine_rule="median")
    assert fresh(round1).combine_rule == "median"


def test_who_leads_which_part(parts, world):
    from civicmark.accounts import authz

    round1, round2 = parts["round1"], parts["round"]
    k1, k2 = world.d["K1"], world.d["K2"]
    officer, city = world.users["county_officer"], world.users["city_admin"]
    assert authz.can_lead_round(officer, round1, county=k1)
    assert not authz.can_lead_round(officer, round1, county=k2)
    assert not authz.can_lead_round(officer, round1)  # the whole round is the city's
    assert all(authz.can_lead_round(city, round1, county=c) for c in (None, k1, k2))
    assert not authz.can_lead_round(officer, round2, county=k1)  # a municipal round
    configure(city, round1, lead=world.users["other_county_officer"])
    assert authz.can_lead_round(world.users["other_county_officer"], fresh(round1), county=k1)


# --- Results under two rules ---------------------------------------------------------------------


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=round_data(), k1_rule=st.sampled_from(list(Rule)))
def test_the_results_of_two_counties_under_two_rules_equal_the_reference(parts, data, k1_rule):
    from civicmark.campaigns.models import RoundPart
    from civicmark.scoring.rounds import round_results
    from civicmark.scoring.rules import ItemInput, score

    entries, _vetoed, k2_rule = data
    Score.objects.all().delete()
    round1 = parts["round1"]
    RoundPart.objects.filter(round=round1).delete()
    RoundPart.objects.create(round=round1, county=parts["world_k1"], combine_rule=k1_rule.value)
    RoundPart.objects.create(round=round1, county=parts["world_k2"], combine_rule=k2_rule.value)
    rows = []
    for (code, item_code), value in entries.items():
        enrollment, item = parts["enrollments"][code], parts["items"][item_code]
        if value == "na":
            rows.append(
                Score(
                    round=round1,
                    enrollment=enrollment,
                    item=item,
                    assessor=parts["assessors"][0],
                    not_applicable=True,
                    reason="n/a",
                )
            )
        else:
            rows += [
                Score(
                    round=round1,
                    enrollment=enrollment,
                    item=item,
                    assessor=parts["assessors"][n],
                    points=p,
                    reason="r",
                )
                for n, p in enumerate(value)
            ]
    Score.objects.bulk_create(rows)
    fast, detailed = round_results(fresh(round1)), round_results(fresh(round1), detail=True)
    for code in COMMUNITIES:
        rule = k2_rule if code == "C211" else k1_rule
        items = []
        for item_code, (cat, maximum) in MAX.items():
            value = entries.get((code, item_code))
            items.append(
                ItemInput(
                    item_code,
                    cat,
                    maximum,
                    () if value in (None, "na") else tuple(value),
                    value == "na",
                )
            )
        expected = score(TABLE, items, rule=Rule(rule))
        got, full = fast[parts["enrollments"][code].pk], detailed[parts["enrollments"][code].pk]
        assert (got.total, got.outcome, got.category_subtotals) == (
            expected.total,
            expected.outcome,
            expected.category_subtotals,
        ), (code, k1_rule, k2_rule)
        assert (full.total, full.lost, full.unscored) == (
            expected.total,
            expected.lost,
            expected.unscored,
        ), (code, k1_rule, k2_rule)


def test_the_stored_results_filter_covers_each_part_as_the_coverage_does(parts, world):
    """Dashboards filter stored results by `covered_results_q`: per part, the county's own list
    or its defaults, exactly as `panels.covered` says."""
    from civicmark.scoring.materialize import refresh
    from civicmark.scoring.models import CommunityResult

    round1, e = parts["round1"], parts["enrollments"]
    round1.covers.clear()
    round1.campaign.enrollments.update(status="town_reviewed")
    configure(world.users["county_officer"], round1, covers=[e["C112"]])  # K1 lists one
    refresh(fresh(round1))
    stored = CommunityResult.objects.filter(round=round1).filter(
        panels.covered_results_q(fresh(round1))
    )
    got = set(stored.values_list("enrollment__community__code", flat=True))
    assert got == covered(round1) == {"C112", "C211"}


def test_a_signed_off_part_gains_no_community_from_the_workflow(parts, world):
    """The review found a town passing a community on after its county's part was signed off:
    the sealed part then showed a new, incomplete community. A signed-off part covers what it
    judged; the other county's part still follows the workflow."""
    from django.utils import timezone

    from civicmark.campaigns.models import RoundPart

    round1 = parts["round1"]
    round1.covers.clear()  # the defaults: the communities the towns have passed on
    enrollments = parts["campaign"].enrollments
    enrollments.update(status="submitted")
    RoundPart.objects.create(round=round1, county=world.d["K1"], finalised_at=timezone.now())
    enrollments.filter(community__code__in=["C112", "C211"]).update(status="town_reviewed")
    assert covered(round1) == {"C211"}
    c112 = enrollments.get(community__code="C112")
    assert not panels.is_covered(fresh(round1), c112.pk, status=c112.status)
