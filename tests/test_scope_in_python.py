"""The scope asked in Python of the one row a page fetched (`authz.sees_path`,
`authz.get_seen_or_404`; issue 19 item 2, second pass: the score save's round and enrollment)
must say what the scope compiled into a query says (`within_scope`, `within_or_above`), for
every persona and every division: personas of one grant and of two, a superuser active and not,
a person with no grant, the anonymous visitor and the server operator (None)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from civicmark.accounts import authz
from civicmark.accounts.models import RoleAssignment, User
from civicmark.campaigns.selectors import rounds_for_user, rounds_with_campaign
from civicmark.divisions.models import Division
from tests.factories import division, person

pytestmark = pytest.mark.django_db


def _people(world) -> list:  # noqa: ANN001
    other = division("D", "Other City", "city")
    # A code that an SQL prefix without the closing "/" would confuse with K1, and LIKE's
    # wildcards in a code.
    k10 = division("K10", "County Ten", "county", world.d["C"])
    division("C10_%", "Community %", "community", k10)
    person("other_city", "city_admin", other)
    two = person("two_places", "town_officer", world.d["T12"])
    RoleAssignment.objects.create(user=two, role="community_staff", division=world.d["C211"])
    person("root", is_superuser=True)
    gone = person("gone_root", is_superuser=True)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    person("gone_officer", "county_officer", world.d["K1"], is_active=False)
    return [*User.objects.all(), AnonymousUser(), None]


def test_it_sees_a_path_as_the_queries_scope_does(world) -> None:  # noqa: ANN001
    people = _people(world)
    divisions = list(Division.objects.all())
    for user in people:
        within = set(
            Division.objects.filter(authz.within_scope(user, "path")).values_list("pk", flat=True)
        )
        above = set(
            Division.objects.filter(authz.within_or_above(user, "path")).values_list(
                "pk", flat=True
            )
        )
        for d in divisions:
            name = getattr(user, "username", user)
            assert authz.sees_path(user, d.path) == (d.pk in within), (name, d.path)
            assert authz.sees_path(user, d.path, or_above=True) == (d.pk in above), (name, d.path)


def test_it_finds_a_round_as_the_scoped_query_does(scoring, world) -> None:  # noqa: ANN001
    """The round page's look-up (`rounds_with_campaign` + `get_seen_or_404`) finds a round for
    exactly the people `rounds_for_user` finds it for, and 404s for the rest."""
    people = _people(world)
    for round_ in scoring["campaign"].rounds.all():
        for user in people:
            expected = rounds_for_user(user).filter(pk=round_.pk).exists()
            try:
                found = authz.get_seen_or_404(
                    rounds_with_campaign(),
                    user,
                    lambda r: r.campaign.division.path,
                    or_above=True,
                    campaign__slug="c",
                    number=round_.number,
                )
            except Http404:
                found = None
            assert (found is not None) == expected, (getattr(user, "username", user), round_)
