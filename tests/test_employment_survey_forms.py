"""Employment and survey forms (issue 16, items 3 and 5): each is a Django form that, refused,
shows back every typed value with the error beside its field and writes nothing; a malformed id
or an unknown action is a message, never a 500. The fair's resident, the ledger's household and
the community to draw are typed by name (or code), within what the person may see."""

# ruff: noqa: F811  (pytest fixtures imported from their modules, then named as arguments)
from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.urls import reverse

from civicmark.core.models import AuditEvent
from civicmark.employment import services as svc
from civicmark.employment.models import FairAttendance, Resident
from civicmark.surveys import services as surveys
from civicmark.surveys.models import Draw, Response
from tests.test_employment import make_id, station  # noqa: F401  (the fixture)
from tests.test_employment_refusals import NAME, elsewhere  # noqa: F401  (the fixture)
from tests.test_surveys import survey  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def english(client_for, settings):  # noqa: ANN001, ANN201
    """A signed-in client reading English, whatever the catalogue translates."""

    def login(user):  # noqa: ANN001, ANN202
        signed_in = client_for(user)
        signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return signed_in

    return login


def _fingerprint() -> tuple[int, ...]:
    counts = tuple(
        m.objects.count()
        for m in apps.get_models()
        if m._meta.app_label in ("employment", "surveys", "scoring")
    )
    return (*counts, AuditEvent.objects.count())


def _refused_in_place(response, *typed: str) -> str:  # noqa: ANN001
    assert response.status_code == 200, "refused in place, not redirected nor a 500"
    html = response.content.decode()
    missing = [t for t in typed if t not in html]
    assert not missing, f"typed values not shown back: {missing}"
    return html


def _error_beside(response, form: str, field: str) -> list[str]:  # noqa: ANN001
    errors = response.context[form].errors.get(field)
    assert errors, f"no error beside {form}.{field}"
    return list(errors)


# --- The ledger -------------------------------------------------------------------------------


def test_it_keeps_a_refused_household_address(world, station, english):  # noqa: F811
    before = _fingerprint()
    page = english(world.users["community_staff"]).post(
        reverse("employment_ledger", args=["C111"]),
        {"action": "household", "address": "幸福小区3栋2单元501"},  # already in the ledger
    )
    html = _refused_in_place(page, 'value="幸福小区3栋2单元501"')
    assert "already in the ledger" in html
    assert _fingerprint() == before


def test_it_keeps_every_typed_value_of_a_refused_resident(world, station, english):  # noqa: F811
    before = _fingerprint()
    page = english(world.users["community_staff"]).post(
        reverse("employment_ledger", args=["C111"]),
        {
            "action": "resident",
            "household": "幸福小区9栋",  # no such address in this ledger
            "name": "赵小红",
            "id_number": "110101199003078515",
            "phone": "13800001111",
        },
    )
    _refused_in_place(
        page, 'value="幸福小区9栋"', 'value="赵小红"', 'value="110101199003078515"', "13800001111"
    )
    assert "Nothing you can see" in _error_beside(page, "resident_form", "household")[0]
    assert _fingerprint() == before


def test_it_takes_the_household_by_its_address(world, station, english):  # noqa: F811
    page = english(world.users["community_staff"]).post(
        reverse("employment_ledger", args=["C111"]),
        {
            "action": "resident",
            "household": "幸福小区3栋2单元501",
            "name": "王小明",
            "id_number": make_id("20000101", "153"),
        },
    )
    assert page.status_code == 302
    assert Resident.objects.get(name="王小明").household == station["home"]


def test_it_answers_an_unknown_action_with_a_message(world, station, english):  # noqa: F811
    client = english(world.users["community_staff"])
    before = _fingerprint()
    for url in (
        reverse("employment_ledger", args=["C111"]),
        reverse("employment_resident", args=[station["father"].public_id]),
        reverse("employment_jobs", args=["C111"]),
    ):
        page = client.post(url, {"action": "drop\x00table", "address": "x"})
        assert page.status_code == 200 and "Unknown action." in page.content.decode(), url
    assert _fingerprint() == before


# --- A resident's page ------------------------------------------------------------------------


def test_it_keeps_a_refused_status_with_the_error_beside_the_date(world, station, english):  # noqa: F811
    before = _fingerprint()
    page = english(world.users["community_staff"]).post(
        reverse("employment_resident", args=[station["father"].public_id]),
        {
            "action": "status",
            "status": "employed",
            "start": "2026-02-30",  # no such day
            "registration_no": "DJ-2026-17",
            "employer": "幸福物业服务有限公司",
        },
    )
    _refused_in_place(
        page, 'value="2026-02-30"', 'value="DJ-2026-17"', 'value="幸福物业服务有限公司"'
    )
    assert 'value="employed" selected' in page.content.decode()
    assert page.context["forms"]["status"].errors["start"]
    assert _fingerprint() == before


def test_it_keeps_a_refused_service_note(world, station, english):  # noqa: F811
    before = _fingerprint()
    page = english(world.users["community_staff"]).post(
        reverse("employment_resident", args=[station["father"].public_id]),
        {"action": "service", "kind": "training", "on": "2026-13-01", "note": "电工培训报名"},
    )
    _refused_in_place(page, 'value="2026-13-01"', 'value="电工培训报名"')
    assert page.context["forms"]["service"].errors["on"]
    assert _fingerprint() == before


@pytest.mark.parametrize(
    "data",
    [
        {"action": "refer", "vacancy": "not-a-uuid"},
        {"action": "move", "referral": "0" * 40, "to": "hired"},
        {"action": "follow_up", "follow_up": "²", "still_employed": "yes"},
        {"action": "consent", "given": "perhaps"},
    ],
    ids=["refer", "move", "follow-up", "consent"],
)
def test_it_refuses_a_malformed_id_or_choice_with_a_message(world, station, english, data):  # noqa: F811
    before = _fingerprint()
    page = english(world.users["community_staff"]).post(
        reverse("employment_resident", args=[station["father"].public_id]), data
    )
    assert page.status_code == 200
    assert page.context["forms"][data["action"]].errors
    assert _fingerprint() == before


# --- A job fair: the resident by name -----------------------------------------------------------


@pytest.fixture
def fair(world, station):  # noqa: ANN001, ANN201, F811
    return svc.fair_create(
        actor=station["staff"],
        division=world.d["C111"],
        title="春风行动",
        held_on=dt.date(2026, 3, 1),
    )


def test_it_checks_a_resident_in_by_name(world, station, fair, english):  # noqa: F811
    page = english(world.users["community_staff"]).post(
        reverse("employment_fair", args=[fair.public_id]),
        {"action": "check_in", "resident": "李秀英"},
    )
    assert page.status_code == 302
    assert FairAttendance.objects.get().resident == station["mother"]


def test_it_refuses_a_name_two_residents_share_listing_them(world, station, fair, english):  # noqa: F811
    svc.resident_add(
        actor=station["staff"],
        household=station["home"],
        name="李秀英",
        id_number=make_id("19920304", "162"),
    )
    before = _fingerprint()
    page = english(world.users["community_staff"]).post(
        reverse("employment_fair", args=[fair.public_id]),
        {"action": "check_in", "resident": "李秀英"},
    )
    _refused_in_place(page, 'value="李秀英"')
    error = _error_beside(page, "check_in_form", "resident")[0]
    assert "names several" in error and error.count("李秀英 (") == 2
    assert _fingerprint() == before


def test_a_resident_out_of_scope_is_not_found_by_name(world, station, fair, elsewhere, english):  # noqa: F811
    before = _fingerprint()
    page = english(world.users["community_staff"]).post(
        reverse("employment_fair", args=[fair.public_id]), {"action": "check_in", "resident": NAME}
    )
    _refused_in_place(page, f'value="{NAME}"')
    assert "Nothing you can see" in _error_beside(page, "check_in_form", "resident")[0]
    assert _fingerprint() == before


def test_it_keeps_a_refused_number_of_posts(world, station, fair, english):  # noqa: F811
    before = _fingerprint()
    page = english(world.users["community_staff"]).post(
        reverse("employment_fair", args=[fair.public_id]),
        {"action": "employer", "employer": str(station["employer"].public_id), "posts": "三"},
    )
    _refused_in_place(page, 'value="三"')
    assert _error_beside(page, "employer_form", "posts")
    assert _fingerprint() == before


def test_the_person_search_offers_only_residents_the_person_keeps(
    world, station, elsewhere, english
):  # noqa: F811
    url = reverse("employment_names")
    mine = english(world.users["community_staff"]).get(url, {"kind": "resident", "q": "李"})
    assert "李秀英" in mine.content.decode()
    assert (
        NAME
        not in english(world.users["community_staff"])
        .get(url, {"kind": "resident", "q": NAME[0]})
        .content.decode()
    )
    theirs = english(world.users["other_staff"]).get(url, {"kind": "resident", "q": NAME})
    assert NAME in theirs.content.decode()
    houses = english(world.users["community_staff"]).get(url, {"kind": "household", "q": "幸福"})
    assert "幸福小区3栋2单元501" in houses.content.decode()
    hostile = english(world.users["community_staff"]).get(url, {"q": "李\x00", "within": "\x00"})
    assert hostile.status_code == 200 and "<option" not in hostile.content.decode()


# --- Surveys ------------------------------------------------------------------------------------


def test_it_draws_a_community_typed_by_name(world, survey, english):  # noqa: F811
    page = english(world.users["city_admin"]).post(
        reverse("survey_detail", args=[survey["survey"].public_id]),
        {"community": world.d["C111"].name},
    )
    assert page.status_code == 302
    assert Draw.objects.get().community == world.d["C111"]


def test_a_community_not_in_the_campaign_is_not_found_and_kept(world, survey, english):  # noqa: F811
    before = _fingerprint()
    page = english(world.users["city_admin"]).post(
        reverse("survey_detail", args=[survey["survey"].public_id]), {"community": "Nowhere Lane"}
    )
    _refused_in_place(page, 'value="Nowhere Lane"')
    assert "Nothing you can see" in _error_beside(page, "draw_form", "community")[0]
    assert _fingerprint() == before


def _drawn(world, survey):  # noqa: ANN001, ANN202, F811
    draw = surveys.draw_households(
        actor=world.users["city_admin"], survey=survey["survey"], community=world.d["C111"]
    )
    return draw, draw.households.filter(in_sample=True).order_by("position").first()


def test_it_refuses_a_substitution_without_a_known_reason(world, survey, english):  # noqa: F811
    draw, first = _drawn(world, survey)
    client = english(world.users["city_admin"])
    url = reverse("survey_substitutions", args=[survey["survey"].public_id, "C111"])
    before = _fingerprint()
    page = client.post(url, {"drawn": str(first.pk), "reason": "bored"})
    assert page.status_code == 200 and page.context["form"].errors["reason"]
    assert "Give the reason for the substitution." in page.content.decode()
    for drawn in ("abc", "1E+30", "\x00", "9" * 30):
        page = client.post(url, {"drawn": drawn, "reason": "vacant"})
        assert page.status_code == 200 and page.context["form"].errors, drawn
    assert _fingerprint() == before


def test_it_keeps_a_refused_entry(world, survey, english):  # noqa: F811
    draw, first = _drawn(world, survey)
    before = _fingerprint()
    page = english(world.users["city_admin"]).post(
        reverse("survey_enter", args=[survey["survey"].public_id]),
        {"code": first.code.lower(), "mode": "tablet", "collector": "", "Q1": "4", "Q2": "5"},
    )
    html = _refused_in_place(page, f'value="{first.code.lower()}"')
    assert 'id="e-Q1-4" value="4" required checked' in html
    assert 'id="e-Q2-5" value="5" required checked' in html
    assert _error_beside(page, "form", "collector") == ["Say who collected the answers."]
    assert _fingerprint() == before


def test_settling_an_undrawn_paper_form_is_a_message(world, survey, english):  # noqa: F811
    _drawn(world, survey)
    before = _fingerprint()
    page = english(world.users["city_admin"]).post(
        reverse("survey_enter", args=[survey["survey"].public_id]),
        {"code": "zzzz", "mode": "paper", "collector": "assessment_team", "settle": "yes"},
    )
    assert page.status_code == 200 and "ZZZZ" in page.content.decode()
    assert _fingerprint() == before


def test_it_keeps_refused_points_beside_their_item(world, survey, scoring, english):  # noqa: F811
    _drawn(world, survey)
    before = _fingerprint()
    page = english(scoring["assessors"][0]).post(
        reverse("survey_results", args=[survey["survey"].public_id, "C111"]),
        {"item": "B2", "points": "12.25", "reason": "入户核实后调整", "version": ""},
    )
    _refused_in_place(page, 'value="12.25"', 'value="入户核实后调整"')
    assert _error_beside(page, "form", "points")
    assert _fingerprint() == before
    page = english(scoring["assessors"][0]).post(
        reverse("survey_results", args=[survey["survey"].public_id, "C111"]),
        {"item": "Z9", "points": "12", "version": "x"},
    )
    assert page.status_code == 200 and "Choose an item." in page.content.decode()
    assert page.context["form"].errors["version"]
    page = english(scoring["assessors"][0]).post(
        reverse("survey_results", args=[survey["survey"].public_id, "C111"]),
        {"item": "B2\x00", "points": "12"},
    )
    assert page.status_code == 200 and page.context["form"].errors["item"]
    assert _fingerprint() == before


def test_the_answer_page_reads_damaged_hidden_fields_as_absent(world, survey, client):  # noqa: F811
    _, first = _drawn(world, survey)
    page = client.post(
        reverse("survey_answer", args=[first.code]),
        {"opened": "\x00" * 500, "client_id": "not-a-uuid", "Q1": "4", "Q2": "4"},
    )
    assert page.status_code == 200
    assert Response.objects.count() == 1  # the answers stored once, under no damaged id
