"""The duplicate ID check refuses the same person twice across the whole installation, but a
refusal names nothing outside the asker's scope (issue 14): a number registered in another
county's ledger is "registered elsewhere", with whom to ask, never where or who."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from civicmark.core.errors import ApplicationError, ImportRefused
from civicmark.core.models import AuditEvent
from civicmark.employment import services as svc
from civicmark.employment.models import Household, Resident
from tests.test_employment import make_id

NUMBER = make_id("19761212", "313")
ADDRESS = "和平里9栋909"
NAME = "王秘密"


@pytest.fixture
def elsewhere(world):  # noqa: ANN001, ANN201
    """A resident of Community 211, in County Two: nothing the personas of County One keep."""
    staff = world.users["other_staff"]
    home = svc.household_add(actor=staff, community=world.d["C211"], address=ADDRESS)
    return svc.resident_add(actor=staff, household=home, name=NAME, id_number=NUMBER)


def _secrets(world) -> list[str]:  # noqa: ANN001
    """Everything about the other resident that only County Two's people may read."""
    out = [ADDRESS, NAME, "王*密", "9栋"]
    for key in ("C211", "T21", "K2"):
        out += [world.d[key].name, world.d[key].code, world.d[key].path]
    return out


def _shown(secrets: list[str], text: str) -> list[str]:
    """The secrets the page shows. A code as short as "K2" counts only as a word of its own: a
    random CSRF token or file name may hold those two letters (a flake found 2026-12-01)."""
    import re

    return [
        s for s in secrets if re.search(rf"(?<![A-Za-z0-9]){re.escape(s)}(?![A-Za-z0-9])", text)
    ]


def _unchanged(before: tuple[int, int, int]) -> None:
    assert (Resident.objects.count(), Household.objects.count(), AuditEvent.objects.count()) == (
        before
    )


def _counts() -> tuple[int, int, int]:
    return Resident.objects.count(), Household.objects.count(), AuditEvent.objects.count()


def test_it_refuses_a_number_of_another_county_without_saying_where(world, elsewhere):
    staff = world.users["community_staff"]
    home = svc.household_add(actor=staff, community=world.d["C111"], address="幸福小区1栋101")
    before = _counts()
    with pytest.raises(ApplicationError) as refused:
        svc.resident_add(actor=staff, household=home, name="王秘密", id_number=NUMBER)
    message = refused.value.message
    assert not [s for s in _secrets(world) if s in message], message
    assert NUMBER not in message and NUMBER[-4:] in message  # his own typing, masked
    # Whom to ask: the employment office of the asker's own city, which he knows anyway.
    assert world.d["C"].name in message
    _unchanged(before)


def test_within_scope_it_says_where_the_person_already_is(world):
    staff = world.users["community_staff"]
    home = svc.household_add(actor=staff, community=world.d["C111"], address="幸福小区1栋101")
    svc.resident_add(actor=staff, household=home, name="李明", id_number=NUMBER)
    town = world.users["town_officer"]
    other = svc.household_add(actor=town, community=world.d["C112"], address="和平里1栋1")
    before = _counts()
    with pytest.raises(ApplicationError) as refused:
        svc.resident_add(actor=town, household=other, name="李明", id_number=NUMBER)
    message = refused.value.message
    assert world.d["C111"].name in message and "幸福小区1栋101" in message
    _unchanged(before)


def test_the_ledger_page_shows_the_refusal_without_the_other_county(world, elsewhere, client_for):
    staff = world.users["community_staff"]
    home = svc.household_add(actor=staff, community=world.d["C111"], address="幸福小区1栋101")
    before = _counts()
    page = client_for(staff).post(
        reverse("employment_ledger", args=["C111"]),
        # Another name than the stored one: the refused form shows back what was typed, and
        # the page must not show what only County Two reads (the stored name among it).
        {"household": str(home.public_id), "name": "王明", "id_number": NUMBER},
        follow=True,
    )
    text = page.content.decode()
    assert 'value="王明"' in text
    assert page.status_code == 200 and world.d["C"].name in text
    assert not _shown(_secrets(world), text)
    _unchanged(before)


def test_an_import_refuses_the_row_without_the_other_county(world, elsewhere):
    staff = world.users["community_staff"]
    before = _counts()
    text = (
        "地址,姓名,身份证号,电话,就业状态,起始日期,登记证号,登记日期\n"
        f"幸福小区2栋,王秘密,{NUMBER},,在业,2026-02-01,,\n"
    )
    with pytest.raises(ImportRefused) as refused:
        svc.ledger_import(
            actor=staff,
            community=world.d["C111"],
            data=text.encode(),
            filename="l.csv",
            today=dt.date(2026, 6, 1),
        )
    [error] = refused.value.errors
    assert (error.row, error.column) == (2, "id_number")
    assert not [s for s in _secrets(world) if s in str(error)]
    assert world.d["C"].name in str(error)
    _unchanged(before)
