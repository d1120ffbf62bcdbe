from __future__ import annotations

import pytest

from civicmark.accounts.models import RoleAssignment
from civicmark.campaigns.services import campaign_create
from civicmark.divisions.models import Department
from tests.factories import World, build_world, person, small_standard


@pytest.fixture
def world(db) -> World:  # noqa: ANN001
    return build_world()


@pytest.fixture
def client_for(client):  # noqa: ANN001
    """A test client signed in as the given user."""

    def login(user):  # noqa: ANN001
        client.force_login(user)
        # The sign-in policy writes a session's bookkeeping (last seen, whether he has a second
        # factor) on its first request: one request now, so that the queries a test counts are
        # the page's own, the same on the first request as on the next.
        client.get("/health/")
        return client

    return login


@pytest.fixture
def city(world):  # noqa: ANN001, ANN201
    """The world's city with the eight departments of the default standard."""
    for code in ["ORG", "PROP", "CIVIL", "PSB", "FIN", "LABOUR", "URBAN", "FP"]:
        Department.objects.get_or_create(
            code=code, defaults={"name": code, "division": world.d["C"]}
        )
    return world.d["C"]


@pytest.fixture
def scoring(world):  # noqa: ANN001, ANN201
    standard = small_standard(world)
    campaign = campaign_create(
        actor=None, slug="c", name="c", year=2026, division=world.d["C"], standard=standard
    )
    round_ = campaign.rounds.get(number=2)
    # Set-up: the first two rounds cover every community whatever its workflow state (the
    # defaults, which follow the workflow, have their own tests).
    for r in campaign.rounds.filter(number__in=(1, 2)):
        r.covers.set(campaign.enrollments.all())
    assessors = []
    for n in range(3):
        user = person(f"fp{n}", "assessor", world.d["C"], department=world.dept["FP"])
        RoleAssignment.objects.create(
            user=user,
            role="assessor",
            division=world.d["C"],
            department=Department.objects.get(code="PSB"),
        )
        assessors.append(user)
    return {
        "campaign": campaign,
        "round": round_,
        "assessors": assessors,
        "standard": standard,
        "items": {i.code: i for i in standard.items.all()},
        "enrollments": {
            e.community.code: e for e in campaign.enrollments.select_related("community")
        },
    }


@pytest.fixture
def demo(db):  # noqa: ANN001, ANN201
    """The demo city and its campaign, loaded through the same services as real use."""
    from io import StringIO

    from django.core.management import call_command

    from civicmark.campaigns.models import Campaign

    call_command("demo", "--no-serve", stdout=StringIO())
    return Campaign.objects.get(slug="anping-2026")


@pytest.fixture(autouse=True)
def _fresh_cache():  # noqa: ANN202
    """Each test starts with an empty cache (throttles count per address)."""
    from django.core.cache import cache

    from civicmark.standards import published

    cache.clear()
    published.forget()  # a test's standard may share a key with none, but may change its items
    yield
