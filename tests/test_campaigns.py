"""Campaigns: the plan's steps as phases and tasks, cascading dates, overdue work, meetings."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from civicmark.campaigns import selectors
from civicmark.campaigns.models import Attendance, Campaign, Phase, Task, TaskStatus
from civicmark.campaigns.services import (
    attendance_record,
    campaign_create,
    meeting_create,
    phase_set_due,
    task_update,
)
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.standards import formats
from civicmark.standards.services import standard_import

from .test_authz_matrix import PERSONAS
from .test_standards import default_yaml

STEPS = ["team_up", "mobilise", "pilot", "start", "training", "acceptance"]


@pytest.fixture
def campaign(world, city):
    standard, _ = standard_import(
        actor=None, data=formats.from_yaml(default_yaml()), division=city, publish=True
    )
    return campaign_create(
        actor=world.users["county_officer"],
        slug="k1-2026",
        name="K1 2026",
        year=2026,
        division=world.d["K1"],
        standard=standard,
        pilots=["C111"],
    )


def test_it_lays_out_the_six_steps_with_the_plans_dates(campaign):
    phases = {p.key: p for p in campaign.phases.all()}
    assert list(phases) == STEPS
    assert phases["team_up"].due_on == date(2026, 5, 15)
    assert phases["pilot"].due_on == date(2026, 5, 29)
    assert phases["start"].due_on == date(2026, 6, 30)
    assert phases["acceptance"].due_on == date(2026, 7, 15)
    assert [r.number for r in campaign.rounds.all()] == [1, 2, 3]
    assert [r.level for r in campaign.rounds.all()] == ["county", "city", "city"]
    assert campaign.rounds.get(number=3).opens_on.month == 11


def test_it_gives_each_unit_its_tasks(campaign, world):
    def units(key):  # noqa: ANN001, ANN202
        return sorted(
            campaign.tasks.filter(phase__key=key).values_list("division__code", flat=True)
        )

    assert units("team_up") == ["K1", "T11", "T12"]
    # The pilot community, its town's and county's offices (not the other town's).
    assert units("pilot") == ["C111", "K1", "K1", "T11"]
    # The work in full (the pilot is already under way) and every community's self-assessment.
    assert units("start") == ["C111", "C112", "C112", "C121", "C121"]
    assert units("acceptance") == ["K1"]
    town_task = campaign.tasks.get(phase__key="team_up", division__code="T11")
    assert town_task.due_on == date(2026, 5, 11)  # four days before the county's deadline of 15 May


def test_the_plans_dates_as_the_plan_gives_them(campaign):
    """Issue 15, item 5: the on-the-spot meeting before 1 June; the pilot run by the county and
    town civil affairs offices before 29 May; the self-assessment due before the county round
    opens; reporting upward only after the county round is finalised."""
    tasks = campaign.tasks.select_related("phase", "division")
    county_round = campaign.rounds.get(level="county")

    pilot = [t for t in tasks if t.phase.key == "pilot"]
    assert sorted(t.division.level for t in pilot) == ["community", "county", "county", "town"]
    assert all(t.due_on < date(2026, 5, 29) for t in pilot)
    assert {t.division.code for t in pilot if t.division.level == "town"} == {"T11"}
    # The county's two tasks of the pilot step: running it, and the on-the-spot meeting.
    assert all(t.due_on < date(2026, 6, 1) for t in pilot if t.division.level == "county")
    self_assessment = [t for t in tasks if t.phase.key == "start" and t.division.code == "C111"]
    assert len(self_assessment) == 1  # the pilot community's only task of the full start
    every = [t for t in tasks if t.title == self_assessment[0].title]
    assert sorted(t.division.code for t in every) == ["C111", "C112", "C121"]
    assert all(t.due_on < county_round.opens_on for t in every)
    (report,) = [t for t in tasks if t.phase.key == "acceptance"]
    assert report.division.code == "K1"
    assert report.due_on > county_round.closes_on
    assert report.due_on <= campaign.rounds.get(number=2).opens_on  # before the city accepts


def test_moving_a_phase_moves_its_tasks_but_not_those_set_by_hand(campaign, world):
    officer = world.users["county_officer"]
    phase = campaign.phases.get(key="team_up")
    pinned = campaign.tasks.get(phase=phase, division__code="T12")
    task_update(actor=officer, task=pinned, status="open", due_on=date(2026, 5, 5))
    phase_set_due(actor=officer, phase=phase, due_on=date(2026, 5, 20))
    assert campaign.tasks.get(phase=phase, division__code="K1").due_on == date(2026, 5, 18)
    assert campaign.tasks.get(phase=phase, division__code="T11").due_on == date(2026, 5, 16)
    assert Task.objects.get(pk=pinned.pk).due_on == date(2026, 5, 5)


def test_only_the_running_office_plans_and_nothing_changes_when_refused(campaign, world):
    phase = campaign.phases.get(key="team_up")
    events = AuditEvent.objects.count()
    for persona in (
        "town_officer",
        "community_staff",
        "assessor",
        "viewer",
        "other_county_officer",
    ):
        with pytest.raises(NotAllowed):
            phase_set_due(actor=world.users[persona], phase=phase, due_on=date(2026, 6, 1))
    assert Phase.objects.get(pk=phase.pk).due_on == date(2026, 5, 15)
    assert AuditEvent.objects.count() == events
    with pytest.raises(NotAllowed):
        campaign_create(
            actor=world.users["town_officer"],
            slug="x",
            name="x",
            year=2026,
            division=world.d["K1"],
            standard=campaign.standard,
        )


def test_a_campaign_is_pinned_to_a_published_standard(campaign, world):
    from civicmark.standards.services import standard_new_draft

    draft = standard_new_draft(actor=None, standard=campaign.standard)
    with pytest.raises(ApplicationError):
        campaign_create(
            actor=None, slug="y", name="y", year=2027, division=world.d["K1"], standard=draft
        )
    assert Campaign.objects.get(pk=campaign.pk).standard.version == 1


def test_community_staff_update_their_own_tasks_only(campaign, world):
    staff = world.users["community_staff"]
    own = campaign.tasks.get(phase__key="pilot", division__code="C111")
    task_update(actor=staff, task=own, status=TaskStatus.DONE, note="材料已归档")
    assert Task.objects.get(pk=own.pk).status == TaskStatus.DONE
    other = campaign.tasks.filter(phase__key="start", division__code="C112").first()
    with pytest.raises(NotAllowed):
        task_update(actor=staff, task=other, status=TaskStatus.DONE)
    with pytest.raises(NotAllowed):
        task_update(actor=staff, task=own, status=TaskStatus.DONE, due_on=date(2026, 12, 1))
    assert Task.objects.get(pk=other.pk).status == TaskStatus.OPEN


def test_progress_figures_equal_direct_counts(campaign, world):
    today = date(2026, 6, 15)
    officer = world.users["county_officer"]
    for t in campaign.tasks.filter(phase__key="team_up"):
        task_update(actor=officer, task=t, status=TaskStatus.DONE)
    for row in selectors.progress_by_phase(officer, campaign, today):
        tasks = Task.objects.filter(phase=row["phase"])
        assert row["total"] == tasks.count()
        assert row["done"] == tasks.filter(status=TaskStatus.DONE).count()
        assert (
            row["overdue"] == tasks.exclude(status=TaskStatus.DONE).filter(due_on__lt=today).count()
        )
    for row in selectors.progress_by_town(officer, campaign, today):
        tasks = Task.objects.filter(division__path__startswith=row["town"].path)
        assert row["total"] == tasks.count()
        assert (
            row["overdue"] == tasks.exclude(status=TaskStatus.DONE).filter(due_on__lt=today).count()
        )
    town_view = selectors.progress_by_town(world.users["town_officer"], campaign, today)
    assert [r["town"].code for r in town_view] == ["T11"]


def test_attendance_rates_per_community(campaign, world):
    officer = world.users["county_officer"]
    meeting = meeting_create(
        actor=officer,
        campaign=campaign,
        kind="training",
        title="培训",
        held_on=date(2026, 7, 1),
        host=world.d["K1"],
        expected=[(world.d["C111"], "甲"), (world.d["C111"], "乙"), (world.d["C112"], "丙")],
    )
    first = Attendance.objects.get(name="甲")
    attendance_record(actor=officer, meeting=meeting, present={first.pk}, minutes="ok")
    found, total = selectors.attendance_rates(officer, campaign)
    rates = {r["community"]: r for r in found}
    assert total == len(found)
    assert (rates["Community 111"]["came"], rates["Community 111"]["expected"]) == (1, 2)
    assert rates["Community 112"]["percent"] == 0
    with pytest.raises(ApplicationError):
        meeting_create(
            actor=officer,
            campaign=campaign,
            kind="training",
            title="x",
            held_on=date(2026, 7, 1),
            host=world.d["K1"],
            expected=[(world.d["C211"], "外县")],
        )
    with pytest.raises(NotAllowed):
        attendance_record(actor=world.users["community_staff"], meeting=meeting, present=set())


@pytest.mark.parametrize("persona", PERSONAS)
def test_campaign_pages_for_every_persona(campaign, world, client_for, persona):
    client = client_for(world.users[persona])
    sees = persona != "nobody"
    ok = 200 if sees else 404
    assert client.get(reverse("campaign_overview", args=[campaign.slug])).status_code == ok
    assert client.get(reverse("task_list", args=[campaign.slug]) + "?show=all").status_code == ok
    checklist = client.get(reverse("community_checklist", args=[campaign.slug, "C112"]))
    sees_c112 = persona in ("city_admin", "county_officer", "town_officer", "assessor", "viewer")
    assert checklist.status_code == (200 if sees_c112 else 404)
    plans = persona in ("city_admin", "county_officer")  # the office running it, and the city above
    assert client.get(reverse("phase_edit", args=[campaign.slug, "team_up"])).status_code == (
        200 if plans else 404
    )


def test_a_town_officer_sees_only_his_towns_tasks(campaign, world, client_for):
    page = (
        client_for(world.users["town_officer"])
        .get(reverse("task_list", args=[campaign.slug]) + "?show=all")
        .content.decode()
    )
    assert "Community 111" in page and "Town 11" in page
    assert "Community 121" not in page and "Town 12" not in page


def test_the_command_creates_a_campaign(world, city):
    standard_import(actor=None, data=formats.from_yaml(default_yaml()), division=city, publish=True)
    out = StringIO()
    call_command(
        "campaign",
        "create",
        "--slug",
        "k2",
        "--name",
        "K2",
        "--year",
        "2026",
        "--standard",
        "demonstration-community",
        "--division",
        "K2",
        stdout=out,
    )
    assert "1 communities, 6 phases" in out.getvalue()
    with pytest.raises(CommandError):
        call_command(
            "campaign",
            "create",
            "--slug",
            "k3",
            "--name",
            "K3",
            "--year",
            "2026",
            "--standard",
            "demonstration-community",
            "--division",
            "K1",
            "--communities",
            "C211",
            stderr=StringIO(),
        )


def test_overdue_is_marked_everywhere(campaign, world, client_for):
    Task.objects.update(due_on=date.today() + timedelta(days=30))
    Task.objects.filter(phase__key="team_up").update(due_on=date.today() - timedelta(days=1))
    client = client_for(world.users["county_officer"])
    overview = client.get(reverse("campaign_overview", args=[campaign.slug])).content.decode()
    assert "text-danger fw-bold" in overview
    tasks = client.get(
        reverse("task_list", args=[campaign.slug]) + "?show=overdue"
    ).content.decode()
    assert tasks.count('data-overdue="1"') == 3


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_task_takes_attachments_checked_by_content_and_serves_them_only_in_scope(
    campaign, world, client_for
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    task = campaign.tasks.get(phase__key="pilot", division__code="C111")
    url = reverse("task_attach", args=[campaign.slug, task.public_id])
    staff = client_for(world.users["community_staff"])
    staff.post(url, {"file": SimpleUploadedFile("../../台账.pdf", PDF)})
    attachment = task.attachments.get()
    assert attachment.name == "台账.pdf" and len(attachment.sha256) == 64
    assert ".." not in attachment.path and attachment.path.startswith("tasks/")
    for name, data in (
        ("x.pdf", b"<html><script>alert(1)</script>"),
        ("pic.png", PDF),
        ("page.html", b"<html></html>"),
    ):
        staff.post(url, {"file": SimpleUploadedFile(name, data)})
    assert task.attachments.count() == 1  # a disguised or foreign type is refused
    file_url = reverse("task_file", args=[campaign.slug, task.public_id, attachment.public_id])
    response = staff.get(file_url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(action="task.attached").count() == 1
    outsider = client_for(world.users["other_staff"])
    assert outsider.get(file_url).status_code == 404
    assert outsider.post(url, {"file": SimpleUploadedFile("y.pdf", PDF)}).status_code == 404
    assert task.attachments.count() == 1


def test_the_owner_must_be_someone_in_reach(campaign, world, client_for):
    task = campaign.tasks.get(phase__key="team_up", division__code="T11")
    client = client_for(world.users["town_officer"])
    url = reverse("task_assign", args=[campaign.slug, task.public_id])
    client.post(url, {"owner": str(world.users["other_staff"].public_id)})
    assert Task.objects.get(pk=task.pk).owner is None
    client.post(url, {"owner": str(world.users["community_staff"].public_id)})
    assert Task.objects.get(pk=task.pk).owner == world.users["community_staff"]


def test_a_town_officer_records_a_training_session_from_the_page(campaign, world, client_for):
    client = client_for(world.users["town_officer"])
    url = reverse("meeting_list", args=[campaign.slug])
    bad = client.post(
        url,
        {
            "kind": "training",
            "title": "培训",
            "held_on": "2026-07-01",
            "host": "T11",
            "expected": "C111 王主任\nC211 外县\nC112",
        },
    )
    assert bad.status_code == 200 and not campaign.meetings.exists()
    ok = client.post(
        url,
        {
            "kind": "training",
            "title": "培训",
            "held_on": "2026-07-01",
            "host": "T11",
            "expected": "C111 王主任\nC112 李专干",
        },
    )
    assert ok.status_code == 302
    meeting = campaign.meetings.get()
    assert meeting.attendance.count() == 2
    assert (
        client_for(world.users["community_staff"]).post(url, {"kind": "training"}).status_code
        == 404
    )


def test_a_county_officer_starts_a_campaign_from_the_page(world, city, client_for):
    standard, _ = standard_import(
        actor=None, data=formats.from_yaml(default_yaml()), division=city, publish=True
    )
    client = client_for(world.users["county_officer"])
    page = client.get(reverse("campaign_list")).content.decode()
    assert 'name="slug"' in page
    response = client.post(
        reverse("campaign_list"),
        {
            "name": "K1 2027",
            "slug": "k1-2027",
            "year": 2027,
            "division": "K1",
            "standard": str(standard.public_id),
            "pilots": ["C112"],
        },
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get(slug="k1-2027")
    assert list(
        campaign.enrollments.filter(is_pilot=True).values_list("community__code", flat=True)
    ) == ["C112"]
    refused = client.post(
        reverse("campaign_list"),
        {
            "name": "K2",
            "slug": "k2-2027",
            "year": 2027,
            "division": "K2",
            "standard": str(standard.public_id),
        },
    )
    assert refused.status_code == 200 and not Campaign.objects.filter(slug="k2-2027").exists()
    assert (
        client_for(world.users["town_officer"])
        .post(reverse("campaign_list"), {"name": "x"})
        .status_code
        == 404
    )


def test_the_overview_names_the_most_overdue_and_counts_the_rest(
    campaign, world, client_for, monkeypatch
):
    """A province's overview would list ten thousand communities: it names the SHOWN with the
    most overdue tasks, says how many there are, and costs the same queries however many."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from civicmark.campaigns import progress, selectors

    officer = world.users["county_officer"]
    Task.objects.update(due_on=date.today() + timedelta(days=30))
    late = Task.objects.filter(division__code="C112")
    late.update(due_on=date.today() - timedelta(days=1))
    rows, total = selectors.progress_by_community(officer, campaign, date.today(), limit=1)
    assert [r["community"].code for r in rows] == ["C112"]
    assert rows[0]["overdue"] == late.count() and total == campaign.enrollments.count() > 1
    monkeypatch.setattr(progress, "SHOWN", 1)
    progress.take(campaign)  # the county officer sees the whole campaign: served its snapshot
    client = client_for(officer)
    url = reverse("campaign_overview", args=[campaign.slug])
    with CaptureQueriesContext(connection) as few:
        page = client.get(url).content.decode()
    assert 'data-testid="communities-more"' in page and "Community 112" in page
    community_rows = page.split('data-testid="community-progress"')[1].split("</table>")[0]
    assert "Community 111" not in community_rows
    Task.objects.update(due_on=date.today() - timedelta(days=1))  # everything overdue now
    progress.take(campaign)  # a bulk update writes no audit event: the refresh, by hand
    with CaptureQueriesContext(connection) as more:
        client.get(url)
    assert len(few) == len(more)


def test_meeting_hosts_are_what_the_group_predicate_allows(campaign, world):
    """The host list is asked of the database; it must be what `can_manage_groups` says of every
    division under the campaign, for every persona."""
    from civicmark.accounts import authz
    from civicmark.campaigns.views import _meeting_hosts

    for user in world.users.values():
        under = authz.divisions_for_user(user).filter(path__startswith=campaign.division.path)
        expected = {d.pk for d in under if authz.can_manage_groups(user, d)}
        assert set(_meeting_hosts(user, campaign).values_list("pk", flat=True)) == expected, user


def test_pilots_are_typed_as_codes_and_an_unknown_one_is_named(world, city, client_for):
    standard, _ = standard_import(
        actor=None, data=formats.from_yaml(default_yaml()), division=city, publish=True
    )
    client = client_for(world.users["county_officer"])
    form = {
        "name": "K1 2028",
        "slug": "k1-2028",
        "year": 2028,
        "division": "K1",
        "standard": str(standard.public_id),
    }
    page = client.post(reverse("campaign_list"), form | {"pilots": "C111, C211 X9"})
    assert page.status_code == 200 and not Campaign.objects.filter(slug="k1-2028").exists()
    assert "C211" in page.content.decode() and "X9" in page.content.decode()  # not his to see
    assert client.post(reverse("campaign_list"), form | {"pilots": "C111\nC112"}).status_code == 302
    pilots = Campaign.objects.get(slug="k1-2028").enrollments.filter(is_pilot=True)
    assert set(pilots.values_list("community__code", flat=True)) == {"C111", "C112"}


def test_the_task_list_comes_a_page_at_a_time_and_keeps_its_filter(
    campaign, world, client_for, monkeypatch
):
    """Tasks were cut off at 500 without a word; now every one is reachable, a page at a time."""
    from civicmark.campaigns import views

    monkeypatch.setattr(views, "TASKS_PAGE", 2)
    client = client_for(world.users["county_officer"])
    url = reverse("task_list", args=[campaign.slug])
    visible = Task.objects.filter(campaign=campaign).count()
    assert visible > 2
    seen = 0
    for n in range(1, (visible + 1) // 2 + 1):
        page = client.get(url, {"show": "all", "page": n}).content.decode()
        seen += page.split("<tbody>")[1].split("</tbody>")[0].count("<tr")
        if n == 1:
            assert "show=all" in page and "page=2" in page  # the pager keeps the filter
    assert seen == visible
