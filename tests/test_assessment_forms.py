"""Every POST of the assessments app reads a Django form (issue 16, "no typed word lost"): the
workflow step, a round's sign-off, a rectification's status and its document, the evidence
upload, the town's review with its per-item notes, the commendation list, the veto control and
the card to come back to. A refusal answers with the reason beside its field, every value
typed or ticked shown back, and nothing written."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from civicmark.assessments.models import Evidence, Rectification, ReturnComment, Transition
from civicmark.assessments.services import evidence_attach
from civicmark.assessments.workflow import State
from civicmark.campaigns.models import Enrollment
from civicmark.core.models import AuditEvent
from civicmark.scoring.models import VetoFinding

pytestmark = pytest.mark.django_db

LONG = "长" * 4001  # past the 4,000 characters a comment, a note or a reason may hold


@pytest.fixture
def english(client_for, settings):  # noqa: ANN001, ANN201
    """A client signed in as the given user, reading English (the messages asserted)."""

    def login(user):  # noqa: ANN001, ANN202
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return login


def fingerprint() -> tuple[Any, ...]:
    """Every assessments, campaigns and scoring row, and the last audit event."""
    counts = tuple(
        m.objects.count()
        for m in apps.get_models()
        if m._meta.app_label in ("assessments", "campaigns", "scoring")
    )
    states = tuple(Enrollment.objects.order_by("pk").values_list("status", flat=True))
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    notes = tuple(Rectification.objects.order_by("pk").values_list("status", "note"))
    return counts, states, last, notes


def refused(response: Any, before: tuple[Any, ...]) -> str:
    assert response.status_code == 422, response.status_code
    assert fingerprint() == before, "a refusal wrote"
    return str(response.content.decode())


def beside(html: str, field_id: str) -> str:
    """The error shown beside the box with this id (its aria-describedby target)."""
    box = re.search(rf'<[^>]*\sid="{re.escape(field_id)}"[^>]*>', html)
    assert box, f"no box {field_id}"
    described = re.search(r'aria-describedby="([^"]+)"', box.group(0))
    assert described, f"{field_id} has no error beside it: {box.group(0)}"
    error = re.search(rf'\sid="{re.escape(described.group(1))}"[^>]*>([^<]*)<', html)
    assert error, described.group(1)
    return error.group(1)


# --- The workflow step on the communities page ------------------------------------------------


def test_a_refused_step_keeps_the_ticks_the_target_and_the_comment(scoring, world, english):
    s = scoring
    client = english(world.users["town_officer"])
    url = reverse("communities", args=["c"])
    to = client.get(url).context["targets"][0][0]
    ticked = str(s["enrollments"]["C111"].pk)
    before = fingerprint()
    html = refused(
        client.post(url, {"action": "move", "enrollment": [ticked], "to": to, "comment": LONG}),
        before,
    )
    assert "at most 4000" in beside(html, "comment")
    assert f'value="{LONG}"' in html
    assert f'value="{to}" selected' in html
    assert re.search(rf'value="{ticked}"[^>]*checked', html)
    untouched = str(s["enrollments"]["C112"].pk)
    assert not re.search(rf'value="{untouched}"[^>]*checked', html)


def test_a_step_with_nothing_ticked_says_so_beside_the_ticks_and_keeps_the_comment(
    scoring, world, english
):
    client = english(world.users["town_officer"])
    url = reverse("communities", args=["c"])
    to = client.get(url).context["targets"][0][0]
    before = fingerprint()
    html = refused(client.post(url, {"action": "move", "to": to, "comment": "开始自评"}), before)
    assert 'data-testid="enrollment-error"' in html and "Tick the communities" in html
    assert 'value="开始自评"' in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"enrollment": ["1x"], "to": "submitted"}, "is not one of the rows listed"),
        ({"enrollment": ["1"], "to": "nowhere"}, "Select a valid choice"),
        ({"enrollment": ["1"], "to": "submitted", "comment": "a\x00b"}, "Null characters"),
    ],
)
def test_a_malformed_step_is_refused_with_a_message_not_a_server_error(
    scoring, world, english, data, message
):
    client = english(world.users["city_admin"])
    before = fingerprint()
    html = refused(
        client.post(reverse("communities", args=["c"]), {"action": "move"} | data), before
    )
    assert message in html


# --- A round's sign-off (the campaign's page and the round's) --------------------------------


def test_a_reopen_without_a_reason_is_refused_beside_the_reason_it_kept(scoring, world, english):
    round_ = scoring["round"]
    round_.finalised_at = timezone.now()
    round_.save(update_fields=["finalised_at"])
    client = english(world.users["city_admin"])
    url = reverse("communities", args=["c"])
    before = fingerprint()
    html = refused(client.post(url, {"action": "reopen", "round": "2", "reason": "   "}), before)
    assert "Say why the round is reopened" in beside(html, "reason-2")
    html = refused(client.post(url, {"action": "reopen", "round": "2", "reason": LONG}), before)
    assert "at most 4000" in beside(html, "reason-2") and f'value="{LONG}"' in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "seal", "round": "2"}, "Choose to finalise or to reopen"),
        ({"action": "finalise", "round": "NaN"}, "NaN"),
        ({"action": "finalise", "round": "2", "county": "K9"}, "K9 is not a county"),
    ],
)
def test_a_malformed_sign_off_is_refused_with_a_message(scoring, world, english, data, message):
    client = english(world.users["city_admin"])
    before = fingerprint()
    html = refused(client.post(reverse("communities", args=["c"]), data), before)
    assert message in html


# --- Rectification ---------------------------------------------------------------------------


@pytest.fixture
def finding(scoring):  # noqa: ANN001, ANN201
    return Rectification.objects.create(
        round=scoring["round"],
        enrollment=scoring["enrollments"]["C111"],
        item=scoring["items"]["A1"],
        points_lost=2,
        reason="台账缺失",
    )


def test_a_rectification_refused_keeps_its_status_and_note(finding, world, english):
    client = english(world.users["community_staff"])
    url = reverse("rectifications", args=["c"])
    card = {"id": str(finding.public_id), "town": "", "page": "1"}
    before = fingerprint()
    html = refused(client.post(url, card | {"status": "done", "note": "   "}), before)
    assert "Say what was done" in beside(html, f"note-{finding.public_id}")
    assert 'value="done" selected' in html
    html = refused(client.post(url, card | {"status": "fixed", "note": "补齐台账"}), before)
    assert "Select a valid choice" in beside(html, f"status-{finding.public_id}")
    assert "补齐台账</textarea>" in html


def test_a_rectification_document_refused_says_so_beside_the_file(finding, world, english):
    client = english(world.users["community_staff"])
    before = fingerprint()
    response = client.post(
        reverse("rectifications", args=["c"]), {"id": str(finding.public_id), "action": "attach"}
    )
    html = refused(response, before)
    assert 'data-testid="rectification-file-error"' in html
    assert "Choose a file to upload" in html


def test_a_rectification_of_another_community_is_not_found(finding, world, english):
    client = english(world.users["other_staff"])
    before = fingerprint()
    response = client.post(
        reverse("rectifications", args=["c"]),
        {"id": str(finding.public_id), "status": "done", "note": "x"},
    )
    assert response.status_code == 404 and fingerprint() == before


# --- Evidence, the town's review ---------------------------------------------------------------


def self_url() -> str:
    return reverse("self_assessment", args=["c"]) + "?community=C111"


def test_an_evidence_upload_refused_keeps_the_items_and_the_version_chosen(scoring, world, english):
    s = scoring
    staff = world.users["community_staff"]
    earlier = evidence_attach(
        actor=staff,
        enrollment=s["enrollments"]["C111"],
        items=[s["items"]["A1"]],
        upload=SimpleUploadedFile("台账.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
    )
    client = english(staff)
    a1, b1 = str(s["items"]["A1"].pk), str(s["items"]["B1"].pk)
    before = fingerprint()
    data = {"action": "evidence", "community": "C111", "items": [a1, b1]}
    html = refused(client.post(self_url(), data | {"supersedes": str(earlier.public_id)}), before)
    assert "Choose a file to attach" in beside(html, "evidence-file")
    assert re.search(rf'value="{a1}" selected', html) and re.search(rf'value="{b1}" selected', html)
    assert f'value="{earlier.public_id}" selected' in html
    upload = SimpleUploadedFile("新版.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    html = refused(
        client.post(self_url(), data | {"supersedes": "not-a-document", "file": upload}), before
    )
    assert "Choose the document this one replaces" in beside(html, "evidence-supersedes")
    assert Evidence.objects.count() == 1


@pytest.fixture
def submitted(scoring):  # noqa: ANN001, ANN201
    Enrollment.objects.filter(pk=scoring["enrollments"]["C111"].pk).update(status=State.SUBMITTED)
    return scoring


def test_a_return_refused_keeps_the_comment_and_every_items_note(submitted, world, english):
    s = submitted
    client = english(world.users["town_officer"])
    a1, a2 = s["items"]["A1"].pk, s["items"]["A2"].pk
    before = fingerprint()
    response = client.post(
        self_url(),
        {
            "action": "return",
            "community": "C111",
            "comment": "请按意见修改",
            f"note-{a1}": "台账不全",
            f"note-{a2}": LONG,
        },
    )
    html = refused(response, before)
    assert "at most 4000" in beside(html, f"note-{a2}")
    assert 'value="请按意见修改"' in html and 'value="台账不全"' in html
    assert not ReturnComment.objects.exists()


def test_a_return_without_any_comment_is_refused_beside_the_comment(submitted, world, english):
    client = english(world.users["town_officer"])
    before = fingerprint()
    html = refused(
        client.post(self_url(), {"action": "return", "community": "C111", "comment": " "}), before
    )
    assert "a comment is required" in beside(html, "review-comment")
    assert Transition.objects.filter(to_status=State.RETURNED).count() == 0


# --- Commendation ------------------------------------------------------------------------------


def test_a_decline_without_a_comment_keeps_the_ticks_beside_its_reason(scoring, world, english):
    s = scoring
    proposed = [s["enrollments"][c].pk for c in ("C111", "C112")]
    Enrollment.objects.filter(pk__in=proposed).update(status=State.PROPOSED)
    client = english(world.users["city_admin"])
    client.get(reverse("commendation", args=["c"]))  # the stored results, read once (ADR 7)
    before = fingerprint()
    response = client.post(
        reverse("commendation", args=["c"]),
        {"action": "decline", "enrollment": [str(proposed[0])], "comment": ""},
    )
    html = refused(response, before)
    assert "a comment is required" in beside(html, "comment")
    assert re.search(rf'value="{proposed[0]}"[^>]*checked', html)
    assert not re.search(rf'value="{proposed[1]}"[^>]*checked', html)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "ignore", "enrollment": ["1"]}, "Choose what to do"),
        ({"action": "confirm"}, "Tick the communities"),
        ({"action": "confirm", "enrollment": ["²"]}, "is not one of the rows listed"),
    ],
)
def test_a_malformed_commendation_is_refused_with_a_message(scoring, world, english, data, message):
    Enrollment.objects.filter(pk=scoring["enrollments"]["C111"].pk).update(status=State.PROPOSED)
    client = english(world.users["city_admin"])
    client.get(reverse("commendation", args=["c"]))  # the stored results, read once (ADR 7)
    before = fingerprint()
    html = refused(client.post(reverse("commendation", args=["c"]), data), before)
    assert message in html


# --- The veto control, the card to come back to ------------------------------------------------


def test_a_veto_text_too_long_comes_back_beside_the_control_as_typed(scoring, english):
    client = english(scoring["assessors"][0])
    text = "发现" * 1001
    before = fingerprint()
    response = client.post(
        reverse("score_vetoes", args=["c", 2, "C111"]),
        {"action": "record", "veto": "V1", "text": text},
    )
    assert response.status_code == 302 and fingerprint() == before
    html = client.get(reverse("score_community", args=["c", 2, "C111"])).content.decode()
    assert "at most 2000" in beside(html, "veto-V1-text")
    assert f">{text}</textarea>" in html
    assert not VetoFinding.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "record", "veto": "NOPE", "text": "x"}, "Choose one of the vetoes listed"),
        ({"action": "erase", "veto": "V1", "text": "x"}, "Choose one of the vetoes listed"),
        ({"action": "withdraw", "veto": "V1", "finding": "1"}, "already withdrawn"),
    ],
)
def test_a_malformed_veto_post_is_refused_with_a_message(scoring, english, data, message):
    client = english(scoring["assessors"][0])
    before = fingerprint()
    response = client.post(reverse("score_vetoes", args=["c", 2, "C111"]), data, follow=True)
    assert message in response.content.decode() and fingerprint() == before


@pytest.mark.parametrize(
    ("card", "anchor"), [("A1", "#card-A1"), ("<b>", ""), ("a\x00b", ""), ("x" * 300, "")]
)
def test_the_card_to_come_back_to_is_an_items_code_or_nothing(
    scoring, world, english, card, anchor
):
    s = scoring
    staff = world.users["community_staff"]
    evidence = evidence_attach(
        actor=staff,
        enrollment=s["enrollments"]["C111"],
        items=[s["items"]["A1"]],
        upload=SimpleUploadedFile("错.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
    )
    response = english(staff).post(
        reverse("evidence_remove", args=["c", evidence.public_id]), {"card": card}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?community=C111" + anchor)
