"""Read-only people see no forms, and no one is offered an action that leads nowhere (issue 16):
the leading-group member takes the round's ranking as a plain download link, not through the
forms that start a long export; a county officer sees an edit link only beside the departments
he may edit. The browser crawl of every page is tests/browser/test_every_role_on_a_phone.py."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from civicmark.accounts import authz
from civicmark.results.models import ExportJob
from tests.factories import person

MENU_FORMS = ("/i18n/setlang/", "/accounts/logout/")


def post_forms(html: str) -> list[str]:
    """The action of every POST form on the page beside the menu's (language, sign-out)."""
    forms = re.findall(r"<form\b[^>]*>", html)
    actions = [
        (re.search(r'action="([^"]*)"', f) or re.search(r"()", f)).group(1)  # type: ignore[union-attr]
        for f in forms
        if re.search(r'method="post"', f, re.I)
    ]
    return [a for a in actions if not a.startswith(MENU_FORMS)]


def test_it_knows_who_only_watches(world):
    assert authz.is_read_only(world.users["viewer"])
    for name in ("city_admin", "town_officer", "community_staff", "assessor"):
        assert not authz.is_read_only(world.users[name]), name
    assert not authz.is_read_only(world.users["nobody"])  # no role: nothing to watch either
    both = person("both", "viewer", world.d["K1"])
    both.roles.create(role="assessor", division=world.d["K1"], department=world.dept["K1PSB"])
    authz.forget_grants(both)
    assert not authz.is_read_only(both)


def test_it_offers_a_viewer_the_ranking_as_a_link_not_a_form(scoring, world, client_for):
    url = reverse("ranking", args=["c", 2])
    with translation.override("en"):
        page = client_for(world.users["viewer"]).get(url).content.decode()
    assert post_forms(page) == []
    assert 'data-testid="ranking-all-xlsx"' in page
    assert 'href="?all=1&amp;format=xlsx"' in page
    # The link downloads without starting a job.
    response = client_for(world.users["viewer"]).get(url, {"all": "1", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert not ExportJob.objects.exists()


def test_it_still_offers_the_city_the_long_exports(scoring, world, client_for):
    page = client_for(world.users["city_admin"]).get(reverse("ranking", args=["c", 2]))
    export = reverse("round_export", args=["c", 2])
    assert post_forms(page.content.decode()) == [export, export]
    assert 'data-testid="ranking-all-xlsx"' not in page.content.decode()


def test_it_refuses_a_long_export_a_viewer_crafts_and_writes_nothing(scoring, world, client_for):
    from civicmark.core.models import AuditEvent

    client = client_for(world.users["viewer"])
    events = AuditEvent.objects.count()
    for kind in ("summary-xlsx", "summary-pdf"):
        response = client.post(reverse("round_export", args=["c", 2]), {"kind": kind})
        assert response.status_code == 404, kind
    assert not ExportJob.objects.exists()
    assert AuditEvent.objects.count() == events


def test_it_refuses_a_viewer_s_export_in_the_service_too(scoring, world):
    from civicmark.core.errors import NotAllowed
    from civicmark.core.models import AuditEvent
    from civicmark.results import jobs

    with pytest.raises(NotAllowed):
        jobs.start(
            actor=world.users["viewer"],
            kind="summary-xlsx",
            campaign=scoring["campaign"],
            round_number=2,
            params={},
        )
    assert not ExportJob.objects.exists()
    assert not AuditEvent.objects.filter(action="report.requested").exists()


def test_it_links_a_county_officer_only_to_the_departments_he_may_edit(world, client_for):
    client = client_for(world.users["county_officer"])
    page = client.get(reverse("department_list")).content.decode()
    # He sees the city's department (FP) and his county's (K1PSB); he edits only his county's.
    assert "Family Planning" in page and "K1 Public Security" in page
    edits = re.findall(r'href="/departments/([^/"]+)/edit/"', page)
    assert edits == ["K1PSB"]
    assert client.get(reverse("department_edit", args=["K1PSB"])).status_code == 200
    assert client.get(reverse("department_edit", args=["FP"])).status_code == 404
