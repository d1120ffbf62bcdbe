"""The command line calls the same services as the pages, with the same checks."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from civicmark.divisions.models import Department, Division


def test_divisions_and_departments_round_trip_through_files(world, tmp_path):
    for fmt in ("xlsx", "csv"):
        out = tmp_path / f"d.{fmt}"
        call_command("export-divisions", str(out), stdout=StringIO())
        result = StringIO()
        call_command("import-divisions", str(out), stdout=result)
        assert "created 0, updated 0" in result.getvalue()
        dep = tmp_path / f"p.{fmt}"
        call_command("export-departments", str(dep), "--chinese", stdout=StringIO())
        result = StringIO()
        call_command("import-departments", str(dep), stdout=result)
        assert "created 0, updated 0, unchanged 3" in result.getvalue()


def test_a_bad_file_prints_each_error_with_its_place(world, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        "code,name,division_code\nX1,,K1\nX2,Two,NOPE\nX3,Three,T11\n", encoding="utf-8"
    )
    err = StringIO()
    with pytest.raises(CommandError, match="3 error"):
        call_command("import-departments", str(path), stderr=err)
    lines = err.getvalue().splitlines()
    assert any("row 2" in line and "name" in line for line in lines)
    assert any("row 3" in line and "division_code" in line for line in lines)
    assert any("row 4" in line for line in lines)
    assert not Department.objects.filter(code__startswith="X").exists()


def test_acting_as_a_user_applies_his_scope(world, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("code,name,level,parent_code\nC211,Hijacked,community,T21\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("import-divisions", str(path), "--user", "town_officer", stderr=StringIO())
    assert Division.objects.get(code="C211").name == "Community 211"
    with pytest.raises(CommandError, match="No active user"):
        call_command("import-divisions", str(path), "--user", "ghost")


def test_a_missing_file_is_a_plain_error(db):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import-divisions", "/nonexistent.xlsx")
