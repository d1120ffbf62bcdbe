"""A name stored with a control or bidi character prints in every sheet (issue 14, item 8): the
review renamed a community "a\\x01b" on its edit page, after which every assessor's offline sheet
of its department and its own scoring sheets answered HTTP 500."""

from __future__ import annotations

from io import BytesIO

from openpyxl import load_workbook

from civicmark.assessments.sheets import export_sheet
from civicmark.divisions.models import Department, Division


def test_a_name_with_control_and_bidi_characters_prints_in_the_score_sheet(world, scoring):
    Division.objects.filter(code="C111").update(name="解放\x01路\u202e社区\x0b")
    data = export_sheet(round_=scoring["round"], department=Department.objects.get(code="FP"))
    cells = [
        str(v)
        for row in load_workbook(BytesIO(data))["scores"].iter_rows(values_only=True)
        for v in row
        if v is not None
    ]
    assert "解放路社区" in cells
    assert not any(ch in text for text in cells for ch in "\x01\x0b\u202e")


def test_a_long_posted_town_filter_is_dropped_from_the_way_back():
    """The fuzz posted a town filter of 20,000 characters to the rectification list: the
    redirect back was longer than Django allows, an HTTP 500."""
    from civicmark.assessments.views import _town_query

    assert _town_query({"town": "T" * 20000}) == ""
    assert _town_query({"town": "T11"}) == "?town=T11"


def test_names_and_codes_with_hidden_characters_are_refused(world, client_for):
    """The review renamed a community "a\\x01b" on its edit page and imported a division coded
    "x\\x01y": both were stored. Invisible on a page, they broke every sheet listing them."""
    import pytest

    from civicmark.accounts.places.imports import divisions_import
    from civicmark.core.errors import ImportRefused
    from civicmark.core.models import AuditEvent

    officer, events = world.users["county_officer"], AuditEvent.objects.count()
    client = client_for(officer)
    page = client.post("/divisions/C111/edit/", {"name": "a\x01b", "parent": "T11"})
    assert page.status_code == 200 and "a\x01b" not in Division.objects.get(code="C111").name
    data = "code,name,level,parent_code\nx\x01y,新社区,community,T11\nC112,和平\u202e里,community,T11\n"
    with pytest.raises(ImportRefused) as refused:
        divisions_import(actor=officer, data=data.encode(), filename="d.csv")
    assert {(e.row, e.column) for e in refused.value.errors} == {(2, "code"), (3, "name")}
    assert AuditEvent.objects.count() == events
    assert not Division.objects.filter(code="x\x01y").exists()


def test_a_nul_in_an_imported_cell_is_refused_at_its_place(world):
    """PostgreSQL refuses NUL bytes in text: a people file with one answered HTTP 500 there
    (the fuzz found it); on SQLite it was stored."""
    import pytest

    from civicmark.accounts.services import users_import
    from civicmark.core.errors import ImportRefused

    data = "username,name,role,division_code\nn1,甲\x00乙,viewer,K1\n"
    with pytest.raises(ImportRefused) as refused:
        users_import(actor=world.users["county_officer"], data=data.encode(), filename="u.csv")
    assert [(e.row, e.column) for e in refused.value.errors] == [(2, "name")]
