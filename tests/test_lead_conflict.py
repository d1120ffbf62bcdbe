"""Nobody leads over his own community (issue 14, item 3): a person tied to a community a round
covers (its staff, the officer of its town, or living or working there) neither configures,
finalises nor reopens that round or its county part, is not named its lead, and issues or
revokes none of its certificates."""

from __future__ import annotations

import pytest

from civicmark.assessments.services import round_configure, round_finalise
from civicmark.core.errors import NotAllowed
from civicmark.core.models import AuditEvent
from tests.factories import person


def _state(round_):  # noqa: ANN001, ANN202
    round_.refresh_from_db()
    return (
        round_.finalised_at,
        round_.closes_on,
        round_.lead_id,
        sorted(round_.covers.values_list("pk", flat=True)),
        AuditEvent.objects.count(),
    )


def _configure(actor, round_, **changes):  # noqa: ANN001, ANN003, ANN202
    values = {
        "opens_on": round_.opens_on,
        "closes_on": round_.closes_on,
        "combine_rule": round_.combine_rule,
        "rescore": round_.rescore,
        "lead": round_.lead,
        "panel": list(round_.panel.all()),
        "covers": list(round_.covers.all()),
        "confirm_removal": True,
    }
    values.update(changes)
    return round_configure(actor=actor, round_=round_, **values)


def test_it_refuses_a_city_administrator_who_lives_in_a_covered_community(world, scoring):
    city = world.users["city_admin"]
    city.home_division = world.d["C111"]
    city.save(update_fields=["home_division"])
    round_ = scoring["round"]
    before = _state(round_)
    with pytest.raises(NotAllowed, match="Community 111"):
        round_finalise(actor=city, round_=round_)
    with pytest.raises(NotAllowed, match="Community 111"):
        _configure(city, round_, closes_on=round_.closes_on.replace(year=round_.closes_on.year + 1))
    assert _state(round_) == before


def test_it_refuses_a_lead_named_over_his_own_town(world, scoring):
    round_ = scoring["round"]
    tied = person("tied_officer", "city_admin", world.d["C"])
    from civicmark.accounts.models import RoleAssignment

    RoleAssignment.objects.create(user=tied, role="town_officer", division=world.d["T21"])
    before = _state(round_)
    with pytest.raises(NotAllowed, match="Community 211"):
        _configure(world.users["city_admin"], round_, lead=tied)
    assert _state(round_) == before


def test_it_refuses_a_county_officer_his_part_where_he_also_runs_a_town(world, scoring):
    from civicmark.accounts.models import RoleAssignment

    officer = world.users["county_officer"]
    RoleAssignment.objects.create(user=officer, role="town_officer", division=world.d["T12"])
    round_ = scoring["campaign"].rounds.get(number=1)
    before = _state(round_)
    with pytest.raises(NotAllowed, match="Community 121"):
        round_finalise(actor=officer, round_=round_, county=world.d["K1"])
    assert _state(round_) == before


def test_an_untied_lead_still_leads(world, scoring):
    round_ = scoring["round"]
    later = round_.closes_on.replace(year=round_.closes_on.year + 1)
    _configure(world.users["city_admin"], round_, closes_on=later)
    round_.refresh_from_db()
    assert round_.closes_on == later
