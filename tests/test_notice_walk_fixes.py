"""What an official's walk of issue 17 found on the public notice's pages: the city's decision
box chose "dismissed" for him; the round's notices led nowhere back to the round; and a notice
whose every community was taken off still offered the objection form with an empty list."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from civicmark.assessments.models import NoticeEntry
from civicmark.core.models import AuditEvent
from tests.test_public_notice import named, object_to, publish  # noqa: F401


@pytest.fixture(autouse=True)
def _english():  # noqa: ANN202
    with translation.override("en"):
        yield


def test_the_decision_box_makes_the_city_choose(named, client_for):  # noqa: F811
    notice = publish(named)
    objection = object_to(notice, "C111")
    url = reverse("notice_detail", args=[named["campaign"].slug, notice.public_id])
    client = client_for(named["city"])
    page = client.get(url).content.decode()
    box = page[page.index(f'id="decision-{objection.public_id}"') :]
    box = box[: box.index("</select>")]
    assert "required" in box.split(">")[0]
    assert box.split("<option")[1].startswith(' value=""')  # the empty choice comes first
    assert "selected" not in box
    events = AuditEvent.objects.count()
    refused = client.post(
        url, {"objection": objection.public_id, "decision": "", "reason": "核查不实"}
    )
    assert refused.status_code == 422
    assert 'data-testid="decision-error"' in refused.content.decode()
    objection.refresh_from_db()
    assert objection.decision == "" and AuditEvent.objects.count() == events


def test_the_rounds_notices_lead_back_to_the_round(named, client_for):  # noqa: F811
    publish(named)
    s = named
    page = client_for(s["city"]).get(
        reverse("round_notices", args=[s["campaign"].slug, s["round"].number])
    )
    round_url = reverse("round_detail", args=[s["campaign"].slug, s["round"].number])
    assert f'<a href="{round_url}" data-testid="round-link">' in page.content.decode()


def test_a_notice_with_every_community_taken_off_offers_no_form_and_says_why(named):  # noqa: F811
    notice = publish(named)
    url = reverse("notice_public", args=[notice.public_id])
    assert 'data-testid="objection-form"' in Client().get(url).content.decode()
    NoticeEntry.objects.filter(notice=notice).update(withdrawn_at=timezone.now())
    page = Client().get(url).content.decode()
    assert 'data-testid="objection-form"' not in page
    assert 'data-testid="none-standing"' in page
