"""Hostile input (issue 14, item 8): each value that answered HTTP 500, or bent what was stored,
is refused with a sentence, and the refusal changes nothing."""

from __future__ import annotations

import io
import time
import zipfile
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from civicmark.core import names, parsing
from civicmark.core.errors import ImportRefused
from civicmark.core.models import AuditEvent
from civicmark.core.tabular import read_table, read_workbook

pytestmark = pytest.mark.django_db


# Signing in writes a session and an access log: not what a form changes.
SIGN_IN_APPS = {"sessions", "axes", "admin", "otp_totp", "otp_static", "django_otp"}


def snapshot() -> dict[str, object]:
    """Every table's row count and the last audit event: a refusal must leave them all alone."""
    counts: dict[str, object] = {
        m._meta.label: m.objects.count()
        for m in apps.get_models()
        if m._meta.managed and m._meta.app_label not in SIGN_IN_APPS
    }
    counts["last event"] = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    return counts


# --- The one strict reader ------------------------------------------------------------------

HOSTILE_NUMBERS = [
    "NaN",
    "sNaN",
    "-NaN",
    "Infinity",
    "-inf",
    "1E+30",
    "1E+200000",
    "1e-200000",
    "100000000000000000000000",
    "²",
    "１２",
    "٣",
    "\u202e12",
    "1_000",
    "0x10",
    "--1",
    "",
]


@pytest.mark.parametrize("text", HOSTILE_NUMBERS)
def test_it_reads_no_hostile_number_as_a_number(text):
    for read in (
        lambda t: parsing.parse_int(t),
        lambda t: parsing.parse_decimal(t, places=1, max_digits=5),
    ):
        try:
            value = read(text)
        except parsing.ParseError as exc:
            assert exc.message  # a sentence, never a bare exception
        else:
            assert value is None and text == ""


def test_it_reads_what_clerks_type():
    assert parsing.parse_int("1,234") == 1234
    assert parsing.parse_int("120.0") == 120  # Excel keeps every number as a float
    assert parsing.parse_decimal(" 2.55 ", places=1) == Decimal("2.6")
    assert parsing.parse_decimal("1e3", places=2) == Decimal("1000.00")
    with pytest.raises(parsing.ParseError, match="29.95"):
        parsing.parse_decimal("29.95", places=1, exact=True)
    with pytest.raises(parsing.ParseError):
        parsing.parse_decimal("10000", places=1, max_digits=5)  # 9999.9 is the column's most


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(max_size=40))
def test_it_answers_any_text_with_a_bounded_value_or_a_sentence(text):
    try:
        value = parsing.parse_decimal(text, places=2, max_digits=10)
    except parsing.ParseError:
        pass
    else:
        assert value is None or (value.is_finite() and 0 <= value < 10**8)
    try:
        number = parsing.parse_int(text)
    except parsing.ParseError:
        pass
    else:
        assert number is None or 0 <= number <= parsing.INT_MAX
    try:
        day = parsing.parse_date(text)
    except parsing.ParseError:
        pass
    else:
        assert day is None or parsing.DATE_MIN <= day <= parsing.DATE_MAX


@pytest.mark.parametrize("text", ["0001-01-01", "0000-00-00", "9999-12-31", "2026-02-30", "0"])
def test_it_refuses_dates_outside_the_calendar_or_the_range(text):
    with pytest.raises(parsing.ParseError):
        parsing.parse_date(text)


def test_it_takes_ids_only_of_ascii_digits_that_fit_the_database():
    assert parsing.parse_ids(["12", "²", "100000000000000000000000", "-1", "0", " 7"]) == [12, 7]


# --- Names wherever they go -----------------------------------------------------------------


def test_it_makes_any_name_a_sheet_title_openpyxl_accepts():
    book = Workbook()
    for name in ["文昌社区(东/西片)", "a\\b?c*d[e]f:g", "'x'", "\u202e" + "长" * 40, "", "\x00"]:
        title = names.sheet_title(name)
        book.create_sheet(title)  # openpyxl raises on a forbidden character
        assert 0 < len(title) <= 31


def test_it_makes_any_name_a_safe_download_header():
    header = names.content_disposition("../../etc/pass\r\nX-Evil: 1\u202etxt.exe", "pdf")
    assert "\r" not in header and "\n" not in header and "\u202e" not in header
    assert "/" not in header.split("filename*=")[0] and ".." not in header
    assert header.endswith(".pdf")


# --- Forms and pages ------------------------------------------------------------------------


def _score_page(items, points):  # noqa: ANN001, ANN202
    pk = items["A1"].pk
    return {f"i{pk}-points": points, f"i{pk}-reason": "x", f"i{pk}-version": ""}


@pytest.mark.parametrize("points", ["NaN", "sNaN", "1E+200000", "²"])
def test_it_refuses_hostile_points_on_the_score_page(scoring, client_for, points):
    s = scoring
    before = snapshot()
    client = client_for(s["assessors"][0])
    url = reverse("score_community", args=["c", 2, "C111"])
    response = client.post(url, _score_page(s["items"], points))
    assert response.status_code == 200  # the page again, with the row's error
    assert snapshot() == before


@pytest.mark.parametrize("version", ["²", "100000000000000000000000"])
def test_it_refuses_a_hostile_version_on_the_score_page(scoring, client_for, version):
    s = scoring
    before = snapshot()
    client = client_for(s["assessors"][0])
    data = _score_page(s["items"], "30")
    data[f"i{s['items']['A1'].pk}-version"] = version
    response = client.post(reverse("score_community", args=["c", 2, "C111"]), data)
    assert response.status_code in (200, 302)
    assert response.status_code == 302 or snapshot() == before


@pytest.mark.parametrize("points", ["NaN", "sNaN", "Infinity", "1E+200000"])
def test_it_refuses_hostile_points_in_the_self_assessment(scoring, world, client_for, points):
    s = scoring
    before = snapshot()
    client = client_for(world.users["community_staff"])
    url = reverse("self_assessment", args=["c"]) + "?community=C111"
    response = client.post(url, {"community": "C111", f"i{s['items']['A1'].pk}-points": points})
    assert response.status_code == 422
    assert snapshot() == before


@pytest.mark.parametrize("field", ["enrollment", "round"])
@pytest.mark.parametrize("value", ["²", "100000000000000000000000", "NaN"])
def test_it_answers_hostile_ids_on_the_acceptance_page(scoring, world, client_for, field, value):
    before = snapshot()
    client = client_for(world.users["city_admin"])
    action = "move" if field == "enrollment" else "finalise"
    response = client.post(
        reverse("communities", args=["c"]), {"action": action, field: value, "to": "submitted"}
    )
    # Refused beside the field (422) since the page reads a Django form.
    assert response.status_code == 422
    assert snapshot() == before


@pytest.mark.parametrize("households", ["100000000000000000000000", "NaN", "²", "-1"])
def test_it_refuses_hostile_counts_on_the_profile_form(world, client_for, households):
    before = snapshot()
    client = client_for(world.users["community_staff"])
    response = client.post(reverse("profile_edit", args=["C111"]), {"households": households})
    assert response.status_code == 200
    assert snapshot() == before


def test_it_refuses_a_year_outside_the_range_and_dates_before_1900(world, client_for):
    from civicmark.campaigns.models import Campaign

    client = client_for(world.users["city_admin"])
    response = client.post(reverse("campaign_list"), {"name": "x", "slug": "x", "year": "0"})
    assert response.status_code == 200 and not Campaign.objects.exists()


# --- The employment station -----------------------------------------------------------------


@pytest.fixture
def station(world):  # noqa: ANN001, ANN201
    from civicmark.employment import services as svc
    from tests.test_employment import make_id, make_uscc

    staff = world.users["community_staff"]
    home = svc.household_add(actor=staff, community=world.d["C111"], address="幸福小区3栋2单元501")
    father = svc.resident_add(
        actor=staff, household=home, name="王建国", id_number=make_id("19740310", "131")
    )
    employer = svc.employer_verify(
        actor=staff, name="幸福物业服务有限公司", credit_code=make_uscc(), division=world.d["C111"]
    )
    return {"father": father, "employer": employer}


@pytest.mark.parametrize("distance", ["1E+30", "NaN", "10000", "Infinity"])
def test_it_refuses_a_job_post_farther_than_the_column_holds(station, world, client_for, distance):
    from civicmark.employment.models import Vacancy

    client = client_for(world.users["community_staff"])
    before = snapshot()
    url = reverse("employment_jobs", args=["C111"])
    post = {
        "action": "file",
        "employer": station["employer"].public_id,
        "title": "保洁员",
        "category": "物业",
        "hours": "full",
        "wage_min": "2800",
        "wage_max": "3400",
        "distance_km": distance,
    }
    response = client.post(url, post)
    assert response.status_code in (200, 302)
    assert snapshot() == before and not Vacancy.objects.exists()
    # Every employment page still answers, for everyone.
    assert client.get(url).status_code == 200
    assert client.get(reverse("employment_ledger", args=["C111"])).status_code == 200


@pytest.mark.parametrize("start", ["0001-01-01", "0000-00-00", "9999-12-31"])
def test_it_refuses_a_status_dated_outside_1900_to_2100(station, world, client_for, start):
    client = client_for(world.users["community_staff"])
    before = snapshot()
    url = reverse("employment_resident", args=[station["father"].public_id])
    response = client.post(url, {"action": "status", "status": "employed", "start": start})
    assert response.status_code == 200
    assert snapshot() == before


def test_it_shows_this_years_coverage_for_year_0(station, world, client_for):
    client = client_for(world.users["community_staff"])
    for year in ("0", "²", "99999999999999999999"):
        response = client.get(reverse("employment_coverage", args=["C111"]), {"year": year})
        assert response.status_code == 200


@pytest.mark.parametrize("value", ["²", "100000000000000000000000"])
def test_it_answers_hostile_ids_in_the_ledger_forms(station, world, client_for, value):
    client = client_for(world.users["community_staff"])
    before = snapshot()
    url = reverse("employment_resident", args=[station["father"].public_id])
    response = client.post(url, {"action": "follow_up", "follow_up": value})
    assert response.status_code == 200
    assert snapshot() == before


# --- Names in exports and PDFs --------------------------------------------------------------


def test_it_exports_the_score_sheet_of_a_community_whose_name_holds_a_slash(scoring, world):
    from civicmark.results import exports

    community = world.d["C111"]
    community.name = "文昌社区(东/西片)"
    community.save(update_fields=["name"])
    enrollment = type(scoring["enrollments"]["C111"]).objects.get(community=community)
    payload = exports.community_sheet(scoring["round"], enrollment, chinese=True)
    assert load_workbook(io.BytesIO(payload)).sheetnames[0] == "文昌社区(东_西片)"


# --- Imports --------------------------------------------------------------------------------


def _csv(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def test_it_refuses_a_name_longer_than_its_field_naming_the_limit(world):
    from civicmark.accounts.places.imports import divisions_import

    before = snapshot()
    data = _csv("code,name,level,parent_code", f"C111,{'长' * 5000},community,T11")
    with pytest.raises(ImportRefused) as refused:
        divisions_import(actor=world.users["city_admin"], data=data, filename="d.csv")
    [error] = refused.value.errors
    assert (error.row, error.column) == (2, "name") and "100" in error.message
    assert snapshot() == before


@pytest.mark.parametrize("households", ["100000000000000000000000", "NaN", "²"])
def test_it_refuses_hostile_counts_in_the_division_import(world, households):
    from civicmark.accounts.places.imports import divisions_import

    before = snapshot()
    data = _csv("code,name,level,parent_code,households", f"C111,C,community,T11,{households}")
    with pytest.raises(ImportRefused) as refused:
        divisions_import(actor=world.users["city_admin"], data=data, filename="d.csv")
    assert [e.column for e in refused.value.errors] == ["households"]
    assert snapshot() == before


@pytest.mark.parametrize("points", ["NaN", "sNaN", "1E+200000", "Infinity"])
def test_it_refuses_hostile_points_in_a_score_sheet(scoring, points):
    from civicmark.assessments.sheets import import_sheet
    from tests.test_score_sheets import filled

    s = scoring
    data = filled(s, fill={("C111", "A1"): (points, "x", None)})
    before = snapshot()
    started = time.perf_counter()
    with pytest.raises(ImportRefused) as refused:
        import_sheet(actor=s["assessors"][0], data=data)
    assert time.perf_counter() - started < 2
    assert [e.column for e in refused.value.errors] == ["points"]
    assert snapshot() == before


def _xlsx(sheet_xml: bytes, workbook_xml: bytes | None = None) -> bytes:
    """A workbook written by hand, as an attacker would."""
    book = Workbook()
    book.active.append(["code", "name"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml
            if item.filename == "xl/workbook.xml" and workbook_xml is not None:
                data = workbook_xml
            dst.writestr(item, data)
    return out.getvalue()


SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)


def test_it_refuses_a_malformed_workbook_xml_with_a_message(world):
    data = _xlsx(SHEET_HEAD + b"</sheetData></worksheet>", workbook_xml=b"<workbook><sheets>")
    with pytest.raises(ImportRefused, match=r"\.xlsx"):
        read_workbook(data)
    client = client_for_city(world)
    before = snapshot()
    upload = io.BytesIO(data)
    upload.name = "d.xlsx"
    response = client.post(reverse("division_import"), {"file": upload})
    assert response.status_code == 422 and snapshot() == before


def client_for_city(world):  # noqa: ANN001, ANN201
    from django.test import Client

    client = Client()
    client.force_login(world.users["city_admin"])
    return client


def test_it_refuses_a_small_workbook_that_unpacks_to_100000_rows_at_once(settings):
    rows = b"".join(
        b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (n, n) for n in range(1, 100_001)
    )
    data = _xlsx(SHEET_HEAD + rows + b"</sheetData></worksheet>")
    assert len(data) < 600_000
    started = time.perf_counter()
    with pytest.raises(ImportRefused, match="50000"):
        read_table(data, "d.xlsx", [])
    assert time.perf_counter() - started < 2


def test_it_refuses_a_workbook_past_its_declared_columns(settings):
    settings.IMPORT_MAX_COLUMNS = 50
    dimension = b'<dimension ref="A1:XFD2"/>'
    sheet = SHEET_HEAD.replace(b"<sheetData>", dimension + b"<sheetData>")
    data = _xlsx(sheet + b'<row r="1"><c r="XFD1"><v>1</v></c></row></sheetData></worksheet>')
    with pytest.raises(ImportRefused, match="50"):
        read_workbook(data)


def test_it_refuses_a_workbook_that_unpacks_past_the_limit(settings):
    settings.IMPORT_MAX_UNCOMPRESSED = 10_000
    data = _xlsx(SHEET_HEAD + b" " * 20_000 + b"</sheetData></worksheet>")
    with pytest.raises(ImportRefused, match="MB"):
        read_workbook(data)


def test_it_refuses_a_csv_field_past_the_csv_limit():
    data = b"code,name\n" + b'"' + b"x" * 200_000 + b'",y\n'
    with pytest.raises(ImportRefused):
        read_table(data, "d.csv", [])


# --- Text past its column -------------------------------------------------------------------


def test_it_refuses_text_past_its_column_whoever_writes_it(station, world, client_for):
    client = client_for(world.users["community_staff"])
    before = snapshot()
    ledger = reverse("employment_ledger", args=["C111"])
    response = client.post(ledger, {"action": "household", "address": "长" * 5000})
    assert response.status_code in (200, 302)
    person = reverse("employment_resident", args=[station["father"].public_id])
    response = client.post(person, {"action": "service", "kind": "guidance", "note": "x" * 201})
    assert response.status_code == 200
    assert "200" in response.content.decode()  # the limit is named
    assert snapshot() == before


# --- Commands -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "task, text",
    [
        ("calendar", "day,name,working\n0001-01-01,x,0\n"),
        ("calendar", "day,name,working\n2026-02-30,x,0\n"),
        ("groups", "code,name,from,package\nlong_term,x,2020-01-01,²\n"),
        ("groups", "code,name,from,package\nlong_term,x,2020-01-01,100000000000000000000000\n"),
        ("groups", "code,name,from,package\nlong_term,x,0001-01-01,3\n"),
    ],
)
def test_it_refuses_hostile_values_in_the_employment_commands(world, tmp_path, task, text):
    from io import StringIO

    from django.core.management import CommandError, call_command

    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8")
    before = snapshot()
    with pytest.raises(CommandError):
        call_command("employment", task, "--province", "C", "--file", str(path), stdout=StringIO())
    assert snapshot() == before


@pytest.mark.parametrize("rule", ["² days", "100000000000000000000000 days", "0 days"])
def test_it_refuses_a_deadline_rule_that_is_no_number(rule):
    from civicmark.core.errors import ApplicationError
    from civicmark.employment.rules import DeadlineRule

    with pytest.raises(ApplicationError):
        DeadlineRule.parse(rule)


def _long(kind: str, world) -> tuple[object, bytes]:  # noqa: ANN001
    """An import whose one text is past its column, and the call that reads it."""
    import datetime as dt

    from civicmark.accounts.services import users_import
    from civicmark.employment.services import ledger_import
    from civicmark.surveys.services import frame_import
    from tests.test_employment import make_id

    staff, c111 = world.users["community_staff"], world.d["C111"]
    long = "长" * 5000
    if kind == "ledger":
        data = _csv(
            "address,name,id_number,status,since",
            f"{long},王建国,{make_id('19740310', '131')},employed,2026-01-01",
        )
        return (
            lambda: ledger_import(
                actor=staff, community=c111, data=data, filename="l.csv", today=dt.date(2026, 6, 1)
            )
        ), data
    if kind == "frame":
        data = _csv("estate,building,door", f"幸福小区,3,{long}")
        return (
            lambda: frame_import(actor=staff, community=c111, data=data, filename="h.csv")
        ), data
    data = _csv("username,name,role,division_code", f"fz1,{long},viewer,C")
    return (
        lambda: users_import(actor=world.users["city_admin"], data=data, filename="p.csv")
    ), data


@pytest.mark.parametrize("kind", ["ledger", "frame", "people"])
def test_it_refuses_an_import_row_whose_text_is_past_its_column(world, kind):
    run, _data = _long(kind, world)
    before = snapshot()
    with pytest.raises(ImportRefused) as refused:
        run()  # type: ignore[operator]
    assert any("5000" in e.message for e in refused.value.errors)
    assert snapshot() == before
