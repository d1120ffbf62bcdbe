"""The whole campaign from the command line (issue 15, item 6): the community's self-assessment
sheet out and in, a round's coverage, sign-off and reopening, its disagreements settled, and a
rectification reported; each through the pages' services with their checks, a refusal printed
as the service's message (a CommandError: exit status 1, no traceback) and nothing changed."""

from __future__ import annotations

import json
from decimal import Decimal
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from civicmark.assessments.models import Rectification, SelfScore
from civicmark.assessments.services import score_save
from civicmark.core.models import AuditEvent


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def refused(*args: str) -> str:
    err = StringIO()
    with pytest.raises(CommandError) as exc:
        call_command(*args, stdout=StringIO(), stderr=err)
    return f"{exc.value} {err.getvalue()}"


def fill(path: Path, values: dict[str, tuple[str, str]], headers: str = "zh") -> None:
    """Type points and explanations into the exported sheet, by item code."""
    book = load_workbook(BytesIO(path.read_bytes()))
    sheet = book["自评"]
    if headers == "en":
        names = ("item", "title", "max_points", "points", "explanation")
        for cell, name in zip(sheet[1], names, strict=True):
            cell.value = name
    for row in sheet.iter_rows(min_row=2):
        if str(row[0].value) in values:
            row[3].value, row[4].value = values[str(row[0].value)]
    out = BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())


def test_the_self_assessment_sheet_goes_out_and_comes_back_as_the_pages_service(
    scoring, world, tmp_path
):
    sheet = tmp_path / "c111.xlsx"
    run("self-assessment", "export", "c", "C111", str(sheet))
    book = load_workbook(BytesIO(sheet.read_bytes()))
    assert [c.value for c in book["自评"][1]] == [
        "项目编号",
        "考核内容",
        "分值",
        "自评得分",
        "说明",
    ]
    assert [r[0].value for r in book["自评"].iter_rows(min_row=2)] == ["A1", "A2", "B1", "B2"]
    fill(sheet, {"A1": ("28", "台账齐全"), "B2": ("19.5", "问卷")})
    staff = world.users["community_staff"]
    # Another community's staff: the page's refusal, nothing saved.
    refused("self-assessment", "import", str(sheet), "--user", "other_staff")
    assert not SelfScore.objects.exists()
    assert "saved 2" in run("self-assessment", "import", str(sheet), "--user", staff.username)
    assert sorted(SelfScore.objects.values_list("item__code", "points", "explanation")) == [
        ("A1", Decimal(28), "台账齐全"),
        ("B2", Decimal("19.5"), "问卷"),
    ]
    # The export shows what was saved; English headers read the same.
    run("self-assessment", "export", "c", "C111", str(sheet))
    assert [r[3].value for r in load_workbook(sheet)["自评"].iter_rows(min_row=2)] == [
        28,
        None,
        None,
        19.5,
    ]
    fill(sheet, {"A2": ("30", "")}, headers="en")
    run("self-assessment", "import", str(sheet), "--user", staff.username)
    assert SelfScore.objects.count() == 3


def test_a_bad_self_assessment_sheet_is_refused_at_its_row_and_column(scoring, world, tmp_path):
    sheet = tmp_path / "c111.xlsx"
    run("self-assessment", "export", "c", "C111", str(sheet))
    fill(sheet, {"A1": ("31", ""), "A2": ("abc", ""), "B1": ("10", "")})
    message = refused("self-assessment", "import", str(sheet), "--user", "community_staff")
    assert "sheet 自评, row 3, column points" in message and "abc" in message
    assert "sheet 自评, row 2, column points" in message and "A1" in message and "31" in message
    assert not SelfScore.objects.exists()  # B1 was fine, but all rows or none
    book = load_workbook(sheet)
    book["自评"]["A6"] = "Z9"
    book["自评"]["D6"] = 1
    book.save(sheet)
    fill(sheet, {"A1": ("20", ""), "A2": ("20", "")})
    message = refused("self-assessment", "import", str(sheet), "--user", "community_staff")
    assert "row 6, column item" in message and "Z9" in message
    assert not SelfScore.objects.exists()


def _score_everything(s, c111_a2_second=None):  # noqa: ANN001, ANN202
    for code in ("A1", "A2", "B1", "B2"):
        item = s["items"][code]
        points = item.points - 10 if code == "A1" else item.points
        score_save(
            actor=s["assessors"][0],
            round_=s["round"],
            enrollment=s["enrollments"]["C111"],
            item=item,
            points=points,
            reason="台账缺失" if code == "A1" else "",
        )
    if c111_a2_second is not None:
        score_save(
            actor=s["assessors"][1],
            round_=s["round"],
            enrollment=s["enrollments"]["C111"],
            item=s["items"]["A2"],
            points=Decimal(c111_a2_second),
            reason="设施老化",
        )


def test_a_round_is_covered_settled_finalised_and_reopened_from_the_command_line(scoring, world):
    s = scoring
    round_ = s["round"]
    refused("round", "cover", "c", "2", "--communities", "C111", "--user", "county_officer")
    assert not round_.covers.exists() or round_.covers.count() == 4  # unchanged
    refused("round", "cover", "c", "2", "--communities", "C111,NOPE", "--user", "city_admin")
    run(
        "round",
        "cover",
        "c",
        "2",
        "--communities",
        "C111",
        "--confirm-removal",
        "--user",
        "city_admin",
    )
    assert list(round_.covers.values_list("community__code", flat=True)) == ["C111"]
    _score_everything(s, c111_a2_second="20")
    # An assessor does not sign the round off; the lead may not while A2 is disputed.
    refused("round", "finalise", "c", "2", "--user", "fp0")
    message = refused("round", "finalise", "c", "2", "--user", "city_admin")
    assert "A2" in message and "30.0" in message and "20.0" in message
    round_.refresh_from_db()
    assert round_.finalised_at is None
    listed = json.loads(run("round", "disagreements", "c", "2"))
    assert [(d["community"], d["item"]) for d in listed] == [("C111", "A2")]
    run(
        "round", "settle", "c", "2", "--community", "C111", "--item", "A2", "--points", "25",
        "--reason", "现场复核", "--user", "city_admin",
    )  # fmt: skip
    run("round", "finalise", "c", "2", "--user", "city_admin")
    round_.refresh_from_db()
    assert round_.finalised_at is not None
    assert AuditEvent.objects.filter(action="round.finalised", via="cli").exists()
    refused("round", "finalise", "c", "2", "--user", "city_admin")  # already
    refused("round", "reopen", "c", "2", "--reason", "  ", "--user", "city_admin")
    refused("round", "reopen", "c", "2", "--reason", "复核", "--user", "fp0")
    round_.refresh_from_db()
    assert round_.finalised_at is not None
    run("round", "reopen", "c", "2", "--reason", "材料补正", "--user", "city_admin")
    round_.refresh_from_db()
    assert round_.finalised_at is None
    assert AuditEvent.objects.get(action="round.reopened").via == "cli"
    refused("round", "finalise", "nope", "2", "--user", "city_admin")
    refused("round", "finalise", "c", "2", "--user", "nobody-at-all")


def test_a_rectification_is_reported_from_the_command_line(scoring, world):
    s = scoring
    run(
        "round",
        "cover",
        "c",
        "2",
        "--communities",
        "C111",
        "--confirm-removal",
        "--user",
        "city_admin",
    )
    _score_everything(s)
    run("round", "finalise", "c", "2", "--user", "city_admin")
    task = Rectification.objects.get()
    assert task.item is not None and task.item.code == "A1"
    base = ["rectification", "c", "C111", "A1", "--status", "done"]
    refused(*base, "--note", "补齐台账", "--user", "other_staff")
    refused(*base, "--note", "", "--user", "community_staff")  # done says what was done
    refused("rectification", "c", "C111", "B1", "--status", "done", "--note", "x",
            "--user", "community_staff")  # fmt: skip
    task.refresh_from_db()
    assert (task.status, task.note) == ("open", "")
    run(*base, "--note", "补齐十二个月台账", "--user", "community_staff")
    task.refresh_from_db()
    assert (task.status, task.note) == ("done", "补齐十二个月台账")
    assert AuditEvent.objects.filter(action="rectification.updated").count() == 1
