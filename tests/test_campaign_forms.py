"""Issue 16 item 3 on the campaign, result and standard pages: a task's status and note, its
owner, a meeting's attendance and minutes, a certificate's revocation, a round's export and a
standard's import are Django forms. A refusal answers with the error beside its field and every
typed value shown back, changes nothing and writes no event; malformed input (unknown choices,
bad ids, NUL, huge text) is a message, never a server error."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from civicmark.campaigns.forms import MINUTES_MAX, NOTE_MAX
from civicmark.campaigns.models import Attendance, Meeting, Task, TaskStatus
from civicmark.campaigns.services import campaign_create, meeting_create
from civicmark.core.models import AuditEvent
from civicmark.standards import formats
from civicmark.standards.models import Standard
from civicmark.standards.services import standard_data, standard_import
from tests.factories import person
from tests.test_standards import default_yaml

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for(client_for, settings):  # noqa: ANN001, ANN201
    """Signed in and reading in English: the messages asserted are the English ones."""

    def login(user):  # noqa: ANN001, ANN202
        signed_in = client_for(user)
        signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return signed_in

    return login


@pytest.fixture
def standard(city):  # noqa: ANN001, ANN201
    return standard_import(
        actor=None, data=formats.from_yaml(default_yaml()), division=city, publish=True
    )[0]


@pytest.fixture
def campaign(world, standard):  # noqa: ANN001, ANN201
    return campaign_create(
        actor=world.users["county_officer"],
        slug="k1-2026",
        name="K1 2026",
        year=2026,
        division=world.d["K1"],
        standard=standard,
    )


@pytest.fixture
def task(campaign):  # noqa: ANN001, ANN201
    return campaign.tasks.filter(division__code="T11", follows="").first()


def _unchanged(model, before: int, events: int) -> None:  # noqa: ANN001
    assert model.objects.count() == before
    assert AuditEvent.objects.count() == events


# -- a task's status and note ---------------------------------------------------------------------


def test_a_refused_task_update_keeps_the_typed_note_beside_the_error(
    campaign, task, world, client_for
):
    events = AuditEvent.objects.count()
    before = (task.status, task.note)
    url = reverse("task_update", args=[campaign.slug, task.public_id])
    officer = client_for(world.users["town_officer"])
    for typed, field in (
        ({"status": "burnt", "note": "Typed note 一"}, "status"),
        ({"status": "done", "note": "x" * (NOTE_MAX + 1)}, "note"),
        ({"status": "done", "note": "NUL\x00here"}, "note"),
        ({"status": "", "note": "Typed note 二"}, "status"),
    ):
        response = officer.post(url, typed)
        assert response.status_code == 200, typed
        form = response.context["form"]
        assert list(form.errors) == [field], typed
        html = response.content.decode()
        if "\x00" not in typed["note"]:
            assert typed["note"] in html  # the typed note is back in its box
    task.refresh_from_db()
    assert (task.status, task.note) == before
    assert AuditEvent.objects.count() == events


def test_a_task_row_returns_to_its_list_and_never_to_another_site(
    campaign, task, world, client_for
):
    officer = client_for(world.users["town_officer"])
    url = reverse("task_update", args=[campaign.slug, task.public_id])
    back = f"/campaigns/{campaign.slug}/tasks/?show=all"
    response = officer.post(url, {"status": "done", "note": "ok", "back": back})
    assert response.status_code == 302 and response["Location"] == back
    response = officer.post(url, {"status": "done", "note": "kept", "back": "/campaigns/\x00"})
    assert response.status_code == 200 and "Null characters" in response.content.decode()
    assert "kept</textarea>" in response.content.decode()  # the typed note is back
    for elsewhere in ("https://evil.example/", "//evil.example/", "/campaigns/other/tasks/"):
        response = officer.post(url, {"status": "in_progress", "note": "ok", "back": elsewhere})
        assert response["Location"] == f"/campaigns/{campaign.slug}/tasks/", elsewhere
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS
    # A form without the note box leaves the note as it was.
    officer.post(url, {"status": "done"})
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.note == "ok"


# -- a task's owner, by name ------------------------------------------------------------------------


def test_a_task_owner_is_chosen_by_name_or_account_name(campaign, task, world, client_for):
    officer = client_for(world.users["town_officer"])
    url = reverse("task_assign", args=[campaign.slug, task.public_id])
    staff = world.users["community_staff"]
    staff.full_name = "王小明"
    staff.save(update_fields=["full_name"])
    assert officer.post(url, {"owner": "王小明"}).status_code == 302
    assert Task.objects.get(pk=task.pk).owner == staff
    officer.post(url, {"owner": ""})
    assert Task.objects.get(pk=task.pk).owner is None
    officer.post(url, {"owner": "community_staff"})
    assert Task.objects.get(pk=task.pk).owner == staff
    page = officer.get(reverse("task_update", args=[campaign.slug, task.public_id]))
    page = page.content.decode()
    assert 'value="王小明 (community_staff)"' in page  # the owner shown as a name


def test_a_refused_owner_is_shown_back_beside_the_box_and_nothing_changes(
    campaign, task, world, client_for
):
    for key in ("other_staff", "community_staff"):
        world.users[key].full_name = "李华"
        world.users[key].save(update_fields=["full_name"])
    twin = person("lihua2", "community_staff", world.d["C112"])
    twin.full_name = "李华"
    twin.save(update_fields=["full_name"])
    officer = client_for(world.users["town_officer"])
    url = reverse("task_assign", args=[campaign.slug, task.public_id])
    events = AuditEvent.objects.count()
    response = officer.post(url, {"owner": "李华"})  # two in reach share it
    html = response.content.decode()
    assert response.status_code == 200
    assert "names several" in html and "lihua2" in html and "other_staff" not in html
    assert 'value="李华"' in html
    response = officer.post(url, {"owner": "other_staff"})  # another county's: not found
    assert "Nothing you can see is named or coded" in response.content.decode()
    assert 'value="other_staff"' in response.content.decode()
    for typed in ("\x00", "x" * 5000, str(world.users["other_staff"].public_id)):
        assert officer.post(url, {"owner": typed}).status_code == 200
    assert Task.objects.get(pk=task.pk).owner is None and twin.pk
    assert AuditEvent.objects.count() == events


# -- a meeting's attendance --------------------------------------------------------------------------


@pytest.fixture
def meeting(campaign, world):  # noqa: ANN001, ANN201
    return meeting_create(
        actor=world.users["county_officer"],
        campaign=campaign,
        kind="training",
        title="培训",
        held_on=date(2026, 7, 1),
        host=world.d["K1"],
        expected=[(world.d["C111"], "甲"), (world.d["C112"], "丙")],
    )


def test_refused_attendance_keeps_the_ticks_and_the_minutes(meeting, campaign, world, client_for):
    officer = client_for(world.users["county_officer"])
    url = reverse("meeting_detail", args=[campaign.slug, meeting.public_id])
    first = Attendance.objects.get(name="甲")
    events = AuditEvent.objects.count()
    for present, minutes, field in (
        ([str(first.pk), "abc"], "Typed minutes", "present"),
        ([str(first.pk), "99999"], "Typed minutes", "present"),  # another meeting's or none
        ([str(first.pk)], "m" * (MINUTES_MAX + 1), "minutes"),
        ([str(first.pk)], "NUL\x00", "minutes"),
    ):
        response = officer.post(url, {"present": present, "minutes": minutes})
        assert response.status_code == 200
        assert list(response.context["form"].errors) == [field]
        html = response.content.decode()
        assert f'value="{first.pk}" aria-label="甲" checked' in html  # the tick kept
        if field == "present":
            assert "Typed minutes" in html and "is not one of this meeting" in html
    assert not Attendance.objects.filter(attended=True).exists()
    assert Meeting.objects.get(pk=meeting.pk).minutes == ""
    assert AuditEvent.objects.count() == events
    response = officer.post(url, {"present": [str(first.pk)], "minutes": "ok"})
    assert response.status_code == 302
    assert list(Attendance.objects.filter(attended=True)) == [first]


# -- certificates and a round's export ---------------------------------------------------------------


@pytest.fixture
def certificate(scoring, world):  # noqa: ANN001, ANN201
    from civicmark.results.models import Certificate

    return Certificate.objects.create(
        enrollment=scoring["enrollments"]["C111"],
        round=scoring["round"],
        level="standard",
        total=Decimal("85"),
        awarded_on=date(2026, 7, 20),
    )


def test_an_unknown_certificate_action_is_refused_not_read_as_issue(
    scoring, certificate, world, client_for
):
    # The finding: any action but "revoke" issued the round's certificates.
    from civicmark.results.models import Certificate

    client = client_for(person("lead", "city_admin", world.d["C"]))
    url = reverse("certificates", args=[scoring["campaign"].slug, 2])
    events = AuditEvent.objects.count()
    for action in ("burn", "", "revoke\x00", "x" * 3000):
        response = client.post(url, {"action": action})
        assert response.status_code == 200, action
        assert "action" in response.context["form"].errors
        assert 'data-testid="certificate-error"' in response.content.decode()  # shown
    _unchanged(Certificate, 1, events)


def test_a_refused_revocation_keeps_its_typed_reason_beside_the_error(
    scoring, certificate, world, client_for
):
    client = client_for(person("lead", "city_admin", world.d["C"]))
    url = reverse("certificates", args=[scoring["campaign"].slug, 2])
    events = AuditEvent.objects.count()
    cases = (
        ({"id": str(certificate.public_id), "reason": "  "}, "Say why"),
        ({"id": str(certificate.public_id), "reason": "r" * 2001}, "at most 2000"),
        ({"id": "not-a-uuid", "reason": "Typed reason"}, "Choose a certificate"),
        ({"id": "00000000-0000-0000-0000-000000000001", "reason": "Typed"}, "Choose a certificate"),
    )
    for typed, message in cases:
        response = client.post(url, {"action": "revoke", **typed})
        html = response.content.decode()
        assert response.status_code == 200 and message in html, typed
    response = client.post(
        url, {"action": "revoke", "id": str(certificate.public_id), "reason": "r" * 2001}
    )
    assert 'data-testid="reason-error"' in response.content.decode()
    assert 'value="' + "r" * 2001 + '"' in response.content.decode()
    certificate.refresh_from_db()
    assert certificate.stands and AuditEvent.objects.count() == events
    client.post(url, {"action": "revoke", "id": str(certificate.public_id), "reason": "造假"})
    certificate.refresh_from_db()
    assert not certificate.stands and certificate.revoked_reason == "造假"


def test_an_unknown_export_kind_is_a_message_not_an_export(scoring, world, client_for):
    from civicmark.results.models import ExportJob

    client = client_for(person("lead", "city_admin", world.d["C"]))
    url = reverse("round_export", args=[scoring["campaign"].slug, 2])
    for kind in ("summary-doc", "", "summary-pdf\x00", "k" * 5000):
        response = client.post(url, {"kind": kind}, follow=True)
        assert response.status_code == 200
        assert "is no export of a round" in response.content.decode() or "required" in (
            response.content.decode()
        )
    assert not ExportJob.objects.exists()


# -- a standard's import -----------------------------------------------------------------------------


def test_a_standard_imported_with_publish_false_stays_a_draft(standard, world, client_for):
    # The finding: "publish" was read as any non-empty text, so "false" published it (a box
    # left unticked sends nothing; "false" is what a script or an older form sends).
    client = client_for(world.users["city_admin"])
    text = formats.to_yaml(standard_data(standard)).replace(standard.slug, "draft-one", 1)
    for typed in ("false", ""):
        upload = SimpleUploadedFile("std.yaml", text.encode(), "application/yaml")
        client.post(reverse("standard_import"), {"file": upload, "publish": typed})
    imported = Standard.objects.get(slug="draft-one")
    assert imported.status == "draft"
    upload = SimpleUploadedFile("std.yaml", text.encode(), "application/yaml")
    client.post(reverse("standard_import"), {"file": upload, "publish": "on"})
    assert Standard.objects.get(pk=imported.pk).status == "published"


def test_a_refused_attachment_is_told_beside_the_file_box_and_nothing_is_kept(
    campaign, task, world, client_for
):
    """The task's attach form is a Django form (issue 16's leftovers, item 2): no file, or a
    file that is not what it claims, answers 422 with the error beside the box; nothing kept."""
    url = reverse("task_attach", args=[campaign.slug, task.public_id])
    staff = client_for(world.users["town_officer"])
    events = AuditEvent.objects.count()
    for data in ({}, {"file": SimpleUploadedFile("x.pdf", b"<html><script>")}):
        response = staff.post(url, data)
        assert response.status_code == 422, data
        page = response.content.decode()
        assert 'data-testid="attach-error"' in page
        assert page.index('name="file"') < page.index('data-testid="attach-error"')
    assert "Choose a file to attach." in staff.post(url, {}).content.decode()
    assert not task.attachments.exists()
    assert AuditEvent.objects.count() == events
