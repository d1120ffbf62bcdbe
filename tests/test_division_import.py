"""Division imports: all or nothing, every error with its row and column, idempotent."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from civicmark.accounts.places.imports import divisions_export, divisions_import
from civicmark.core.errors import ImportRefused
from civicmark.core.models import AuditEvent
from civicmark.divisions.models import CommunityProfile, Division

HEADER = "code,name,level,parent_code,committee,households,residents,area_km2,floor_space_m2,staff,note\n"
GOOD = HEADER + (
    "990100000000,清源市,city,,,,,,,,\n"
    "990121000000,安平县,county,990100000000,,,,,,,\n"
    "990121100000,城关镇,town,990121000000,,,,,,,\n"
    "990121100001,解放路社区,community,990121100000,解放路居委会,2860,7920,0.86,420,9,试点\n"
)


def run(text: str, name: str = "d.csv", actor=None):  # noqa: ANN001
    return divisions_import(actor=actor, data=text.encode("utf-8"), filename=name, via="cli")


def state() -> list[tuple]:
    return sorted(
        Division.objects.values_list("code", "name", "level", "path", "parent__code")
    ) + sorted(
        CommunityProfile.objects.values_list(
            "division__code", "households", "residents", "area_km2", "note"
        )
    )


@pytest.mark.django_db
def test_it_imports_a_tree_with_profiles():
    summary = run(GOOD)
    assert len(summary.created) == 4
    community = Division.objects.get(code="990121100001")
    assert community.path == "/990100000000/990121000000/990121100000/990121100001/"
    assert community.profile.households == 2860 and str(community.profile.area_km2) == "0.86"
    assert AuditEvent.objects.filter(action="divisions.imported").count() == 1


@pytest.mark.django_db
def test_importing_the_same_file_twice_changes_nothing_the_second_time():
    run(GOOD)
    before, events = state(), AuditEvent.objects.count()
    summary = run(GOOD)
    assert (summary.created, summary.updated, summary.unchanged) == ([], [], 4)
    assert state() == before and AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_it_reads_chinese_headers_and_level_words():
    text = (
        "代码,名称,层级,上级代码,居委会,户数,人口,面积,用房面积,工作人员,备注\n"
        "C,清源市,市,,,,,,,,\nK,安平县,县,C,,,,,,,\nT,东关街道,街道,K,,,,,,,\nX,东关社区,社区,T,居委会,100,300,1.5,200,5,\n"
    )
    run(text)
    assert Division.objects.get(code="X").profile.staff == 5


@pytest.mark.django_db
def test_it_reads_gbk_csv_as_saved_by_excel_on_chinese_windows():
    text = "代码,名称,层级,上级代码\nC,清源市,市,\n"
    divisions_import(actor=None, data=text.encode("gb18030"), filename="d.csv")
    assert Division.objects.get(code="C").name == "清源市"


@pytest.mark.django_db
def test_it_reads_xlsx_with_numbers_stored_as_numbers():
    book = Workbook()
    ws = book.active
    ws.append(["code", "name", "level", "parent_code", "households", "area_km2"])
    ws.append(["C", "City", "city", None, None, None])
    ws.append(["K", "County", "county", "C", None, None])
    ws.append(["T", "Town", "town", "K", None, None])
    ws.append(["X", "Community", "community", "T", 120.0, 0.5])
    buffer = io.BytesIO()
    book.save(buffer)
    divisions_import(actor=None, data=buffer.getvalue(), filename="d.xlsx")
    assert Division.objects.get(code="X").profile.households == 120


BAD_CASES = [
    ("wrong header", "kode,name,level,parent_code\nC,City,city,\n", [(1, "kode"), (1, None)]),
    (
        "unknown parent",
        HEADER + "C,City,city,,,,,,,,\nK,County,county,NOPE,,,,,,,\n",
        [(3, "parent_code")],
    ),
    ("duplicate code", HEADER + "C,City,city,,,,,,,,\nC,City 2,city,,,,,,,,\n", [(3, "code")]),
    (
        "cycle",
        HEADER + "C,City,city,,,,,,,,\nA,A,town,B,,,,,,,\nB,B,town,A,,,,,,,\n",
        [(3, "parent_code")],
    ),
    ("empty name", HEADER + "C,,city,,,,,,,,\n", [(2, "name")]),
    (
        "non-numeric households",
        HEADER + "C,City,city,,,,,,,,\nK,K,county,C,,,,,,,\nT,T,town,K,,,,,,,\n"
        "X,X,community,T,,many,,,,,\n",
        [(5, "households")],
    ),
    ("unknown level", HEADER + "C,City,province,,,,,,,,\n", [(2, "level")]),
    (
        "wrong parent level",
        HEADER + "C,City,city,,,,,,,,\nX,X,community,C,,,,,,,\n",
        [(3, "parent_code")],
    ),
    (
        "profile on a town",
        HEADER + "C,City,city,,,,,,,,\nK,K,county,C,,,,,,,\nT,T,town,K,,5,,,,,\n",
        [(4, "households")],
    ),
    (
        "fractional staff",
        HEADER + "C,City,city,,,,,,,,\nK,K,county,C,,,,,,,\nT,T,town,K,,,,,,,\n"
        "X,X,community,T,,,,,,2.5,\n",
        [(5, "staff")],
    ),
    ("city with a parent", HEADER + "C,City,city,Z,,,,,,,\n", [(2, "parent_code")]),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("label", "text", "places"), BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_a_bad_file_is_refused_with_every_error_in_its_place_and_changes_nothing(
    label, text, places
):
    run(GOOD)
    before, events = state(), AuditEvent.objects.count()
    with pytest.raises(ImportRefused) as refused:
        run(text)
    found = {(e.row, e.column) for e in refused.value.errors}
    for place in places:
        assert place in found, (label, refused.value.errors)
    assert all(e.message for e in refused.value.errors)
    assert state() == before and AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_one_good_row_among_bad_ones_is_not_written_either():
    with pytest.raises(ImportRefused) as refused:
        run(
            HEADER
            + "C,City,city,,,,,,,,\nK,,county,C,,,,,,,\nT,T,town,K,,,,,,,\nX,X,community,T,,x,y,,,,\n"
        )
    assert len(refused.value.errors) == 3
    assert not Division.objects.exists()


@pytest.mark.django_db
def test_moving_a_town_moves_its_communities():
    run(GOOD + "990121200000,另一镇,town,990121000000,,,,,,,\n")
    run(
        HEADER
        + "990121100001,解放路社区,community,990121200000,解放路居委会,2860,7920,0.86,420,9,试点\n"
    )
    assert Division.objects.get(code="990121100001").path.endswith("/990121200000/990121100001/")


@pytest.mark.django_db
def test_it_refuses_rows_outside_the_importers_area(world):
    text = HEADER + "C112,Renamed,community,T11,,,,,,,\nC211,Renamed,community,T21,,,,,,,\n"
    with pytest.raises(ImportRefused) as refused:
        run(text, actor=world.users["town_officer"])
    assert [(e.row, e.column) for e in refused.value.errors] == [(3, "code")]
    assert Division.objects.get(code="C112").name == "Community 112"
    run(HEADER + "C112,Renamed,community,T11,,,,,,,\n", actor=world.users["town_officer"])
    assert Division.objects.get(code="C112").name == "Renamed"


@pytest.mark.django_db
def test_a_workbook_that_is_not_one_is_refused_plainly():
    with pytest.raises(ImportRefused) as refused:
        divisions_import(actor=None, data=b"not a zip", filename="d.xlsx")
    assert "xlsx" in refused.value.errors[0].message
    with pytest.raises(ImportRefused):
        divisions_import(actor=None, data=b"x", filename="d.pdf")


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("chinese", [False, True])
def test_export_then_import_is_a_fixed_point(fmt, chinese):
    run(GOOD)
    before = state()
    buffer = io.BytesIO()
    divisions_export(user=None, target=buffer, fmt=fmt, chinese=chinese)
    summary = divisions_import(actor=None, data=buffer.getvalue(), filename=f"x.{fmt}")
    assert not summary.changed and state() == before
    if fmt == "xlsx":
        ws = load_workbook(io.BytesIO(buffer.getvalue())).active
        assert ws.freeze_panes == "A2"
        assert ws["A1"].value == ("代码" if chinese else "code")


names = (
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
        min_size=1,
        max_size=20,
    )
    .map(str.strip)
    .filter(bool)
)
counts = st.one_of(st.none(), st.integers(min_value=0, max_value=10**6))


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=names, households=counts, staff=counts, note=names)
def test_any_profile_survives_export_and_import(name, households, staff, note):
    D = Division
    run(GOOD)  # idempotent: each example starts from the same four divisions
    profile = CommunityProfile.objects.get(division__code="990121100001")
    profile.households, profile.staff, profile.note = households, staff, note.replace("\r", "")
    profile.save()
    D.objects.filter(code="990121100001").update(name=name)
    buffer = io.BytesIO()
    divisions_export(user=None, target=buffer, fmt="xlsx")
    before = state()
    assert not divisions_import(actor=None, data=buffer.getvalue(), filename="x.xlsx").changed
    assert state() == before


@pytest.mark.django_db
def test_an_export_drops_control_characters_instead_of_failing():
    run(GOOD)
    CommunityProfile.objects.update(note="bad\x1bnote")
    buffer = io.BytesIO()
    divisions_export(user=None, target=buffer, fmt="xlsx")
    assert load_workbook(buffer).active["K5"].value == "badnote"


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_text_that_looks_like_a_formula_stays_text(fmt):
    run(GOOD)
    Division.objects.filter(code="990121100001").update(name='=HYPERLINK("http://x")')
    CommunityProfile.objects.update(note="+1 -2 @3")
    buffer = io.BytesIO()
    divisions_export(user=None, target=buffer, fmt=fmt)
    if fmt == "csv":
        assert "'=HYPERLINK" in buffer.getvalue().decode(
            "utf-8-sig"
        )  # a spreadsheet will not run it
    else:
        cell = load_workbook(io.BytesIO(buffer.getvalue()))["divisions"]["B5"]
        assert cell.data_type == "s"
    before = state()
    assert not divisions_import(actor=None, data=buffer.getvalue(), filename=f"x.{fmt}").changed
    assert state() == before
