"""The round page at a country's size (issue 19, ADR 31): the open disagreements kept per
community beside its stored result by the one rule, equal to a live recomputation after any
scores and settlements; the page asks the same statements whatever the round's size; finalising
still asks the rule live."""

from __future__ import annotations

import random
from collections import Counter
from contextlib import suppress
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicmark.accounts.models import RoleAssignment, User
from civicmark.assessments.services import round_finalise, score_save
from civicmark.assessments.settling import settle
from civicmark.core.errors import ApplicationError
from civicmark.results.scale import build_city
from civicmark.scoring import materialize
from civicmark.scoring.disagreements import first_open, open_disagreements
from civicmark.scoring.models import CommunityResult, RoundTally, Score, Settlement
from tests.factories import small_standard

COMMUNITIES = ("C111", "C112", "C121", "C211")
ITEMS = ("A1", "A2", "B1", "B2")


def put(s, who: int, community: str, code: str, points: Decimal | None) -> None:  # noqa: ANN001
    """An assessor's score through the one writer (a second one replaces his first)."""
    item = s["items"][code]
    enrollment = s["enrollments"][community]
    assessor = s["assessors"][who]
    version = (
        Score.objects.filter(round=s["round"], enrollment=enrollment, item=item, assessor=assessor)
        .values_list("version", flat=True)
        .first()
    )
    score_save(
        actor=assessor,
        round_=s["round"],
        enrollment=enrollment,
        item=item,
        points=points,
        not_applicable=points is None,
        reason="" if points == item.points else "现场核查",
        expected_version=version,
    )


def stored_counts(round_) -> dict[int, int]:  # noqa: ANN001
    materialize.current(round_)
    return dict(
        CommunityResult.objects.filter(round=round_, disagreements__gt=0).values_list(
            "enrollment_id", "disagreements"
        )
    )


def live_counts(round_) -> dict[int, int]:  # noqa: ANN001
    return dict(Counter(d.enrollment.pk for d in open_disagreements(round_)))


score = st.tuples(
    st.integers(0, 2),  # assessor
    st.sampled_from(COMMUNITIES),
    st.sampled_from(ITEMS),
    st.one_of(st.none(), st.integers(0, 40)),  # not applicable, or points in halves
)
settlement = st.tuples(st.sampled_from(COMMUNITIES), st.sampled_from(ITEMS), st.integers(0, 40))


def apply(s, world, scores, settlements) -> None:  # noqa: ANN001
    for who, community, code, halves in scores:
        item = s["items"][code]
        if halves is None and code.startswith("A"):
            halves = 0  # the A items always apply
        points = None if halves is None else min(item.points, Decimal(halves) / 2)
        put(s, who, community, code, points)
    for community, code, halves in settlements:
        item = s["items"][code]
        with suppress(ApplicationError):  # nobody scored it: nothing to settle
            settle(
                actor=world.users["city_admin"],
                round_=s["round"],
                enrollment=s["enrollments"][community],
                item=item,
                points=min(item.points, Decimal(halves) / 2),
                reason="复核台账",
            )


@pytest.mark.django_db(transaction=False)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.lists(score, max_size=12),
    then=st.lists(score, max_size=8),
    settled=st.lists(settlement, max_size=4),
)
def test_the_stored_counts_equal_the_rule_after_any_scores_and_settlements(
    scoring, world, first, then, settled
):
    # Given scores read once (every row stored), when more scores and settlements come, then
    # each community's stored count, the round's total and the page's figure equal the rule.
    s = scoring
    Score.objects.filter(round=s["round"]).delete()
    Settlement.objects.filter(round=s["round"]).delete()
    materialize.refresh(s["round"])
    apply(s, world, first, [])
    assert stored_counts(s["round"]) == live_counts(s["round"])
    apply(s, world, then, settled)
    live = live_counts(s["round"])
    assert stored_counts(s["round"]) == live
    assert RoundTally.objects.get(round=s["round"]).disagreements == sum(live.values())
    found, total = first_open(s["round"], limit=3)
    assert total == sum(live.values())
    assert [(d.enrollment.pk, d.item.pk) for d in found] == [
        (d.enrollment.pk, d.item.pk)
        for d in sorted(
            open_disagreements(s["round"]),
            key=lambda d: (d.enrollment.pk, d.item.order, d.item.code),
        )
    ][:3]


@pytest.mark.django_db
def test_finalising_asks_the_rule_live_not_the_stored_counts(scoring, world):
    # Given an open disagreement whose stored count was lost (a row written by hand), when the
    # lead finalises, then the round is refused all the same.
    s = scoring
    for code in ITEMS:
        put(s, 0, "C111", code, s["items"][code].points)
    put(s, 1, "C111", "A2", Decimal(20))
    r = s["round"]
    r.covers.set([s["enrollments"]["C111"]])
    materialize.current(r)
    CommunityResult.objects.filter(round=r).update(disagreements=0)
    RoundTally.objects.filter(round=r).update(disagreements=0)
    with pytest.raises(ApplicationError, match="A2"):
        round_finalise(actor=world.users["city_admin"], round_=r)
    r.refresh_from_db()
    assert r.finalised_at is None


def _disagree(campaign, communities: int) -> None:  # noqa: ANN001
    """A second assessor far from the first on one item of the first communities."""
    round_ = campaign.rounds.get(number=2)
    second = User.objects.create(username=f"{campaign.slug}-second")
    first = list(
        Score.objects.filter(round=round_).order_by("enrollment_id", "item_id")[:communities]
    )
    Score.objects.bulk_create(
        Score(
            round=round_,
            enrollment_id=f.enrollment_id,
            item_id=f.item_id,
            assessor=second,
            points=Decimal(0),
            reason="现场核查",
        )
        for f in first
    )
    materialize.mark(round_, [f.enrollment_id for f in first])


def _queries(client, url: str) -> int:  # noqa: ANN001
    client.get(url)  # the stale marks recomputed first, as any first reader would
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_round_page_asks_as_many_queries_for_a_small_and_a_large_round(
    world, client, monkeypatch
):
    # Given two rounds on either side of the size past which the page counts the coverage per
    # state instead of listing it (ADR 11), each with open disagreements, then the page asks the
    # same statements for both.
    from civicmark.assessments import views

    monkeypatch.setattr(views, "COVERAGE_LIST_MAX", 12)
    standard = small_standard(world)
    counts = []
    for n, prefix in ((8, "A"), (30, "B")):
        campaign = build_city(n, standard, prefix=prefix, seed=random.Random(n).randint(1, 99))
        _disagree(campaign, 3)
        officer = User.objects.create(username=f"{prefix}-lead")
        RoleAssignment.objects.create(user=officer, role="city_admin", division=campaign.division)
        client.force_login(officer)
        counts.append(_queries(client, reverse("round_detail", args=[campaign.slug, 2])))
    assert counts[0] == counts[1]
