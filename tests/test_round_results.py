"""Scores: who may save them, what they must say, no lost updates, and round results that equal
the reference rules on random data."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicmark.assessments.services import Conflict, score_save
from civicmark.campaigns.services import campaign_create
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.scoring.models import Score, VetoFinding
from civicmark.scoring.rounds import round_results
from civicmark.scoring.rules import CategoryInput, ItemInput, Rule, TableInput, score
from tests.factories import (
    person,
    small_standard,  # noqa: F401
)


def save(s, who, community, code, points, **kw):  # noqa: ANN001, ANN201
    return score_save(
        actor=s["assessors"][who] if isinstance(who, int) else who,
        round_=s["round"],
        enrollment=s["enrollments"][community],
        item=s["items"][code],
        points=None if points is None else Decimal(str(points)),
        **kw,
    )


def cover(s, world, round_, codes):  # noqa: ANN001, ANN201
    """The city's lead narrows a round to the given communities, through the service."""
    from civicmark.assessments.services import round_configure

    return round_configure(
        actor=world.users["city_admin"],
        round_=round_,
        opens_on=round_.opens_on,
        closes_on=round_.closes_on,
        combine_rule=round_.combine_rule,
        rescore=round_.rescore,
        lead=None,
        panel=[],
        covers=[s["enrollments"][c] for c in codes],
        confirm_removal=True,
    )


def test_an_assessor_scores_only_his_departments_items_in_his_area(scoring, world):
    save(scoring, 0, "C111", "A1", 30)
    k1_psb = world.users["assessor"]  # the county's public security assessor
    with pytest.raises(NotAllowed):
        save(scoring, k1_psb, "C111", "A1", 30)  # a family planning item
    with pytest.raises(NotAllowed):
        save(scoring, k1_psb, "C111", "A2", 30)  # the city's public security item, not his county's
    home = scoring["assessors"][1]
    home.home_division = world.d["T11"]
    home.save()
    with pytest.raises(NotAllowed):
        save(scoring, home, "C112", "A1", 30)  # he lives or works in that town
    save(scoring, home, "C211", "A1", 30)  # elsewhere he scores as usual
    assert Score.objects.count() == 2


def test_points_must_be_halves_within_the_maximum_with_a_reason_for_any_deduction(scoring):
    events = AuditEvent.objects.count()
    for points, reason, na in (
        (31, "", False),
        (12.3, "x", False),
        (20, "", False),
        (None, "", True),
        (5, "x", True),
    ):
        with pytest.raises(ApplicationError):
            save(scoring, 0, "C111", "A1", points, reason=reason, not_applicable=na)
    assert not Score.objects.exists() and AuditEvent.objects.count() == events
    save(scoring, 0, "C111", "A1", 27.5, reason="台账缺两个月")
    save(scoring, 0, "C111", "B1", None, not_applicable=True, reason="辖区无此类单位")


def test_a_stale_save_is_told_and_loses_nothing(scoring):
    first = save(scoring, 0, "C111", "A1", 30)
    save(scoring, 0, "C111", "A1", 28, reason="second look", expected_version=first.version)
    with pytest.raises(Conflict):
        save(scoring, 0, "C111", "A1", 25, reason="stale", expected_version=first.version)
    with pytest.raises(Conflict):
        save(scoring, 0, "C111", "A1", 25, reason="double first save")
    assert Score.objects.get().points == 28


def test_a_finalised_round_is_locked(scoring):
    from django.utils import timezone

    scoring["round"].finalised_at = timezone.now()
    scoring["round"].save()
    with pytest.raises(ApplicationError):
        save(scoring, 0, "C111", "A1", 30)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_saves_of_the_same_version_one_wins_one_is_told(world):
    """Real concurrent transactions, each on its own connection (PostgreSQL in CI's second run)."""
    from django.db import connections

    standard = small_standard(world)
    campaign = campaign_create(
        actor=None, slug="cc", name="cc", year=2026, division=world.d["C"], standard=standard
    )
    user = person("fpx", "assessor", world.d["C"], department=world.dept["FP"])
    campaign.rounds.get(number=2).covers.set(campaign.enrollments.all())
    ctx = {
        "round": campaign.rounds.get(number=2),
        "assessors": [user],
        "items": {i.code: i for i in standard.items.all()},
        "enrollments": {
            e.community.code: e for e in campaign.enrollments.select_related("community")
        },
    }
    first = save(ctx, 0, "C111", "A1", 30)
    barrier, outcomes = threading.Barrier(2), []

    def worker(points: int) -> None:
        try:
            barrier.wait()
            save(ctx, 0, "C111", "A1", points, reason="concurrent", expected_version=first.version)
            outcomes.append("saved")
        except Conflict:
            outcomes.append("conflict")
        except Exception as exc:  # anything else is a failure the assertion below will show
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(p,)) for p in (20, 25)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "saved"], (connection.vendor, outcomes)
    final = Score.objects.get()
    assert final.version == 2 and final.points in (20, 25)
    assert AuditEvent.objects.filter(action="score.saved").count() == 2


TABLE = TableInput(
    Decimal(100),
    Decimal(80),
    (CategoryInput("A", Decimal(60), Decimal(30)), CategoryInput("B", Decimal(40))),
    (("standard", Decimal(80)), ("advanced", Decimal(90))),
)
MAX = {
    "A1": ("A", Decimal(30)),
    "A2": ("A", Decimal(30)),
    "B1": ("B", Decimal(20)),
    "B2": ("B", Decimal(20)),
}
COMMUNITIES = ["C111", "C112", "C121", "C211"]


@st.composite
def round_data(draw):  # noqa: ANN001, ANN201
    entries = {}
    for community in COMMUNITIES:
        for code, (_cat, maximum) in MAX.items():
            how = draw(st.sampled_from(["none", "na", "scored", "scored", "scored"]))
            if how == "na":
                entries[(community, code)] = "na"
            elif how == "scored":
                n = draw(st.integers(min_value=1, max_value=3))
                entries[(community, code)] = [
                    Decimal(draw(st.integers(min_value=0, max_value=int(maximum * 2)))) / 2
                    for _ in range(n)
                ]
    vetoed = draw(st.sets(st.sampled_from(COMMUNITIES), max_size=2))
    return entries, vetoed, draw(st.sampled_from(list(Rule)))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=round_data())
def test_the_database_results_equal_the_reference_on_random_rounds(scoring, data):
    entries, vetoed, rule = data
    Score.objects.all().delete()
    VetoFinding.objects.all().delete()
    round_ = scoring["round"]
    round_.combine_rule = rule.value
    round_.save()
    rows = []
    for (community, code), value in entries.items():
        enrollment, item = scoring["enrollments"][community], scoring["items"][code]
        if value == "na":
            rows.append(
                Score(
                    round=round_,
                    enrollment=enrollment,
                    item=item,
                    assessor=scoring["assessors"][0],
                    not_applicable=True,
                    reason="n/a",
                )
            )
        else:
            rows += [
                Score(
                    round=round_,
                    enrollment=enrollment,
                    item=item,
                    assessor=scoring["assessors"][n],
                    points=p,
                    reason="r",
                )
                for n, p in enumerate(value)
            ]
    Score.objects.bulk_create(rows)
    veto = scoring["standard"].vetoes.get()
    VetoFinding.objects.bulk_create(
        VetoFinding(
            round=round_,
            enrollment=scoring["enrollments"][c],
            veto=veto,
            assessor=scoring["assessors"][0],
            reason="finding",
        )
        for c in vetoed
    )
    results = round_results(round_)
    detailed = round_results(round_, detail=True)
    # The stored results, once the changed communities are marked, equal the live computation.
    from civicmark.scoring.materialize import current, mark
    from civicmark.scoring.models import CommunityResult

    mark(round_, [e.pk for e in scoring["enrollments"].values()])
    current(round_)
    stored = {
        r.enrollment_id: (r.total, r.outcome, r.level or None, r.below_minimum)
        for r in CommunityResult.objects.filter(round=round_)
    }
    assert stored == {
        pk: (r.total, str(r.outcome), r.level, r.categories_below_minimum)
        for pk, r in results.items()
    }
    for community in COMMUNITIES:
        items = []
        for code, (cat, maximum) in MAX.items():
            value = entries.get((community, code))
            items.append(
                ItemInput(
                    code, cat, maximum, () if value in (None, "na") else tuple(value), value == "na"
                )
            )
        expected = score(TABLE, items, vetoes=int(community in vetoed), rule=rule)
        got = results[scoring["enrollments"][community].pk]
        full = detailed[scoring["enrollments"][community].pk]
        assert (full.lost, full.unscored, full.total, full.outcome) == (
            expected.lost,
            expected.unscored,
            expected.total,
            expected.outcome,
        )
        assert (
            got.total,
            got.outcome,
            got.level,
            got.categories_below_minimum,
            got.category_subtotals,
        ) == (
            expected.total,
            expected.outcome,
            expected.level,
            expected.categories_below_minimum,
            expected.category_subtotals,
        ), (community, rule, entries)


def test_it_gives_alike_communities_one_verdict_but_never_past_a_standing_veto(scoring):
    # Given four communities with the same points, the second of them (in the round's order)
    # vetoed: the round's SQL path shares one verdict among communities alike in what the rules
    # read (ADR 33), and a veto makes a community unlike the others.
    round_ = scoring["round"]
    points = {"A1": [Decimal(30)], "A2": [Decimal("27.5"), Decimal(28)], "B1": [Decimal(20)]}
    points["B2"] = [Decimal(15)]
    Score.objects.bulk_create(
        Score(
            round=round_,
            enrollment=scoring["enrollments"][community],
            item=scoring["items"][code],
            assessor=scoring["assessors"][n],
            points=p,
            reason="r",
        )
        for community in COMMUNITIES
        for code, given in points.items()
        for n, p in enumerate(given)
    )
    VetoFinding.objects.create(
        round=round_,
        enrollment=scoring["enrollments"]["C112"],
        veto=scoring["standard"].vetoes.get(),
        assessor=scoring["assessors"][0],
        reason="finding",
    )
    # When the round is computed
    results = round_results(round_)
    # Then each community's result is the reference rules' own, the veto only where it stands.
    for community in COMMUNITIES:
        items = [
            ItemInput(code, cat, maximum, tuple(points[code]), False)
            for code, (cat, maximum) in MAX.items()
        ]
        expected = score(TABLE, items, vetoes=int(community == "C112"))
        got = results[scoring["enrollments"][community].pk]
        assert (got.total, got.outcome, got.level, got.vetoes != []) == (
            expected.total,
            expected.outcome,
            expected.level,
            community == "C112",
        ), community
    assert [str(results[scoring["enrollments"][c].pk].outcome) for c in COMMUNITIES] == [
        "standard_unit",
        "vetoed",
        "standard_unit",
        "standard_unit",
    ]


def test_the_second_round_rescoring_only_what_was_rectified_and_carrying_the_rest(scoring, world):
    from civicmark.assessments.models import Rectification
    from civicmark.assessments.services import round_finalise

    s = scoring
    give = {"A1": 20, "A2": 30, "B1": 20, "B2": 12}  # 82
    for code, points in give.items():
        save(
            s,
            0,
            "C111",
            code,
            points,
            reason="" if points == s["items"][code].points else f"{code} 不足",
        )
    for code in ("A1", "A2", "B1", "B2"):
        save(s, 0, "C112", code, s["items"][code].points)
    round2 = s["round"]
    cover(s, world, round2, ["C111", "C112"])
    round_finalise(actor=world.users["city_admin"], round_=round2)
    tasks = Rectification.objects.filter(round=round2)
    assert sorted(
        tasks.values_list("enrollment__community__code", "item__code", "points_lost")
    ) == [("C111", "A1", Decimal(10)), ("C111", "B2", Decimal(8))]
    assert tasks.first().due_on == s["campaign"].rounds.get(number=3).opens_on - timedelta(days=1)
    round3 = s["campaign"].rounds.get(number=3)
    # C111 reached the standard, so November does not cover it by default; the lead adds it.
    with pytest.raises(NotAllowed, match="C111|Community 111"):
        score_save(
            actor=s["assessors"][1],
            round_=round3,
            enrollment=s["enrollments"]["C111"],
            item=s["items"]["A1"],
            points=Decimal(30),
        )
    cover(s, world, round3, ["C111", "C112"])
    # Only what lost points is re-scored; A2 kept its full marks from round 2.
    with pytest.raises(NotAllowed):
        score_save(
            actor=s["assessors"][1],
            round_=round3,
            enrollment=s["enrollments"]["C111"],
            item=s["items"]["A2"],
            points=Decimal(30),
        )
    score_save(
        actor=s["assessors"][1],
        round_=round3,
        enrollment=s["enrollments"]["C111"],
        item=s["items"]["A1"],
        points=Decimal(30),
    )
    results3 = round_results(round3)
    assert results3[s["enrollments"]["C111"].pk].total == Decimal(
        "92.00"
    )  # A1 re-scored, the rest carried
    assert results3[s["enrollments"]["C112"].pk].total == Decimal(
        "100.00"
    )  # nothing re-scored at all
    # The comparison shows both rounds item by item; lost points carried over keep their reason.
    from civicmark.results.explain import explain

    explained = explain(round3, s["enrollments"]["C111"])
    rows = {c.item.code: (c.before, c.after, c.rescored) for c in explained.comparison}
    assert rows["A1"] == (Decimal(20), Decimal(30), True)
    assert rows["B2"] == (Decimal(12), Decimal(12), False)
    assert [(lost.item.code, [x.reason for x in lost.scores]) for lost in explained.lost] == [
        ("B2", ["B2 不足"])
    ]
    from django.test import Client
    from django.urls import reverse

    browser = Client()
    browser.force_login(world.users["city_admin"])
    page = browser.get(reverse("community_result", args=["c", 3, "C111"])).content.decode()
    assert 'data-testid="comparison"' in page and "+10.00" in page and "B2 不足" in page


def test_a_veto_stands_in_later_rounds_until_its_department_lifts_it(scoring, world):
    from civicmark.assessments.services import round_finalise, veto_finding_record

    s = scoring
    for code in ("A1", "A2", "B1", "B2"):
        save(s, 0, "C111", code, s["items"][code].points)
    veto_finding_record(
        actor=s["assessors"][0],
        round_=s["round"],
        enrollment=s["enrollments"]["C111"],
        veto=s["standard"].vetoes.get(),
        reason="问题",
    )
    round3 = s["campaign"].rounds.get(number=3)
    assert round_results(round3)[s["enrollments"]["C111"].pk].outcome == "vetoed"
    with pytest.raises(NotAllowed, match="finalised|定稿"):  # July is not signed off yet
        save(dict(s, round=round3), 0, "C111", "A1", 30)
    cover(s, world, s["round"], ["C111"])
    round_finalise(actor=world.users["city_admin"], round_=s["round"])
    round3 = s["campaign"].rounds.get(number=3)  # fresh: it remembers July as unsealed
    cover(s, world, round3, ["C111"])
    # No item lost points, but the veto's department (FP) looks at its items again.
    with pytest.raises(NotAllowed):
        save(dict(s, round=round3), 1, "C111", "A2", 30)  # PSB's item: carried over
    save_3 = score_save(
        actor=s["assessors"][0],
        round_=round3,
        enrollment=s["enrollments"]["C111"],
        item=s["items"]["A1"],
        points=Decimal(30),
    )
    assert save_3.round == round3
    # ADR 17: re-scoring never lifts a veto; it stands until its department lifts it.
    after = round_results(round3)[s["enrollments"]["C111"].pk]
    assert (after.outcome, after.commendable, after.vetoes) == ("vetoed", False, [("V1", 2)])
    VetoFinding.objects.create(
        round=round3,
        enrollment=s["enrollments"]["C111"],
        veto=s["standard"].vetoes.get(),
        assessor=s["assessors"][0],
        reason="整改到位",
        lifts=True,
    )
    lifted = round_results(round3)[s["enrollments"]["C111"].pk]
    assert (lifted.outcome, lifted.commendable, lifted.vetoes) == ("standard_unit", True, [])


def test_the_community_reports_its_rectification_and_the_next_assessor_sees_it(
    scoring, world, client_for
):
    from django.urls import reverse

    from civicmark.assessments.models import Rectification
    from civicmark.assessments.services import round_finalise

    s = scoring
    for code, points in {"A1": 20, "A2": 30, "B1": 20, "B2": 20}.items():
        save(s, 0, "C111", code, points, reason="台账缺失" if code == "A1" else "")
    cover(s, world, s["round"], ["C111"])
    round_finalise(actor=world.users["city_admin"], round_=s["round"])
    cover(s, world, s["campaign"].rounds.get(number=3), ["C111"])
    fix = Rectification.objects.get()
    url = reverse("rectifications", args=["c"])
    staff = client_for(world.users["community_staff"])
    staff.post(url, {"id": str(fix.public_id), "status": "done", "note": ""})
    assert Rectification.objects.get().status == "open"  # "done" needs a word on what was done
    staff.post(url, {"id": str(fix.public_id), "status": "done", "note": "补齐十二个月台账"})
    assert Rectification.objects.get().status == "done"
    outsider = client_for(world.users["other_staff"])
    assert (
        outsider.post(url, {"id": str(fix.public_id), "status": "open", "note": "x"}).status_code
        == 404
    )
    page = (
        client_for(s["assessors"][0])
        .get(reverse("score_community", args=["c", 3, "C111"]))
        .content.decode()
    )
    assert "补齐十二个月台账" in page
    # Evidence of the fix: the community uploads it; an outsider cannot; the assessor sees it.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from civicmark.assessments.models import RectificationEvidence

    pdf = b"%PDF-1.4\n%%EOF\n"
    attach = {"id": str(fix.public_id), "action": "attach"}
    outsider.post(url, attach | {"file": SimpleUploadedFile("x.pdf", pdf)})
    assert not RectificationEvidence.objects.exists()
    staff = client_for(world.users["community_staff"])  # one test client: sign back in
    staff.post(url, attach | {"file": SimpleUploadedFile("fake.pdf", b"MZ\x90\x00 not a pdf")})
    assert not RectificationEvidence.objects.exists()  # the content is checked, not the name
    staff.post(url, attach | {"file": SimpleUploadedFile("台账照片.pdf", pdf)})
    record = RectificationEvidence.objects.get()
    assert AuditEvent.objects.filter(action="rectification.evidence_added").count() == 1
    page = (
        client_for(s["assessors"][0])
        .get(reverse("score_community", args=["c", 3, "C111"]))
        .content.decode()
    )
    assert "台账照片.pdf" in page
    file_url = reverse("rectification_file", args=["c", record.public_id])
    assert client_for(world.users["town_officer"]).get(file_url).status_code == 200
    assert client_for(world.users["other_staff"]).get(file_url).status_code == 404
    # The town tracks its communities' rectifications in one table per town.
    summary = client_for(world.users["town_officer"]).get(url).content.decode()
    assert 'data-testid="rectification-towns"' in summary and "Town 11" in summary


def test_a_change_marks_its_round_and_every_later_round_once_never_an_earlier_one(scoring):
    """ADR 17: a veto found in round n stands in every later round, so a change in round n
    marks rounds n and later (not only those carrying from it), never an earlier one."""
    from civicmark.scoring.materialize import mark
    from civicmark.scoring.models import StaleResult

    campaign = scoring["campaign"]
    july = campaign.rounds.get(number=2)
    later = {r.pk for r in campaign.rounds.filter(number__gt=2)}
    assert later, "the November round comes after July"
    ids = [e.pk for e in scoring["enrollments"].values()][:2]
    StaleResult.objects.all().delete()
    mark(july, ids)
    mark(july, [*ids, 10**9])  # marked twice, and an id outside the campaign: no new rows
    found = set(StaleResult.objects.values_list("round_id", "enrollment_id"))
    assert found == {(r, e) for r in {july.pk, *later} for e in ids}
    assert not StaleResult.objects.filter(round__number=1).exists()  # never an earlier round
    StaleResult.objects.all().delete()
    mark(campaign.rounds.get(number=1), [ids[0]])  # the county round: every round after it too
    assert StaleResult.objects.count() == campaign.rounds.count()


def test_the_rectification_list_comes_a_page_at_a_time_within_its_town(
    scoring, world, client_for, monkeypatch
):
    from django.urls import reverse

    from civicmark.assessments import views
    from civicmark.assessments.models import Rectification

    monkeypatch.setattr(views, "RECTIFICATIONS_PAGE", 2)
    s = scoring
    Rectification.objects.bulk_create(
        Rectification(round=s["round"], enrollment=s["enrollments"][code], item=item, reason="x")
        for code in ("C111", "C112", "C121")
        for item in (s["items"]["A1"], s["items"]["B1"])
    )
    client = client_for(world.users["county_officer"])
    url = reverse("rectifications", args=["c"])

    def rows(**query: str) -> int:
        page = client.get(url, query).content.decode()
        return page.count('name="status"')

    assert rows() == 2 and rows(page="2") == 2 and rows(page="3") == 2
    assert rows(town="T11") == 2 and rows(town="T11", page="2") == 2
    assert "town=T11" in client.get(url, {"town": "T11"}).content.decode()
