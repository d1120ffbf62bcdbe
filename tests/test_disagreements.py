"""Disagreements (issue 15, item 4; ADR 17): assessors further apart than the round's gap, or one
N/A against a score, are flagged to the round's lead, who settles each before the round can be
finalised; the page, the service and the command line refuse alike."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from civicmark.assessments.services import round_configure, round_finalise, score_save
from civicmark.assessments.settling import settle
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.scoring.disagreements import open_disagreements
from civicmark.scoring.models import Score, Settlement, StaleResult


@pytest.fixture(autouse=True)
def _english():  # noqa: ANN202
    """The services' messages in English (the catalogue translates them later)."""
    from django.utils import translation

    with translation.override("en"):
        yield


def save(s, who, community, code, points, **kw):  # noqa: ANN001, ANN201
    item = s["items"][code]
    if points is not None and "reason" not in kw and Decimal(str(points)) < item.points:
        kw["reason"] = "扣分"
    if points is None:
        kw.setdefault("reason", "不适用")
        kw["not_applicable"] = True
    return score_save(
        actor=s["assessors"][who],
        round_=s["round"],
        enrollment=s["enrollments"][community],
        item=item,
        points=None if points is None else Decimal(str(points)),
        **kw,
    )


def raw(s, who, community, code, points):  # noqa: ANN001, ANN201
    """A score written straight to the table: for item kinds the writer may not take yet."""
    return Score.objects.create(
        round=s["round"],
        enrollment=s["enrollments"][community],
        item=s["items"][code],
        assessor=s["assessors"][who],
        points=None if points is None else Decimal(str(points)),
        not_applicable=points is None,
    )


def flagged(s):  # noqa: ANN001, ANN201
    return [
        (
            d.community.code,
            d.item.code,
            [(v.assessor.username, v.points, v.not_applicable) for v in d.values],
        )
        for d in open_disagreements(s["round"])
    ]


def cover_all(s, world):  # noqa: ANN001, ANN201
    r = s["round"]
    return round_configure(
        actor=world.users["city_admin"],
        round_=r,
        opens_on=r.opens_on,
        closes_on=r.closes_on,
        combine_rule=r.combine_rule,
        rescore=r.rescore,
        lead=None,
        panel=[],
        covers=[s["enrollments"]["C111"]],
        confirm_removal=True,
    )


def test_points_further_apart_than_a_fifth_of_the_maximum_are_flagged(scoring):
    s = scoring
    save(s, 0, "C111", "A1", 30)
    save(s, 1, "C111", "A1", 24)  # 6 apart: a fifth of 30, not more
    save(s, 0, "C112", "A1", 30)
    save(s, 1, "C112", "A1", "23.5")  # 6.5 apart
    save(s, 2, "C112", "A1", 30)
    save(s, 0, "C121", "A1", 10)  # one assessor alone never disagrees
    assert flagged(s) == [
        (
            "C112",
            "A1",
            [
                ("fp0", Decimal("30.0"), False),
                ("fp1", Decimal("23.5"), False),
                ("fp2", Decimal("30.0"), False),
            ],
        )
    ]


def test_one_not_applicable_against_a_score_is_flagged_even_a_zero(scoring):
    s = scoring
    save(s, 0, "C111", "B1", None)
    save(s, 1, "C111", "B1", 0)
    save(s, 0, "C112", "B1", None)
    save(s, 1, "C112", "B1", None)  # both say it does not apply: they agree
    assert flagged(s) == [("C111", "B1", [("fp0", None, True), ("fp1", Decimal("0.0"), False)])]


def test_the_rounds_gap_replaces_the_default(scoring):
    s = scoring
    save(s, 0, "C111", "A1", 30)
    save(s, 1, "C111", "A1", "28.5")
    assert flagged(s) == []
    s["round"].disagreement_gap = Decimal("1")
    s["round"].save(update_fields=["disagreement_gap"])
    assert [f[:2] for f in flagged(s)] == [("C111", "A1")]


def test_all_or_nothing_any_difference_and_penalty_a_fifth_of_the_floor(scoring):
    s = scoring
    from civicmark.standards.models import Item

    Item.objects.filter(pk=s["items"]["A1"].pk).update(kind="all_or_nothing")
    Item.objects.filter(pk=s["items"]["B1"].pk).update(
        kind="penalty", points=Decimal(0), floor=Decimal(-5)
    )
    raw(s, 0, "C111", "A1", 30)
    raw(s, 1, "C111", "A1", 0)
    raw(s, 0, "C111", "B1", -3)
    raw(s, 1, "C111", "B1", -2)  # 1 apart: a fifth of 5, not more
    raw(s, 0, "C112", "B1", "-3.5")
    raw(s, 1, "C112", "B1", -2)
    assert [f[:2] for f in flagged(s)] == [("C111", "A1"), ("C112", "B1")]


def test_finding_them_takes_the_same_few_queries_however_many_there_are(
    scoring, django_assert_max_num_queries
):
    s = scoring
    for code in ("C111", "C112", "C121", "C211"):
        for item in ("A1", "A2", "B1", "B2"):
            save(s, 0, code, item, None)
            save(s, 1, code, item, 0)
    with django_assert_max_num_queries(4):
        assert len(open_disagreements(s["round"])) == 16


def test_a_round_with_open_disagreements_is_not_finalised_and_names_them(scoring, world):
    s = scoring
    for code in ("A1", "A2", "B1", "B2"):
        save(s, 0, "C111", code, s["items"][code].points)
    save(s, 1, "C111", "A2", 20)
    save(s, 2, "C111", "B1", None)
    cover_all(s, world)
    lead = world.users["city_admin"]
    with pytest.raises(ApplicationError) as refused:
        round_finalise(actor=lead, round_=s["round"])
    message = refused.value.message
    assert "Community 111 A2 (fp0: 30.0, fp1: 20.0)" in message
    assert "Community 111 B1 (fp0: 20.0, fp2: " in message
    assert s["round"].finalised_at is None
    settle(
        actor=lead,
        round_=s["round"],
        enrollment=s["enrollments"]["C111"],
        item=s["items"]["A2"],
        points=Decimal(25),
        reason="复核台账",
    )
    with pytest.raises(ApplicationError, match="B1") as refused:
        round_finalise(actor=lead, round_=s["round"])
    assert "A2" not in refused.value.message  # settled
    settle(
        actor=lead,
        round_=s["round"],
        enrollment=s["enrollments"]["C111"],
        item=s["items"]["B1"],
        points=None,
        not_applicable=True,
        reason="辖区无此设施",
    )
    round_finalise(actor=lead, round_=s["round"])
    assert s["round"].finalised_at is not None


def test_settling_is_the_leads_with_a_reason_and_a_value_the_item_allows(scoring, world):
    s = scoring
    save(s, 0, "C111", "A2", 30)
    save(s, 1, "C111", "A2", 20)
    args = {
        "round_": s["round"],
        "enrollment": s["enrollments"]["C111"],
        "item": s["items"]["A2"],
    }
    for who in ("assessor", "county_officer", "community_staff", "viewer"):
        with pytest.raises(NotAllowed):
            settle(actor=world.users[who], points=Decimal(25), reason="x", **args)
    with pytest.raises(NotAllowed):
        settle(actor=s["assessors"][0], points=Decimal(25), reason="x", **args)
    lead = world.users["city_admin"]
    with pytest.raises(ApplicationError, match="reason|why|Say"):
        settle(actor=lead, points=Decimal(25), reason="  ", **args)
    for bad in ("31", "-1", "25.3"):
        with pytest.raises(ApplicationError, match="A2"):
            settle(actor=lead, points=Decimal(bad), reason="x", **args)
    with pytest.raises(ApplicationError):
        settle(actor=lead, points=Decimal(5), not_applicable=True, reason="x", **args)
    assert not Settlement.objects.exists()
    assert not AuditEvent.objects.filter(action="score.settled").exists()
    StaleResult.objects.all().delete()
    found = settle(actor=lead, points=Decimal("25.5"), reason=" 复核 ", **args)
    assert (found.points, found.not_applicable, found.reason) == (Decimal("25.5"), False, "复核")
    event = AuditEvent.objects.get(action="score.settled")
    assert event.after is not None
    assert event.after["points"] == "25.5" and event.after["item"] == "A2"
    assert StaleResult.objects.filter(
        round=s["round"], enrollment=s["enrollments"]["C111"]
    ).exists()
    # Settling again replaces the decision; the record keeps what it was.
    settle(actor=lead, points=Decimal(20), reason="再议", **args)
    assert Settlement.objects.get().points == Decimal(20)
    last = AuditEvent.objects.filter(action="score.settled").order_by("pk").last()
    assert last is not None and last.before is not None
    assert last.before["points"] == "25.5"
    assert open_disagreements(s["round"]) == []


def test_an_item_nobody_scored_or_a_finalised_round_is_not_settled(scoring, world):
    s = scoring
    lead = world.users["city_admin"]
    args = {"round_": s["round"], "enrollment": s["enrollments"]["C111"]}
    with pytest.raises(ApplicationError, match="nothing to settle"):
        settle(actor=lead, item=s["items"]["A1"], points=Decimal(20), reason="x", **args)
    for code in ("A1", "A2", "B1", "B2"):
        save(s, 0, "C111", code, s["items"][code].points)
    cover_all(s, world)
    round_finalise(actor=lead, round_=s["round"])
    with pytest.raises(ApplicationError, match="finalised"):
        settle(actor=lead, item=s["items"]["A1"], points=Decimal(20), reason="x", **args)
    assert not Settlement.objects.exists()


def test_in_a_split_round_the_county_officer_settles_his_own_county_only(scoring, world):
    s = scoring
    round1 = s["campaign"].rounds.get(number=1)
    for community in ("C111", "C211"):
        for who, points in ((0, 30), (1, 10)):
            Score.objects.create(
                round=round1,
                enrollment=s["enrollments"][community],
                item=s["items"]["A1"],
                assessor=s["assessors"][who],
                points=Decimal(points),
            )
    k1 = world.users["county_officer"]
    settle(
        actor=k1,
        round_=round1,
        enrollment=s["enrollments"]["C111"],
        item=s["items"]["A1"],
        points=Decimal(20),
        reason="复核",
    )
    with pytest.raises(NotAllowed):
        settle(
            actor=k1,
            round_=round1,
            enrollment=s["enrollments"]["C211"],
            item=s["items"]["A1"],
            points=Decimal(20),
            reason="复核",
        )
    assert [d.community.code for d in open_disagreements(round1)] == ["C211"]


def test_the_round_page_shows_the_lead_a_settle_form_and_keeps_what_he_typed(
    scoring, world, client_for
):
    s = scoring
    save(s, 0, "C111", "A2", 30)
    save(s, 1, "C111", "A2", 20)
    page = reverse("round_detail", args=["c", 2])
    url = reverse("round_disagreements", args=["c", 2])
    assessor = client_for(s["assessors"][0])
    shown = assessor.get(page)
    assert shown.status_code == 200 and b'data-testid="disagreements"' not in shown.content
    data = {
        "enrollment": s["enrollments"]["C111"].pk,
        "item": s["items"]["A2"].pk,
        "points": "25",
        "reason": "复核",
    }
    assert assessor.post(url, data).status_code == 404
    assert not Settlement.objects.exists()
    lead = client_for(world.users["city_admin"])
    shown = lead.get(page).content.decode()
    assert 'data-testid="settle-form"' in shown and "fp1: 20.0" in shown
    refused = lead.post(url, {**data, "points": "31", "reason": "复核台账"})
    assert refused.status_code == 422
    body = refused.content.decode()
    assert 'value="31"' in body and 'value="复核台账"' in body and "A2" in body
    assert not Settlement.objects.exists()
    done = lead.post(url, data)
    assert done.status_code == 302
    shown = lead.get(page).content.decode()
    assert 'data-testid="settled"' in shown and 'data-testid="settle-form"' not in shown
    assert Settlement.objects.get().points == Decimal(25)


def test_the_command_line_lists_and_settles_with_the_same_checks(scoring, world):
    s = scoring
    save(s, 0, "C111", "A2", 30)
    save(s, 1, "C111", "B1", None)
    save(s, 2, "C111", "B1", 0)
    save(s, 1, "C111", "A2", "20.5")
    out = StringIO()
    call_command("round", "disagreements", "c", "2", stdout=out)
    assert json.loads(out.getvalue()) == [
        {
            "community": "C111",
            "item": "A2",
            "values": [
                {"assessor": "fp0", "points": "30.0", "not_applicable": False},
                {"assessor": "fp1", "points": "20.5", "not_applicable": False},
            ],
        },
        {
            "community": "C111",
            "item": "B1",
            "values": [
                {"assessor": "fp1", "points": None, "not_applicable": True},
                {"assessor": "fp2", "points": "0.0", "not_applicable": False},
            ],
        },
    ]
    base = ["round", "settle", "c", "2", "--community", "C111", "--item", "A2"]
    with pytest.raises(CommandError):  # the service's refusal, in the configured language
        call_command(*base, "--points", "25", "--reason", "x", "--user", "fp0")
    with pytest.raises(CommandError, match="A2"):
        call_command(*base, "--points", "31", "--reason", "x", "--user", "city_admin")
    assert not Settlement.objects.exists()
    call_command(*base, "--points", "25", "--reason", "复核", "--user", "city_admin", stdout=out)
    call_command(
        "round", "settle", "c", "2", "--community", "C111", "--item", "B1",
        "--not-applicable", "--reason", "无此设施", "--user", "city_admin", stdout=out,
    )  # fmt: skip
    assert sorted(Settlement.objects.values_list("item__code", "points", "not_applicable")) == [
        ("A2", Decimal(25), False),
        ("B1", None, True),
    ]
    assert AuditEvent.objects.filter(action="score.settled", via="cli").count() == 2
    out = StringIO()
    call_command("round", "disagreements", "c", "2", stdout=out)
    assert json.loads(out.getvalue()) == []


def test_a_settled_value_is_one_the_item_allows_whatever_its_kind(scoring, world):
    from civicmark.standards.models import Item

    s = scoring
    Item.objects.filter(pk=s["items"]["A1"].pk).update(kind="all_or_nothing")
    Item.objects.filter(pk=s["items"]["B1"].pk).update(
        kind="per_occurrence", per_occurrence=Decimal(3), floor=Decimal(0)
    )
    items = {i.code: i for i in s["standard"].items.all()}
    raw(s, 0, "C111", "A1", 30)
    raw(s, 1, "C111", "A1", 0)
    raw(s, 0, "C111", "B1", 20)
    raw(s, 1, "C111", "B1", 5)
    lead = world.users["city_admin"]

    def settle_at(code: str, points: str) -> None:
        settle(
            actor=lead,
            round_=s["round"],
            enrollment=s["enrollments"]["C111"],
            item=items[code],
            points=Decimal(points),
            reason="复核",
        )

    for code, bad in (("A1", "15"), ("B1", "16"), ("B1", "1")):
        with pytest.raises(ApplicationError, match=code):
            settle_at(code, bad)
    assert not Settlement.objects.exists()
    settle_at("A1", "0")
    settle_at("B1", "17")  # one occurrence
    settle_at("B1", "0")  # the floor: seven occurrences would give -1
    assert sorted(Settlement.objects.values_list("item__code", "points")) == [
        ("A1", Decimal(0)),
        ("B1", Decimal(0)),
    ]


def test_a_county_part_is_not_finalised_while_its_own_communities_disagree(scoring, world):
    s = scoring
    round1 = s["campaign"].rounds.get(number=1)
    for who, points in ((0, 30), (1, 10)):
        Score.objects.create(
            round=round1,
            enrollment=s["enrollments"]["C111"],
            item=s["items"]["A1"],
            assessor=s["assessors"][who],
            points=Decimal(points),
        )
    with pytest.raises(ApplicationError) as refused:
        round_finalise(actor=world.users["county_officer"], round_=round1)
    assert "Community 111 A1 (fp0: 30.0, fp1: 10.0)" in refused.value.message
    # The other county's part is not held up by it (it is refused for its own unscored items).
    with pytest.raises(ApplicationError) as refused:
        round_finalise(actor=world.users["other_county_officer"], round_=round1)
    assert "A1" not in refused.value.message and "Community 211" in refused.value.message


def test_a_refused_settlement_keeps_what_was_typed_beside_each_box(scoring, world, client_for):
    """The settle form is a Django form (issue 16's leftovers, item 2): a malformed number is
    refused beside the points box, an empty reason beside the reason box, with the typed values
    shown back (422) and nothing written."""
    s = scoring
    save(s, 0, "C111", "A2", 30)
    save(s, 1, "C111", "A2", 20)
    url = reverse("round_disagreements", args=["c", 2])
    lead = client_for(world.users["city_admin"])
    base = {"enrollment": s["enrollments"]["C111"].pk, "item": s["items"]["A2"].pk}
    events = AuditEvent.objects.count()
    for typed, box in (
        ({"points": "2,5x", "reason": "复核"}, "points"),
        ({"points": "NaN", "reason": "复核"}, "points"),
        ({"points": "25", "reason": ""}, "reason"),
        ({"points": "25", "reason": "长" * 2001}, "reason"),
    ):
        refused = lead.post(url, {**base, **typed})
        assert refused.status_code == 422, typed
        body = refused.content.decode()
        assert f'name="{box}" ' in body
        field = body[body.index(f'name="{box}"') :]
        assert 'data-testid="settle-error"' in field[: field.index("</div>") + 200], typed
        if typed["points"]:
            assert f'value="{typed["points"]}"' in body
    assert not Settlement.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("unticked", ["0", "false", "off", "no", ""])
def test_a_not_applicable_box_posted_unticked_is_not_ticked(scoring, world, client_for, unticked):
    """A checkbox is ticked by its own value only (issue 16's leftovers, item 3): "0" once
    settled an item as not applicable."""
    s = scoring
    save(s, 0, "C111", "A2", 30)
    save(s, 1, "C111", "A2", 20)
    lead = client_for(world.users["city_admin"])
    data = {
        "enrollment": s["enrollments"]["C111"].pk,
        "item": s["items"]["A2"].pk,
        "points": "25",
        "not_applicable": unticked,
        "reason": "复核",
    }
    assert lead.post(reverse("round_disagreements", args=["c", 2]), data).status_code == 302
    settled = Settlement.objects.get()
    assert not settled.not_applicable and settled.points == Decimal(25)


def test_the_round_page_lists_the_first_disagreements_and_says_how_many(
    scoring, world, client_for, monkeypatch
):
    # A province's round may hold thousands: the page lists the first ones, by community, and
    # says how many there are (ADR 11); the service still sees every one.
    from civicmark.assessments import views

    s = scoring
    for community in ("C111", "C112", "C121"):
        save(s, 0, community, "A2", 30)
        save(s, 1, community, "A2", 20)
    monkeypatch.setattr(views, "DISAGREEMENTS_SHOWN", 2)
    shown = client_for(world.users["city_admin"]).get(reverse("round_detail", args=["c", 2]))
    section = shown.context["disagreements"]
    assert section["total"] == 3
    assert [r["d"].community.code for r in section["rows"]] == ["C111", "C112"]
    assert 'data-testid="disagreements-shown"' in shown.content.decode()
    assert len(open_disagreements(s["round"])) == 3
