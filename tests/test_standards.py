"""Standards: validation, versioning, and both file formats round-tripping exactly."""

from __future__ import annotations

import io
import shutil
import subprocess
from decimal import Decimal
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from civicmark.core.errors import ImportRefused, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.standards import formats
from civicmark.standards.models import Item, Standard, Status
from civicmark.standards.rules import CategoryData, ItemData, StandardData, VetoData, validate
from civicmark.standards.services import (
    standard_data,
    standard_import,
    standard_new_draft,
    standard_publish,
)

DEPARTMENTS = ["ORG", "PROP", "CIVIL", "PSB", "FIN", "LABOUR", "URBAN", "FP"]


def default_yaml(lang: str = "zh") -> bytes:
    return (
        resources.files("civicmark.standards")
        .joinpath(f"data/demonstration-community.{lang}.yaml")
        .read_bytes()
    )


def cells(xlsx: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(xlsx))
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def snapshot() -> tuple:
    return (
        sorted(Standard.objects.values_list("slug", "version", "status", "name")),
        Item.objects.count(),
        AuditEvent.objects.count(),
    )


def test_the_default_standard_has_100_points_two_vetoes_and_a_department_for_every_item(city):
    for lang in ("zh", "en"):
        data = formats.from_yaml(default_yaml(lang))
        assert validate(data, set(DEPARTMENTS)) == []
        assert data.total_points == 100 and data.pass_threshold == 80
        assert {v.department for v in data.vetoes} == {"FP", "PSB"}
        assert len(data.categories) == 10
        assert all(i.department for c in data.categories for i in c.items)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_yaml_export_then_import_then_export_is_the_same_text(city, lang):
    standard, _ = standard_import(
        actor=None, data=formats.from_yaml(default_yaml(lang)), division=city
    )
    first = formats.to_yaml(standard_data(standard))
    assert first.encode() == default_yaml(lang)
    again, changed = standard_import(actor=None, data=formats.from_yaml(first), division=city)
    assert not changed and formats.to_yaml(standard_data(again)) == first


@pytest.mark.parametrize("chinese", [False, True])
def test_xlsx_export_then_import_then_export_gives_the_same_cells(city, chinese):
    standard, _ = standard_import(
        actor=None, data=formats.from_yaml(default_yaml()), division=city, publish=True
    )
    first = formats.write_xlsx(standard_data(standard), chinese=chinese)
    before = snapshot()
    again, changed = standard_import(actor=None, data=formats.read_xlsx(first), division=city)
    assert not changed and snapshot() == before
    assert cells(formats.write_xlsx(standard_data(again), chinese=chinese)) == cells(first)


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) is not installed")
def test_a_workbook_saved_by_libreoffice_imports(city, tmp_path):
    standard, _ = standard_import(actor=None, data=formats.from_yaml(default_yaml()), division=city)
    source = tmp_path / "ours.xlsx"
    source.write_bytes(formats.write_xlsx(standard_data(standard), chinese=True))
    home = tmp_path / "lo-home"
    for target, src in (("ods", source), ("xlsx", tmp_path / "ours.ods")):
        outdir = tmp_path / target
        subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation=file://{home}",
                "--headless",
                "--convert-to",
                target,
                "--outdir",
                str(outdir),
                str(src),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        if target == "ods":
            (outdir / "ours.ods").rename(tmp_path / "ours.ods")
    saved = (tmp_path / "xlsx" / "ours.xlsx").read_bytes()
    import zipfile

    assert b"LibreOffice" in zipfile.ZipFile(io.BytesIO(saved)).read("docProps/app.xml")
    data = formats.read_xlsx(saved)
    assert data.comparable() == standard_data(standard).comparable()


def broken_workbook(city, mutate) -> bytes:  # noqa: ANN001
    standard, _ = standard_import(
        actor=None, data=formats.from_yaml(default_yaml("en")), division=city
    )
    book = load_workbook(io.BytesIO(formats.write_xlsx(standard_data(standard), chinese=False)))
    mutate(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _set(sheet: str, cell: str, value: object):  # noqa: ANN202
    def mutate(book):  # noqa: ANN001, ANN202
        book[sheet][cell] = value

    return mutate


BAD = [
    (
        "wrong points",
        _set("items", "G2", 5),
        [("items", 2, "points")],
    ),  # A1: 4 -> 5, category A no longer 10
    ("unknown department", _set("items", "J3", "NOPE"), [("items", 3, "department")]),
    ("duplicated item code", _set("items", "E3", "A1"), [("items", 3, "item_code")]),
    ("text in a points cell", _set("items", "G4", "four"), [("items", 4, "points")]),
    ("missing sheet", lambda book: book.remove(book["vetoes"]), [(None, None, None)]),
    ("unknown veto department", _set("vetoes", "C2", "XX"), [("vetoes", 2, "department")]),
    ("threshold above total", _set("standard", "B6", 120), [("standard", 6, "pass_threshold")]),
]


@pytest.mark.parametrize(("label", "mutate", "places"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_workbook_is_refused_with_its_errors_and_changes_nothing(city, label, mutate, places):
    data = broken_workbook(city, mutate)
    Standard.objects.all().delete()
    before = snapshot()
    with pytest.raises(ImportRefused) as refused:
        standard_import(actor=None, data=formats.read_xlsx(data), division=city)
    found = {(e.sheet, e.row, e.column) for e in refused.value.errors}
    for place in places:
        if place == (None, None, None):
            assert refused.value.errors
        else:
            assert place in found, (label, refused.value.errors)
    assert snapshot() == before


def test_all_errors_are_reported_at_once(city):
    def mutate(book):  # noqa: ANN001, ANN202
        book["items"]["J3"] = "NOPE"
        book["items"]["E3"] = "A1"
        book["vetoes"]["C2"] = "XX"

    with pytest.raises(ImportRefused) as refused:
        standard_import(
            actor=None, data=formats.read_xlsx(broken_workbook(city, mutate)), division=city
        )
    assert len(refused.value.errors) >= 3


def test_a_published_version_never_changes(city):
    data = formats.from_yaml(default_yaml())
    standard, _ = standard_import(actor=None, data=data, division=city, publish=True)
    data.categories[0].items[0].title = "changed"
    with pytest.raises(ImportRefused) as refused:
        standard_import(actor=None, data=data, division=city)
    assert [(e.sheet, e.column) for e in refused.value.errors] == [("standard", "version")]
    assert Item.objects.get(standard=standard, code="A1").title != "changed"
    draft = standard_new_draft(actor=None, standard=standard)
    assert (draft.version, draft.status) == (2, Status.DRAFT)
    assert standard_data(draft).categories == standard_data(standard).categories
    standard_import(actor=None, data=StandardData(**{**data.__dict__, "version": 2}), division=city)
    assert Item.objects.get(standard=draft, code="A1").title == "changed"
    standard_publish(actor=None, standard=draft)
    assert Standard.objects.get(pk=standard.pk).status == Status.PUBLISHED


def test_only_the_municipal_office_manages_standards(city, world):
    data = formats.from_yaml(default_yaml())
    for persona in ("county_officer", "town_officer", "assessor", "viewer"):
        with pytest.raises(NotAllowed):
            standard_import(actor=world.users[persona], data=data, division=city)
    assert not Standard.objects.exists()
    standard_import(actor=world.users["city_admin"], data=data, division=city)
    assert AuditEvent.objects.filter(
        action="standard.imported", actor=world.users["city_admin"]
    ).exists()


def test_a_yaml_file_that_is_not_yaml_is_refused_plainly(db):
    with pytest.raises(ImportRefused) as refused:
        formats.from_yaml(b"slug: [unclosed\nname: x")
    assert refused.value.errors[0].message


# --- Properties of the point rules ------------------------------------------------------------

halves = st.integers(min_value=1, max_value=40).map(lambda n: Decimal(n) / 2)


@st.composite
def tables(draw):  # noqa: ANN001, ANN201
    categories = []
    for c in range(draw(st.integers(min_value=1, max_value=6))):
        points = draw(st.lists(halves, min_size=1, max_size=6))
        items = [
            ItemData(f"C{c}I{i}", "t", p, "", "documents", "D", "") for i, p in enumerate(points)
        ]
        categories.append(CategoryData(f"C{c}", "c", sum(points, Decimal(0)), None, items))
    total = sum((c.points for c in categories), Decimal(0))
    threshold = draw(st.decimals(min_value=Decimal("0.5"), max_value=total, places=1))
    return StandardData(
        "s", "n", 1, total, threshold, [], [], categories, [VetoData("V1", "x", "D")]
    )


@settings(max_examples=200, deadline=None)
@given(tables())
def test_a_table_whose_points_add_up_is_valid(data):
    assert validate(data, {"D"}) == []


@settings(max_examples=200, deadline=None)
@given(tables(), st.data())
def test_changing_any_item_points_breaks_the_sum_and_is_reported(data, draw):
    cat = draw.draw(st.sampled_from(data.categories))
    item = draw.draw(st.sampled_from(cat.items))
    delta = draw.draw(halves)
    item.points += delta
    errors = validate(data, {"D"})
    assert any(e.column == "points" and cat.code in e.message for e in errors)


@settings(max_examples=100, deadline=None)
@given(tables(), st.decimals(min_value=Decimal("0.1"), max_value=Decimal("0.4"), places=1))
def test_points_must_be_whole_halves(data, odd):
    data.categories[0].items[0].points += odd
    data.categories[0].points += odd
    data.total_points += odd
    errors = validate(data, {"D"})
    assert any("0.5" in e.message for e in errors)


@settings(max_examples=100, deadline=None)
@given(tables(), st.decimals(min_value=Decimal("0.5"), max_value=Decimal(50), places=1))
def test_a_threshold_or_level_outside_the_total_is_refused(data, extra):
    data.pass_threshold = data.total_points + extra
    assert any(e.column == "pass_threshold" for e in validate(data, {"D"}))
