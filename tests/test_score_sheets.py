"""Offline score sheets: export, fill in on site, upload; every error with its row; idempotent."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import load_workbook

from civicmark.assessments.sheets import export_sheet, import_sheet
from civicmark.core.errors import ImportRefused
from civicmark.core.models import AuditEvent
from civicmark.scoring.models import Score, VetoFinding


def column_of(ws):  # noqa: ANN001, ANN201
    """key -> the column's index, whichever language the header row is in."""
    from civicmark.assessments.sheets import SCORE_COLUMNS, VETO_COLUMNS

    names = {n: c.key for c in [*SCORE_COLUMNS, *VETO_COLUMNS] for n in (c.key, *c.aliases)}
    return {names[str(c.value)]: n for n, c in enumerate(ws[1]) if str(c.value) in names}


def keys(ws):  # noqa: ANN001, ANN201
    """The header row as column keys, whichever language it is in."""
    at = column_of(ws)
    by_index = {n: k for k, n in at.items()}
    return [by_index.get(n, c.value) for n, c in enumerate(ws[1])]


def filled(s, department="FP", fill=None, vetoes=()):  # noqa: ANN001, ANN201
    from civicmark.divisions.models import Department

    book = load_workbook(
        io.BytesIO(
            export_sheet(round_=s["round"], department=Department.objects.get(code=department))
        )
    )
    ws = book["scores"]
    at = column_of(ws)
    for row in ws.iter_rows(min_row=2):
        key = (row[at["community_code"]].value, row[at["item_code"]].value)
        if fill and key in fill:
            points, reason, na = fill[key]
            row[at["points"]].value, row[at["reason"]].value = points, reason
            row[at["not_applicable"]].value = na
    for v in vetoes:
        book["vetoes"].append(list(v))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_sheet_round_trips_and_a_second_upload_changes_nothing(scoring):
    s = scoring
    data = filled(
        s,
        fill={
            ("C111", "A1"): (28, "台账缺两个月", None),
            ("C111", "B1"): (None, "辖区无此类", "是"),
            ("C112", "A1"): (30, None, None),
        },
        vetoes=[("C112", "V1", "发现违反政策生育")],
    )
    result = import_sheet(actor=s["assessors"][0], data=data)
    assert (result.saved, result.vetoes) == (3, 1)
    assert Score.objects.get(item__code="B1").not_applicable
    events = AuditEvent.objects.count()
    again = import_sheet(actor=s["assessors"][0], data=data)
    assert (again.saved, again.unchanged, again.vetoes) == (0, 3, 0)
    assert AuditEvent.objects.count() == events and VetoFinding.objects.count() == 1


def test_a_bad_sheet_reports_every_row_and_changes_nothing(scoring, world):
    s = scoring
    data = filled(
        s,
        fill={
            ("C111", "A1"): (31, "x", None),
            ("C111", "B1"): (12.3, "x", None),
            ("C112", "A1"): (20, None, None),
        },
        vetoes=[("C112", "V9", "x")],
    )
    with pytest.raises(ImportRefused) as refused:
        import_sheet(actor=s["assessors"][0], data=data)
    places = {(e.sheet, e.row, e.column) for e in refused.value.errors}
    assert places == {
        ("scores", 2, "points"),
        ("scores", 3, "points"),
        ("scores", 4, "reason"),
        ("vetoes", 2, "veto_code"),
    }
    assert not Score.objects.exists()
    other = filled(s, fill={("C111", "A1"): (30, None, None)})
    with pytest.raises(ImportRefused):
        import_sheet(actor=world.users["assessor"], data=other)  # not his department
    assert not Score.objects.exists()


def test_a_sheet_of_a_finalised_round_is_refused(scoring):
    from django.utils import timezone

    data = filled(scoring, fill={("C111", "A1"): (30, None, None)})
    scoring["round"].finalised_at = timezone.now()
    scoring["round"].save()
    with pytest.raises(ImportRefused):
        import_sheet(actor=scoring["assessors"][0], data=data)


def test_the_commands(scoring, tmp_path):
    path = tmp_path / "fp.xlsx"
    call_command("export-scores", "c", "2", str(path), "--department", "FP", stdout=StringIO())
    assert load_workbook(path)["scores"].max_row == 1 + 4 * 2  # four communities, two FP items
    path.write_bytes(filled(scoring, fill={("C111", "A1"): (30, None, None)}))
    out = StringIO()
    call_command("import-scores", str(path), "--user", "fp0", stdout=out)
    assert "saved 1" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("import-scores", str(path))


def test_the_sheet_pages(scoring, client_for, world):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    client = client_for(scoring["assessors"][0])
    url = reverse("score_sheet", args=["c", 2])
    download = client.get(url + "?department=FP")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert client.get(url + "?department=ORG").status_code == 404
    bad = filled(scoring, fill={("C111", "A1"): (31, "x", None)})
    response = client.post(url, {"file": SimpleUploadedFile("s.xlsx", bad)})
    assert response.status_code == 422 and "A1" not in str(Score.objects.all())
    good = filled(scoring, fill={("C111", "A1"): (30, None, None)})
    assert client.post(url, {"file": SimpleUploadedFile("s.xlsx", good)}).status_code == 302
    assert Score.objects.count() == 1
    assert client_for(world.users["viewer"]).get(url + "?department=FP").status_code == 404


# --- No silent overwrite: the sheet carries each row's version (issue 14) --------------------


def _sheet(s, assessor, fill=None, drop_version=False):  # noqa: ANN001, ANN201
    """The FP sheet as `assessor` exports it now, with some rows filled in on site."""
    from civicmark.divisions.models import Department

    data = export_sheet(
        round_=s["round"], department=Department.objects.get(code="FP"), assessor=assessor
    )
    book = load_workbook(io.BytesIO(data))
    ws = book["scores"]
    header = keys(ws)
    col = {key: header.index(key) for key in ("points", "reason", "not_applicable")}
    for row in ws.iter_rows(min_row=2):
        key = (row[0].value, row[2].value)
        if fill and key in fill:
            for name, value in zip(("points", "reason", "not_applicable"), fill[key], strict=True):
                row[col[name]].value = value
    if drop_version:
        ws.delete_cols(header.index("version") + 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _on_the_page(s, assessor, code, item, points, reason=""):  # noqa: ANN001, ANN201
    from decimal import Decimal

    from civicmark.assessments.services import score_save

    existing = Score.objects.filter(
        round=s["round"],
        enrollment=s["enrollments"][code],
        item=s["items"][item],
        assessor=assessor,
    ).first()
    return score_save(
        actor=assessor,
        round_=s["round"],
        enrollment=s["enrollments"][code],
        item=s["items"][item],
        points=Decimal(points),
        reason=reason,
        expected_version=existing.version if existing else None,
    )


def test_it_exports_each_rows_version_and_current_score_for_the_assessor(scoring):
    s = scoring
    fp0 = s["assessors"][0]
    _on_the_page(s, fp0, "C111", "A1", 28, "台账缺两个月")
    _on_the_page(s, fp0, "C111", "A1", 27, "台账缺三个月")  # version 2
    book = load_workbook(io.BytesIO(_sheet(s, fp0)))
    ws = book["scores"]
    header = keys(ws)
    assert "version" in header
    rows = {
        (r[0], r[2]): dict(zip(header, r, strict=True)) for r in ws.iter_rows(2, values_only=True)
    }
    assert rows[("C111", "A1")]["version"] == 2 and rows[("C111", "A1")]["points"] == 27
    assert rows[("C111", "A1")]["reason"] == "台账缺三个月"
    assert rows[("C111", "B1")]["version"] is None and rows[("C111", "B1")]["points"] is None
    # Another assessor's sheet carries his own versions, not fp0's.
    other = load_workbook(io.BytesIO(_sheet(s, s["assessors"][1])))["scores"]
    assert all(r[header.index("version")] is None for r in other.iter_rows(2, values_only=True))


def test_it_does_not_put_back_an_old_value_when_a_sheet_is_uploaded_again_after_a_web_edit(
    scoring,
):
    # Given a sheet uploaded once, then the score changed on the page
    s = scoring
    fp0 = s["assessors"][0]
    sheet = filled(s, fill={("C111", "A1"): (28, "台账缺两个月", None)})
    import_sheet(actor=fp0, data=sheet)
    web = _on_the_page(s, fp0, "C111", "A1", 25, "现场核查缺五项")
    events = AuditEvent.objects.count()
    # When the same sheet is uploaded again, its 28 is older than the page's 25: refused
    with pytest.raises(ImportRefused):
        import_sheet(actor=fp0, data=sheet)
    web.refresh_from_db()
    assert (web.points, web.version) == (25, 2)
    assert AuditEvent.objects.count() == events


def test_it_refuses_a_sheet_exported_before_a_web_edit_naming_who_and_when(scoring):
    # Given a score exported in a sheet, then changed on the page
    s = scoring
    fp0 = s["assessors"][0]
    _on_the_page(s, fp0, "C111", "A1", 28, "台账缺两个月")
    old_sheet = _sheet(s, fp0, fill={("C112", "A1"): (30, None, None)})
    web = _on_the_page(s, fp0, "C111", "A1", 25, "现场核查缺五项")
    events = AuditEvent.objects.count()
    # When the old sheet (still saying 28) is imported
    with pytest.raises(ImportRefused) as refused:
        import_sheet(actor=fp0, data=old_sheet)
    # Then the row is a conflict that names who changed it and when; nothing is written
    [error] = refused.value.errors
    assert (error.sheet, error.row, error.column) == ("scores", 2, "version")
    from django.utils import timezone

    assert fp0.full_name in error.message
    assert timezone.localtime(web.updated_at).strftime("%Y-%m-%d %H:%M") in error.message
    web.refresh_from_db()
    assert (web.points, web.version) == (25, 2)
    assert not Score.objects.filter(enrollment=s["enrollments"]["C112"]).exists()
    assert AuditEvent.objects.count() == events


def test_it_refuses_a_row_scored_on_the_page_after_an_unscored_export(scoring):
    s = scoring
    fp0 = s["assessors"][0]
    sheet = _sheet(s, fp0, fill={("C111", "A1"): (30, None, None)})
    _on_the_page(s, fp0, "C111", "A1", 26, "缺")
    with pytest.raises(ImportRefused) as refused:
        import_sheet(actor=fp0, data=sheet)
    assert [(e.row, e.column) for e in refused.value.errors] == [(2, "version")]
    assert Score.objects.get().points == 26


def test_it_saves_rows_whose_version_is_current_and_stays_idempotent(scoring):
    s = scoring
    fp0 = s["assessors"][0]
    first = _on_the_page(s, fp0, "C111", "A1", 28, "台账缺两个月")
    sheet = _sheet(
        s, fp0, fill={("C111", "A1"): (30, None, None), ("C112", "B1"): (20, None, None)}
    )
    result = import_sheet(actor=fp0, data=sheet)
    assert (result.saved, result.unchanged) == (2, 0)
    first.refresh_from_db()
    assert (first.points, first.version) == (30, 2)
    events = AuditEvent.objects.count()
    again = import_sheet(actor=fp0, data=sheet)  # the same file: nothing to write
    assert (again.saved, again.unchanged) == (0, 2)
    assert AuditEvent.objects.count() == events
    first.refresh_from_db()
    assert first.version == 2


def test_a_sheet_without_versions_imports_new_scores_only(scoring):
    s = scoring
    fp0 = s["assessors"][0]
    _on_the_page(s, fp0, "C111", "A1", 28, "台账缺两个月")
    old = _sheet(
        s,
        fp0,
        fill={("C111", "A1"): (30, None, None), ("C112", "A1"): (30, None, None)},
        drop_version=True,
    )
    events = AuditEvent.objects.count()
    with pytest.raises(ImportRefused) as refused, translation.override("en"):
        import_sheet(actor=fp0, data=old)
    [error] = refused.value.errors
    assert error.row == 2 and "export a fresh sheet" in error.message
    assert Score.objects.count() == 1 and AuditEvent.objects.count() == events
    new_only = _sheet(s, fp0, fill={("C112", "A1"): (30, None, None)}, drop_version=True)
    assert import_sheet(actor=fp0, data=new_only).saved == 1
    # The row already scored (28, exported back unchanged) is not a change: no refusal.
    assert import_sheet(actor=fp0, data=new_only).unchanged == 2


def test_it_refuses_a_version_that_is_not_a_number_showing_what_was_typed(scoring):
    s = scoring
    fp0 = s["assessors"][0]
    book = load_workbook(io.BytesIO(_sheet(s, fp0, fill={("C111", "A1"): (30, None, None)})))
    ws = book["scores"]
    header = keys(ws)
    ws.cell(row=2, column=header.index("version") + 1).value = "v2"
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ImportRefused) as refused:
        import_sheet(actor=fp0, data=out.getvalue())
    [error] = refused.value.errors
    assert (error.row, error.column) == (2, "version") and "v2" in error.message
    assert not Score.objects.exists()


def test_the_version_column_may_be_headed_in_chinese(scoring):
    s = scoring
    fp0 = s["assessors"][0]
    _on_the_page(s, fp0, "C111", "A1", 28, "台账缺两个月")
    book = load_workbook(io.BytesIO(_sheet(s, fp0, fill={("C111", "A1"): (29, "缺", None)})))
    ws = book["scores"]
    header = keys(ws)
    ws.cell(row=1, column=header.index("version") + 1).value = "版本"
    out = io.BytesIO()
    book.save(out)
    assert import_sheet(actor=fp0, data=out.getvalue()).saved == 1
    assert Score.objects.get().points == 29


def test_a_veto_from_the_sheet_goes_through_the_veto_service_with_its_event(scoring):
    s = scoring
    fp0 = s["assessors"][0]
    data = filled(s, vetoes=[("C112", "V1", "发现违反政策生育")])
    assert import_sheet(actor=fp0, data=data).vetoes == 1
    event = AuditEvent.objects.get(action="veto.recorded")
    assert (
        event.after["veto"] == "V1" and event.scope_path == s["enrollments"]["C112"].community.path
    )


def test_a_refusal_names_no_community_outside_the_assessors_scope(scoring, world):
    # An assessor of county K1 imports a sheet that lists K2's community C211.
    from civicmark.divisions.models import Department
    from tests.factories import person

    s = scoring
    psb = Department.objects.get(code="PSB")
    k1 = person("k1psb", "assessor", world.d["K1"], department=psb)
    book = load_workbook(io.BytesIO(export_sheet(round_=s["round"], department=psb)))
    ws = book["scores"]
    at = column_of(ws)
    for row in ws.iter_rows(min_row=2):
        if (row[0].value, row[2].value) in {("C211", "A2"), ("C111", "A2")}:
            row[at["points"]].value = 30
    ws.append(["C999", "", "A2", "", None, 30, 30, None, None])
    book["vetoes"].append(["C211", "V1", "x"])
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ImportRefused) as refused:
        import_sheet(actor=k1, data=out.getvalue())
    text = " ".join(e.message for e in refused.value.errors)
    assert "Community 211" not in text and "County Two" not in text
    # The score row and the veto row of C211 read exactly as a code that does not exist.
    outside = [e for e in refused.value.errors if "C211" in e.message]
    unknown = [e for e in refused.value.errors if "C999" in e.message]
    assert [(e.sheet, e.column) for e in outside] == [
        ("scores", "community_code"),
        ("vetoes", "community_code"),
    ]
    assert {e.message.replace("C211", "C999") for e in outside} == {e.message for e in unknown}
    assert not Score.objects.exists() and not VetoFinding.objects.exists()


def test_an_assessors_sheet_lists_only_the_communities_he_may_see(scoring, world):
    from civicmark.divisions.models import Department
    from tests.factories import person

    psb = Department.objects.get(code="PSB")
    k1 = person("k1psb", "assessor", world.d["K1"], department=psb)
    ws = load_workbook(
        io.BytesIO(export_sheet(round_=scoring["round"], department=psb, assessor=k1))
    )["scores"]
    listed = {r[0] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert listed == {"C111", "C112", "C121"}
    names = {r[1] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert "Community 211" not in names
