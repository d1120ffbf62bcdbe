"""The dashboards and rankings cost the same number of queries for 10 communities as for 500."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from civicmark.accounts.models import RoleAssignment, User
from civicmark.results.scale import build_city
from civicmark.standards.services import standard_data  # noqa: F401
from tests.factories import small_standard


def queries(client, url: str) -> int:  # noqa: ANN001
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


def officer(prefix: str, campaign) -> User:  # noqa: ANN001
    user = User.objects.create(username=f"{prefix}-officer")
    RoleAssignment.objects.create(user=user, role="city_admin", division=campaign.division)
    return user


@pytest.mark.django_db
def test_dashboard_and_ranking_queries_do_not_grow_with_the_city(world, client):
    standard = small_standard(world)
    small = build_city(10, standard, prefix="A")
    large = build_city(500, standard, prefix="B")
    pages = [
        ("dashboard", {}),
        ("ranking", {"number": 2}),
        ("ranking", {"number": 1}),
    ]
    for name, extra in pages:
        counts = []
        for campaign, prefix in ((small, "A"), (large, "B")):
            client.force_login(officer(prefix + name + str(extra), campaign))
            url = reverse(name, kwargs={"slug": campaign.slug, **extra})
            queries(client, url)  # warm the per-process caches alike
            counts.append(queries(client, url))
        assert counts[0] == counts[1], (name, extra, counts)
