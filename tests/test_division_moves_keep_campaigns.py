"""A division with communities in a campaign moves only within the division running it.

Found by the insider review of 2026-12-01: the city office moved town T12 (with C121, enrolled in
county K1's campaign) to county K2; K1's officer still "saw the whole campaign" (ADR 29/30) and
so read C121 on the round page, the assessor's list, the overview and the dashboard, though it
now lay outside his scope. The move is now refused with the reason, nothing changed; a move
within the campaign's division, or of a division with no community in a campaign, still works.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from civicmark.accounts.places.services import division_update
from civicmark.campaigns.services import campaign_create
from civicmark.core.errors import ApplicationError
from civicmark.core.models import AuditEvent
from civicmark.divisions.models import Division
from tests.factories import small_standard

pytestmark = pytest.mark.django_db


def _campaign(world):  # noqa: ANN001, ANN202
    return campaign_create(
        actor=None,
        slug="k1",
        name="K1 创建",
        year=2026,
        division=world.d["K1"],
        standard=small_standard(world),
    )


def _paths() -> dict[str, str]:
    return dict(Division.objects.values_list("code", "path"))


def test_a_town_with_a_campaigns_communities_does_not_leave_the_campaigns_division(world):
    campaign = _campaign(world)
    assert campaign.enrollments.filter(community__code="C121").exists()
    before, events = _paths(), AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as refused:
        division_update(
            actor=world.users["city_admin"],
            division=world.d["T12"],
            name=world.d["T12"].name,
            parent=world.d["K2"],
        )
    assert "K1 创建" in refused.value.message
    assert _paths() == before and AuditEvent.objects.count() == events


def test_the_page_says_why_and_keeps_what_was_typed(world, client_for):
    _campaign(world)
    before = _paths()
    page = client_for(world.users["city_admin"]).post(
        reverse("division_edit", args=["T12"]),
        {"name": "改名的镇", "parent": "K2"},
    )
    body = page.content.decode()
    assert page.status_code == 200 and "K1 创建" in body and "改名的镇" in body
    assert _paths() == before


def test_a_rename_or_a_move_outside_any_campaign_still_works(world):
    _campaign(world)
    division_update(
        actor=world.users["city_admin"], division=world.d["T12"], name="新名", parent=world.d["K1"]
    )
    assert Division.objects.get(code="T12").name == "新名"
    # K2's towns hold no community of K1's campaign: they move freely.
    town = Division.objects.filter(parent=world.d["K2"]).first()
    if town is not None:
        division_update(
            actor=world.users["city_admin"], division=town, name=town.name, parent=world.d["K1"]
        )
        assert Division.objects.get(pk=town.pk).path.startswith(world.d["K1"].path)
