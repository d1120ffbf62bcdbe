"""Assessor calibration (issue 17 item 2): the round's lead opens and closes an exercise and alone
sees its figures and the round's drift; each panel member scores only his own sheet, with the
real card's validator; a refusal changes nothing and writes no audit event."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from civicmark.assessments.services import score_save
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.quality.calibration import (
    SheetEntry,
    SheetErrors,
    calibration_close,
    calibration_figures,
    calibration_open,
    calibration_sheet_save,
    round_drift,
)
from civicmark.quality.models import CalibrationExercise, CalibrationScore
from civicmark.scoring.models import Score
from tests.factories import person


@pytest.fixture(autouse=True)
def _english():  # noqa: ANN202
    with translation.override("en"):
        yield


@pytest.fixture
def client_for(client_for):  # noqa: ANN001, ANN201
    """Signed in and reading English (the wording these tests assert)."""

    def login(user):  # noqa: ANN001, ANN202
        signed_in = client_for(user)
        signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return signed_in

    return login


@pytest.fixture
def lead(world):  # noqa: ANN001, ANN201
    return world.users["city_admin"]


@pytest.fixture
def exercise(scoring, lead, world):  # noqa: ANN001, ANN201
    return calibration_open(
        actor=lead,
        round_=scoring["round"],
        items=list(scoring["standard"].items.all()),
        community=world.d["C111"],
    )


def _state() -> tuple[int, int, int, list[tuple[str, str]]]:
    return (
        CalibrationExercise.objects.count(),
        CalibrationScore.objects.count(),
        AuditEvent.objects.count(),
        sorted((str(e.closed_at), str(e.public_id)) for e in CalibrationExercise.objects.all()),
    )


def _fill(exercise, scoring, who, points):  # noqa: ANN001, ANN201
    """Assessor `who` gives each item its maximum less `points[code]`."""
    entries = []
    for code, item in scoring["items"].items():
        lost = Decimal(str(points.get(code, 0)))
        entries.append(SheetEntry(item, item.points - lost, "扣分" if lost else ""))
    return calibration_sheet_save(
        actor=scoring["assessors"][who], exercise=exercise, entries=entries
    )


# --- the service ------------------------------------------------------------------------------


def test_it_opens_an_exercise_for_the_rounds_panel_with_an_audit_event(exercise, scoring):
    assert set(exercise.members.all()) == set(scoring["assessors"])
    assert exercise.items.count() == 4
    event = AuditEvent.objects.get(action="calibration.opened")
    assert event.object_ref == str(exercise.public_id)
    assert event.after["community"] == "C111"


@pytest.mark.parametrize(
    "who", ["county_officer", "town_officer", "community_staff", "assessor", "viewer", "nobody"]
)
def test_only_the_lead_opens_an_exercise(scoring, world, who):
    before = _state()
    with pytest.raises(NotAllowed):
        calibration_open(
            actor=world.users[who],
            round_=scoring["round"],
            items=list(scoring["standard"].items.all()),
            evidence="录像与台账",
        )
    assert _state() == before


def test_a_panel_member_does_not_open_one(scoring):
    before = _state()
    with pytest.raises(NotAllowed):
        calibration_open(
            actor=scoring["assessors"][0],
            round_=scoring["round"],
            items=list(scoring["standard"].items.all()),
            evidence="录像",
        )
    assert _state() == before


def test_it_refuses_an_exercise_without_a_reference_or_items(scoring, lead):
    before = _state()
    with pytest.raises(ApplicationError, match="reference community or describe"):
        calibration_open(
            actor=lead, round_=scoring["round"], items=list(scoring["standard"].items.all())
        )
    with pytest.raises(ApplicationError, match="Choose items"):
        calibration_open(actor=lead, round_=scoring["round"], items=[], evidence="录像")
    assert _state() == before


def test_it_refuses_a_reference_community_outside_the_campaign(scoring, lead, world):
    from tests.factories import division

    elsewhere = division("X9", "Elsewhere", "community", world.d["T21"])
    scoring["campaign"].enrollments.filter(community=elsewhere).delete()
    before = _state()
    with pytest.raises(ApplicationError, match="one of the campaign's"):
        calibration_open(
            actor=lead,
            round_=scoring["round"],
            items=list(scoring["standard"].items.all()),
            community=elsewhere,
        )
    assert _state() == before


def test_a_member_saves_his_own_sheet_and_the_change_is_audited(exercise, scoring):
    _fill(exercise, scoring, 0, {"A1": 2})
    mine = CalibrationScore.objects.filter(exercise=exercise, assessor=scoring["assessors"][0])
    assert {s.item.code: s.points for s in mine} == {
        "A1": Decimal(28),
        "A2": Decimal(30),
        "B1": Decimal(20),
        "B2": Decimal(20),
    }
    assert not Score.objects.exists()  # never the round's real scores
    event = AuditEvent.objects.get(action="calibration.scored")
    assert event.after["A1"] == "28.0"
    _fill(exercise, scoring, 0, {"A1": 2})  # the same again: nothing changed, no event
    assert AuditEvent.objects.filter(action="calibration.scored").count() == 1


@pytest.mark.parametrize("who", ["city_admin", "county_officer", "assessor", "nobody"])
def test_nobody_off_the_panel_scores_a_sheet(exercise, scoring, world, who):
    before = _state()
    with pytest.raises(NotAllowed):
        calibration_sheet_save(
            actor=world.users[who],
            exercise=exercise,
            entries=[SheetEntry(scoring["items"]["A1"], Decimal(30))],
        )
    assert _state() == before


def test_a_sheet_is_checked_by_the_cards_validator_all_or_nothing(exercise, scoring):
    before = _state()
    with pytest.raises(SheetErrors) as refused:
        calibration_sheet_save(
            actor=scoring["assessors"][1],
            exercise=exercise,
            entries=[
                SheetEntry(scoring["items"]["A1"], Decimal(30)),  # fine on its own
                SheetEntry(scoring["items"]["A2"], Decimal(31)),  # above the maximum
                SheetEntry(scoring["items"]["B1"], Decimal(18)),  # a deduction without a reason
            ],
        )
    errors = refused.value.errors
    assert "go from 0 to 30" in errors[scoring["items"]["A2"].pk].message
    assert errors[scoring["items"]["B1"].pk].field == "reason"
    assert _state() == before


def test_a_closed_exercise_takes_no_sheet_and_closes_once(exercise, scoring, lead):
    calibration_close(actor=lead, exercise=exercise)
    assert AuditEvent.objects.filter(action="calibration.closed").count() == 1
    before = _state()
    with pytest.raises(NotAllowed, match="closed"):
        _fill(exercise, scoring, 0, {})
    with pytest.raises(ApplicationError, match="already closed"):
        calibration_close(actor=lead, exercise=exercise)
    assert _state() == before


def test_a_member_does_not_close_it(exercise, scoring):
    before = _state()
    with pytest.raises(NotAllowed):
        calibration_close(actor=scoring["assessors"][0], exercise=exercise)
    assert _state() == before


# --- the figures ------------------------------------------------------------------------------


def _panel_of_five(scoring, world):  # noqa: ANN001, ANN201
    """Five panel members: four agree within half a point an item, fp2 takes 6 off each."""
    for n in (3, 4):
        scoring["assessors"].append(
            person(f"fp{n}", "assessor", world.d["C"], department=world.dept["FP"])
        )


def test_it_names_the_harsh_outlier_and_computes_alpha(scoring, world, lead):
    _panel_of_five(scoring, world)
    exercise = calibration_open(
        actor=lead,
        round_=scoring["round"],
        items=list(scoring["standard"].items.all()),
        evidence="一套录制的台账与现场照片",
    )
    assert exercise.members.count() == 5
    _fill(exercise, scoring, 0, {"A1": 2, "B2": 4})
    _fill(exercise, scoring, 1, {"A1": 2, "B2": 4, "A2": 0.5})
    _fill(exercise, scoring, 3, {"A1": 2.5, "B2": 4})
    _fill(exercise, scoring, 4, {"A1": 2, "B2": 3.5})
    _fill(exercise, scoring, 2, {"A1": 8, "A2": 6, "B1": 6, "B2": 10})
    figures = calibration_figures(exercise)
    assert [u.username for u in figures.outliers] == ["fp2"]
    harsh = next(a for a in figures.assessors if a.assessor.username == "fp2")
    assert harsh.outlier and harsh.signed == Decimal("-6.00") and harsh.scored == 4
    a1 = next(r for r in figures.items if r.item.code == "A1")
    assert a1.median == Decimal("28.00")
    assert figures.complete == 5
    assert figures.alpha is not None and figures.alpha < Decimal("0.5")


def test_the_drift_table_reads_the_rounds_real_scores(scoring):
    """Three assessors score the same items of two communities; fp1 gives 2 points less."""
    s = scoring
    for code in ("C111", "C112"):
        for who, minus in ((0, 0), (1, 2), (2, 0)):
            for item_code in ("A1", "B1"):
                item = s["items"][item_code]
                score_save(
                    actor=s["assessors"][who],
                    round_=s["round"],
                    enrollment=s["enrollments"][code],
                    item=item,
                    points=item.points - minus,
                    reason="扣分" if minus else "",
                )
    rows = {r.assessor.username: r for r in round_drift(s["round"])}
    assert rows["fp1"].mean == Decimal("-2.00") and rows["fp1"].n == 4 and rows["fp1"].few
    assert rows["fp0"].mean == Decimal("1.00")
    assert list(rows) == ["fp1", "fp0", "fp2"]  # the harshest first


# --- the pages --------------------------------------------------------------------------------


def _url(name, scoring, exercise=None):  # noqa: ANN001, ANN201
    args = [scoring["campaign"].slug, scoring["round"].number]
    return reverse(name, args=args + ([exercise.public_id] if exercise else []))


@pytest.mark.parametrize("name", ["calibration_list", "calibration_detail", "round_drift"])
@pytest.mark.parametrize("who", ["county_officer", "viewer", "assessor", "nobody", "member"])
def test_the_leads_pages_are_not_found_for_anyone_else(
    client_for, exercise, scoring, world, name, who
):
    user = scoring["assessors"][0] if who == "member" else world.users[who]
    url = _url(name, scoring, exercise if name == "calibration_detail" else None)
    assert client_for(user).get(url).status_code == 404


def test_the_lead_opens_an_exercise_on_the_page(client_for, scoring, lead, world):
    client = client_for(lead)
    page = client.get(_url("calibration_list", scoring))
    assert page.status_code == 200
    item = scoring["items"]["A1"]
    response = client.post(
        _url("calibration_list", scoring),
        {"community": world.d["C111"].pk, "items": [item.pk], "evidence": ""},
    )
    exercise = CalibrationExercise.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("calibration_detail", scoring, exercise)
    assert list(exercise.items.all()) == [item]


def test_a_refused_exercise_says_why_beside_the_field_and_keeps_what_was_typed(
    client_for, scoring, lead
):
    response = client_for(lead).post(
        _url("calibration_list", scoring), {"community": "", "evidence": "", "items": []}
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Name a reference community or describe the evidence scored." in text
    assert "Tick at least one item for the panel to score." in text
    assert not CalibrationExercise.objects.exists()
    typed = client_for(lead).post(
        _url("calibration_list", scoring), {"evidence": "录像第三卷", "items": ["999999"]}
    )
    assert typed.status_code == 400 and "录像第三卷" in typed.content.decode()


def test_the_lead_reads_the_figures_and_closes(client_for, exercise, scoring, lead):
    _fill(exercise, scoring, 0, {"A1": 2})
    _fill(exercise, scoring, 1, {"A1": 2})
    _fill(exercise, scoring, 2, {"A1": 10, "B1": 10})
    client = client_for(lead)
    page = client.get(_url("calibration_detail", scoring, exercise))
    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="alpha"' in text and "Krippendorff" in text
    assert 'data-outlier="1"' in text  # fp2 is named
    closed = client.post(_url("calibration_close", scoring, exercise))
    assert closed.status_code == 302
    exercise.refresh_from_db()
    assert not exercise.is_open


def test_a_member_scores_his_sheet_on_the_page(client_for, exercise, scoring):
    member = scoring["assessors"][0]
    client = client_for(member)
    url = _url("calibration_sheet", scoring, exercise)
    page = client.get(url)
    assert page.status_code == 200 and page.content.decode().count('data-testid="sheet-card"') == 4
    a1, b1 = scoring["items"]["A1"], scoring["items"]["B1"]
    response = client.post(url, {f"i{a1.pk}-points": "28", f"i{a1.pk}-reason": "台账不全"})
    assert response.status_code == 302
    assert CalibrationScore.objects.get(assessor=member).points == Decimal(28)
    refused = client.post(
        url, {f"i{a1.pk}-points": "12,55", f"i{b1.pk}-points": "18", f"i{b1.pk}-reason": ""}
    )
    text = refused.content.decode()
    assert refused.status_code == 400
    assert "12,55" in text  # what he typed comes back
    assert CalibrationScore.objects.get(assessor=member).points == Decimal(28)
    # A decimal comma, as a phone writes it, is a point (it was read as 275, above the maximum).
    response = client.post(url, {f"i{a1.pk}-points": "27,5", f"i{a1.pk}-reason": "台账不全"})
    assert response.status_code == 302
    assert CalibrationScore.objects.get(assessor=member).points == Decimal("27.5")
    refused = client.post(url, {f"i{b1.pk}-points": "18", f"i{b1.pk}-reason": ""})
    assert refused.status_code == 400
    assert "B1: say why points were deducted." in refused.content.decode()
    assert CalibrationScore.objects.filter(assessor=member).count() == 1


def test_an_empty_sheet_saves_nothing(client_for, exercise, scoring):
    client = client_for(scoring["assessors"][0])
    before = _state()
    response = client.post(_url("calibration_sheet", scoring, exercise), {})
    assert response.status_code == 302
    assert _state() == before


@pytest.mark.parametrize("who", ["city_admin", "assessor", "nobody"])
def test_the_sheet_is_not_found_off_the_panel(client_for, exercise, scoring, world, who):
    url = _url("calibration_sheet", scoring, exercise)
    a1 = scoring["items"]["A1"]
    before = _state()
    assert client_for(world.users[who]).get(url).status_code == 404
    assert client_for(world.users[who]).post(url, {f"i{a1.pk}-points": "30"}).status_code == 404
    assert _state() == before


def test_the_drift_page_says_when_there_is_nothing_to_compare(client_for, scoring, lead):
    page = client_for(lead).get(_url("round_drift", scoring))
    assert page.status_code == 200
    assert 'data-testid="no-drift"' in page.content.decode()


def test_the_drift_page_carries_the_caveat_for_few_shared_items(client_for, scoring, lead):
    s = scoring
    for who in (0, 1):
        item = s["items"]["A1"]
        score_save(
            actor=s["assessors"][who],
            round_=s["round"],
            enrollment=s["enrollments"]["C111"],
            item=item,
            points=item.points - who,
            reason="扣分" if who else "",
        )
    text = client_for(lead).get(_url("round_drift", s)).content.decode()
    assert text.count('data-testid="drift-row"') == 2
    assert "Only 1 shared item: too few to judge by." in text


# --- the to-do --------------------------------------------------------------------------------


def _keys(user, scoring):  # noqa: ANN001, ANN202
    from datetime import date

    from civicmark.quality.todo import todos_for

    return {
        t.key: t
        for t in todos_for(user=user, campaign=scoring["campaign"], today=date(2026, 7, 15))
    }


def test_a_member_finds_his_unfinished_sheet_in_his_to_do(exercise, scoring):
    member = scoring["assessors"][0]
    todo = _keys(member, scoring)["calibration_sheet"]
    assert todo.count == 1
    assert todo.url == _url("calibration_sheet", scoring, exercise)
    _fill(exercise, scoring, 0, {})
    assert "calibration_sheet" not in _keys(member, scoring)


def test_the_lead_finds_the_open_exercise_and_nobody_else_does(exercise, scoring, world, lead):
    assert _keys(lead, scoring)["calibration_open"].url == _url(
        "calibration_detail", scoring, exercise
    )
    for who in ("county_officer", "assessor", "viewer", "nobody"):
        assert _keys(world.users[who], scoring) == {}
    assert "calibration_open" not in _keys(scoring["assessors"][0], scoring)
    calibration_close(actor=lead, exercise=exercise)
    assert _keys(lead, scoring) == {}


def test_the_home_page_shows_the_member_his_sheet(client_for, exercise, scoring):
    page = client_for(scoring["assessors"][0]).get(reverse("home"))
    assert _url("calibration_sheet", scoring, exercise) in page.content.decode()
