"""The rectification list as the town walked it (walk-shots/town-10-rect-done-nonote-p.png): one
rule for "overdue" whichever round found the item, shared by the list's cards and town counts,
the to-do and the key figures; the town table in the same words as everywhere else; and the
self-assessment card's photo and file buttons on the rectification card."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from civicmark.assessments import todo as acceptance_todo
from civicmark.assessments.models import (
    Rectification,
    RectificationEvidence,
    overdue_rectifications_q,
)
from civicmark.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def findings(scoring):  # noqa: ANN001, ANN201
    """Round 1's item due long ago and round 2's due lately, both still open; a round 1 item
    rectified late; one due next week."""
    today = timezone.localdate()
    first = scoring["campaign"].rounds.get(number=1)
    e, items = scoring["enrollments"]["C111"], scoring["items"]
    made = {}
    for key, round_, code, due, status in (
        ("r1_open", first, "A1", today - timedelta(days=142), "open"),
        ("r2_open", scoring["round"], "A2", today - timedelta(days=22), "open"),
        ("r1_done", first, "B1", today - timedelta(days=142), "done"),
        ("r2_later", scoring["round"], "B2", today + timedelta(days=7), "open"),
    ):
        made[key] = Rectification.objects.create(
            round=round_,
            enrollment=e,
            item=items[code],
            points_lost=Decimal("0.5"),
            reason="记录不全",
            due_on=due,
            status=status,
            note="已整改" if status == "done" else "",
        )
    return made


def _town_client(world, client_for):  # noqa: ANN001, ANN202
    client = client_for(world.users["town_officer"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _overdue_cards(page: str) -> set[str]:
    cards = page.split('data-testid="rectification-card"')[1:]
    return {
        re.search(r"<strong>(\w+)</strong>", c)[1]  # type: ignore[index]
        for c in cards
        if 'class="badge text-bg-danger">overdue<' in c
    }


def test_an_open_item_past_its_date_is_overdue_whichever_round_found_it(
    findings, scoring, world, client_for
):
    page = (
        _town_client(world, client_for).get(reverse("rectifications", args=["c"])).content.decode()
    )
    assert _overdue_cards(page) == {"A1", "A2"}  # round 1's and round 2's; not the rectified B1
    town_row = page.split('data-testid="rectification-towns"')[1].split("</tr>")[1]
    assert re.findall(r'text-end[^"]*">(\d+)<', town_row) == ["3", "1", "2"]  # open, done, late
    today = timezone.localdate()
    # The one rule, as the to-do, the key figures and the cards read it.
    rule = set(Rectification.objects.filter(overdue_rectifications_q(today)))
    assert rule == {findings["r1_open"], findings["r2_open"]}
    assert {r for r in Rectification.objects.all() if r.is_overdue(today)} == rule
    with translation.override("en"):
        county = world.users["county_officer"]
        todo = {
            t.key: t
            for t in acceptance_todo.todos_for(
                user=county, campaign=scoring["campaign"], today=today
            )
        }
        figures = acceptance_todo.figures_for(
            user=county, campaign=scoring["campaign"], today=today
        )
    assert todo["overdue_rectifications"].count == 2
    assert next(f for f in figures if f.label == "Overdue rectifications").value == 2


def test_the_town_table_says_town_as_everywhere_else(findings, world, client_for):
    """ "By town" was translated 按街道（乡镇） where every other page says 镇（街道）: the English
    source names the table by what it counts, per town, so the town is translated once."""
    page = (
        _town_client(world, client_for).get(reverse("rectifications", args=["c"])).content.decode()
    )
    assert "<caption>Rectifications per town</caption>" in page
    assert "By town" not in page
    zh = _town_client(world, client_for)
    zh.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "按街道（乡镇）" not in zh.get(reverse("rectifications", args=["c"])).content.decode()


def test_the_rectification_card_has_the_photo_and_file_buttons(findings, world, client_for):
    client = _town_client(world, client_for)
    page = client.get(reverse("rectifications", args=["c"])).content.decode()
    attach = page.split('data-testid="rectification-attach"')[1].split("</form>")[0]
    assert "Take a photo" in attach and "Attach a file" in attach
    inputs = re.findall(r"<input type=\"file\"[^>]*>", attach)
    assert len(inputs) == 2 and all('class="visually-hidden"' in i for i in inputs)
    assert 'capture="environment"' in inputs[0]
    assert "form-control" not in "".join(inputs)  # no bare "Choose File" box
    # Either button's file is the form's one file.
    finding = findings["r1_open"]
    response = client.post(
        reverse("rectifications", args=["c"]),
        {
            "id": str(finding.public_id),
            "action": "attach",
            "file": SimpleUploadedFile("fix.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
        },
    )
    assert response.status_code == 302
    assert RectificationEvidence.objects.filter(rectification=finding).count() == 1
    before = (RectificationEvidence.objects.count(), AuditEvent.objects.count())
    refused = client.post(
        reverse("rectifications", args=["c"]),
        {"id": str(finding.public_id), "action": "attach"},
    )
    assert refused.status_code == 422
    assert "Choose a file to upload." in refused.content.decode()
    assert (RectificationEvidence.objects.count(), AuditEvent.objects.count()) == before
