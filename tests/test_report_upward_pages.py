"""The pages of the reports to the city (ADR 25): who sees them (the county and the city, and
nobody else: 404), the form that reports (what was typed shown back after an error), and the
downloads, served as stored and only while they are the files recorded."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from civicmark.assessments.workflow import State
from civicmark.core.models import AuditEvent
from civicmark.results.models import UpwardReport
from tests.factories import person, report_upward
from tests.test_report_upward import STATEMENT, nothing_changed, pre_accepted, status

# Who reads County One's reports (its county officer, the city above it, a superuser); everyone
# else gets 404 for the report and its files.
READS_K1 = {"city_admin", "county_officer", "admin"}
# Whose the page of reports is (the county officers and the city in the campaign's area).
SEES_PAGE = READS_K1 | {"other_county_officer"}
PERSONAS = [
    "admin",
    "city_admin",
    "county_officer",
    "other_county_officer",
    "town_officer",
    "other_town_officer",
    "community_staff",
    "other_staff",
    "assessor",
    "viewer",
    "nobody",
]


def ticked(code, page):  # noqa: ANN001, ANN201
    return re.search(rf'<input[^>]*value="{code}"[^>]*checked', page)


@pytest.fixture
def made(scoring, world):  # noqa: ANN001, ANN201
    world.users["admin"] = person("admin", is_superuser=True, is_staff=True)
    pre_accepted(scoring, ["C111", "C112", "C121"])
    return report_upward(scoring, world.users["county_officer"], ["C111", "C112"])


def urls(report):  # noqa: ANN001, ANN201
    base = ("c", report.public_id)
    return {
        "report": reverse("upward_report", args=base),
        "pdf": reverse("upward_report_file", args=[*base, "pdf"]),
        "xlsx": reverse("upward_report_file", args=[*base, "xlsx"]),
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_county_and_the_city_read_the_report_and_nobody_else(made, world, client_for, persona):
    client = client_for(world.users[persona])
    page = client.get(reverse("upward_reports", args=["c"]))
    assert page.status_code == (200 if persona in SEES_PAGE else 404)
    if persona in SEES_PAGE:
        listed = page.content.decode().count('data-testid="upward-report"')
        assert listed == (1 if persona in READS_K1 else 0)  # another county's is not his
    for name, url in urls(made).items():
        response = client.get(url)
        assert response.status_code == (200 if persona in READS_K1 else 404), name
        if persona in READS_K1 and name != "report":
            document = made.files.get(kind=name)
            assert hashlib.sha256(response.content).hexdigest() == document.sha256
            assert response["Content-Disposition"].startswith("attachment;")


def test_the_tab_shows_where_the_page_is_the_persons(made, world, client_for):
    overview = reverse("campaign_overview", args=["c"])
    link = reverse("upward_reports", args=["c"])
    assert link in client_for(world.users["county_officer"]).get(overview).content.decode()
    assert link not in client_for(world.users["town_officer"]).get(overview).content.decode()


def test_an_unknown_kind_of_file_or_report_is_404(made, world, client_for):
    client = client_for(world.users["county_officer"])
    assert (
        client.get(reverse("upward_report_file", args=["c", made.public_id, "doc"])).status_code
        == 404
    )
    other = reverse("upward_report", args=["c", "00000000-0000-0000-0000-000000000000"])
    assert client.get(other).status_code == 404


def test_a_stored_file_changed_since_is_not_served(made, world, client_for):
    document = made.files.get(kind="pdf")
    default_storage.delete(document.path)
    default_storage.save(document.path, ContentFile(b"%PDF-1.4 forged"))
    response = client_for(world.users["city_admin"]).get(urls(made)["pdf"])
    assert response.status_code == 409
    assert 'data-testid="file-damaged"' in response.content.decode()


def test_the_county_reports_from_the_page_with_its_statement(scoring, world, client_for):
    pre_accepted(scoring, ["C111", "C112", "C121"])
    client = client_for(world.users["county_officer"])
    url = reverse("upward_reports", args=["c"])
    page = client.get(url).content.decode()
    assert page.count('name="communities"') == 3 and 'id="report-K1"' in page
    assert "County One" in page  # the form names the county it reports for
    assert all(ticked(c, page) for c in ("C111", "C112", "C121"))  # all ticked at first
    response = client.post(
        url, {"county": "K1", "communities": ["C111", "C121"], "statement": STATEMENT}
    )
    report = UpwardReport.objects.get()
    assert response.status_code == 302 and response["Location"] == urls(report)["report"]
    assert list(report.lines.values_list("code", flat=True)) == ["C111", "C121"]
    assert report.statement == STATEMENT and report.reported_by == world.users["county_officer"]
    assert status(scoring, "C112") == State.COUNTY_PRE_ACCEPTED  # unticked, still waiting
    detail = client.get(response["Location"]).content.decode()
    assert "现予上报，请组织验收。" in detail and report.files.get(kind="pdf").sha256 in detail


@pytest.mark.parametrize(
    ("posted", "error"),
    [
        ({"communities": ["C111"], "statement": "   "}, "statement-error"),
        ({"communities": ["C111"], "statement": "报" * 2001}, "statement-error"),
        ({"communities": ["C111"], "statement": "上报 👍"}, "statement-error"),
        ({"statement": STATEMENT}, "communities-error"),
        ({"communities": ["C211"], "statement": STATEMENT}, "communities-error"),
    ],
)
def test_a_refused_report_shows_back_what_was_typed_and_changes_nothing(
    scoring, world, client_for, posted, error
):
    pre_accepted(scoring, ["C111", "C112"])
    events = AuditEvent.objects.count()
    client = client_for(world.users["county_officer"])
    response = client.post(reverse("upward_reports", args=["c"]), {"county": "K1", **posted})
    page = response.content.decode()
    assert response.status_code == 422 and f'data-testid="{error}"' in page
    if posted.get("statement", "").strip():
        assert posted["statement"][:50] in page  # the statement as typed
    # The ticks as posted: C111 ticked (when it was), C112 not.
    assert bool(ticked("C111", page)) == ("C111" in posted.get("communities", []))
    assert not ticked("C112", page)
    nothing_changed(scoring, ["C111", "C112"], events)


def test_a_refused_step_names_the_community_and_keeps_the_statement(scoring, world, client_for):
    """A community its officer is tied to (he runs its town too) is not his to report."""
    from civicmark.accounts.models import RoleAssignment

    pre_accepted(scoring, ["C111", "C112"])
    officer = world.users["county_officer"]
    RoleAssignment.objects.create(user=officer, role="town_officer", division=world.d["T11"])
    events = AuditEvent.objects.count()
    response = client_for(officer).post(
        reverse("upward_reports", args=["c"]),
        {"county": "K1", "communities": ["C111", "C112"], "statement": STATEMENT},
    )
    page = response.content.decode()
    assert response.status_code == 422 and 'data-testid="refusals"' in page
    assert "Community 111" in page and STATEMENT.splitlines()[0] in page
    nothing_changed(scoring, ["C111", "C112"], events)


@pytest.mark.parametrize(
    "persona", ["city_admin", "other_county_officer", "town_officer", "community_staff", "nobody"]
)
def test_nobody_but_the_countys_officer_reports_from_the_page(scoring, world, client_for, persona):
    pre_accepted(scoring, ["C111"])
    events = AuditEvent.objects.count()
    response = client_for(world.users[persona]).post(
        reverse("upward_reports", args=["c"]),
        {"county": "K1", "communities": ["C111"], "statement": STATEMENT},
    )
    assert response.status_code == 404
    nothing_changed(scoring, ["C111"], events)


def test_the_failed_documents_are_made_again_from_the_page(made, world, client_for):
    made.files.all().delete()
    UpwardReport.objects.filter(pk=made.pk).update(documents="failed", failure="OSError: disk")
    client = client_for(world.users["city_admin"])
    page = client.get(urls(made)["report"]).content.decode()
    assert 'data-testid="documents-failed"' in page and "OSError: disk" in page
    assert client.get(urls(made)["pdf"]).status_code == 404
    rebuild = reverse("upward_report_rebuild", args=["c", made.public_id])
    assert client_for(world.users["town_officer"]).post(rebuild).status_code == 404
    assert not made.files.exists()
    response = client_for(world.users["city_admin"]).post(rebuild)
    assert response.status_code == 302
    made.refresh_from_db()
    assert made.documents == "ready" and made.files.count() == 2
    assert AuditEvent.objects.filter(action="upward.rebuilt").count() == 1


def test_the_demo_holds_the_countys_report_which_the_county_and_the_city_download(demo, client_for):
    from civicmark.accounts.models import User

    report = UpwardReport.objects.get(campaign=demo)
    assert report.documents == "ready" and report.county_name == "安平县"
    assert report.reporter_name == "李秀英" and report.lines.count() == 6
    assert set(report.lines.values_list("outcome", flat=True)) == {"standard_unit"}
    for name in ("county", "city"):
        client = client_for(User.objects.get(username=name))
        assert client.get(reverse("upward_reports", args=[demo.slug])).status_code == 200
        pdf = client.get(reverse("upward_report_file", args=[demo.slug, report.public_id, "pdf"]))
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    for name in ("town", "community", "viewer", "assessor"):
        client = client_for(User.objects.get(username=name))
        assert (
            client.get(reverse("upward_report", args=[demo.slug, report.public_id])).status_code
            == 404
        )
