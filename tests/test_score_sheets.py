"""Offline score sheets: export, fill in on site, upload; every error with its row; idempotent."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from civicmark.assessments.models import Score, VetoFinding
from civicmark.assessments.sheets import export_sheet, import_sheet
from civicmark.core.errors import ImportRefused
from civicmark.core.models import AuditEvent


def filled(s, department="FP", fill=None, vetoes=()):  # noqa: ANN001, ANN201
    from civicmark.divisions.models import Department

    book = load_workbook(
        io.BytesIO(
            export_sheet(round_=s["round"], department=Department.objects.get(code=department))
        )
    )
    ws = book["scores"]
    for row in ws.iter_rows(min_row=2):
        key = (row[0].value, row[2].value)
        if fill and key in fill:
            points, reason, na = fill[key]
            row[5].value, row[6].value, row[7].value = points, reason, na
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
