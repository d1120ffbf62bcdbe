"""Points typed with a decimal comma ("1,5", as many phones' keyboards write it) were read as 15
and answered "0-4" instead of what was wrong. The one strict reader (ADR 16) takes a comma as the
decimal mark in every points box (self-assessment, score card, calibration) and refuses, saying
how to write it, a comma it cannot read as one ("1,000": a thousand or one?)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from civicmark.assessments.models import SelfScore
from civicmark.core import parsing
from civicmark.core.models import AuditEvent
from civicmark.scoring.models import Score


def test_the_reader_takes_a_decimal_comma_in_points_only():
    read = lambda t: parsing.parse_decimal(t, places=1, max_digits=6, exact=True)  # noqa: E731
    assert read("1,5") == Decimal("1.5")
    assert read(" 27,5 ") == Decimal("27.5")
    assert read("3,0") == Decimal("3")
    with translation.override("en"):
        for text in ("1,000", "1,55", "1,5,5", "1,5.5", ",5,"):
            with pytest.raises(parsing.ParseError, match="with a point, as 1.5"):
                read(text)
    # Counts and areas keep reading a comma as Excel's thousands separator.
    assert parsing.parse_decimal("1,234.5", places=1) == Decimal("1234.5")
    assert parsing.parse_int("1,234") == 1234


@pytest.mark.django_db
def test_the_self_assessment_card_reads_1_comma_5(scoring, world, client_for):
    client = client_for(world.users["community_staff"])
    pk = scoring["items"]["A1"].pk
    response = client.post(
        reverse("self_assessment_item", args=["c", "C111", "A1"]),
        {f"i{pk}-points": "27,5", f"i{pk}-explanation": "台账齐全"},
    )
    assert response.status_code == 200
    assert SelfScore.objects.get().points == Decimal("27.5")


@pytest.mark.django_db
def test_the_self_assessment_card_says_how_to_write_an_unreadable_comma(scoring, world, client_for):
    client = client_for(world.users["community_staff"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    pk = scoring["items"]["A1"].pk
    before = (SelfScore.objects.count(), AuditEvent.objects.count())
    response = client.post(
        reverse("self_assessment_item", args=["c", "C111", "A1"]),
        {f"i{pk}-points": "1,000", f"i{pk}-explanation": ""},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "write the points with a point, as 1.5" in page and 'value="1,000"' in page
    assert "0-" not in page.split('data-testid="points-error"')[1][:200]
    assert (SelfScore.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.django_db
def test_the_score_card_reads_1_comma_5(scoring, client_for):
    items = scoring["items"]
    client = client_for(scoring["assessors"][0])
    data = {
        f"i{items['A1'].pk}-points": "28,5",
        f"i{items['A1'].pk}-reason": "台账缺一季",
        f"i{items['A1'].pk}-version": "",
    }
    response = client.post(reverse("score_community", args=["c", 2, "C111"]), data)
    assert response.status_code == 302
    assert Score.objects.get(item=items["A1"]).points == Decimal("28.5")
