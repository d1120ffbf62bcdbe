"""Round panels, coverage and settings: defaults that follow the plan, and the lead's choices."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from civicmark.accounts.models import RoleAssignment
from civicmark.assessments import panels
from civicmark.assessments.services import round_configure, score_save
from civicmark.campaigns.models import AcceptanceRound
from civicmark.campaigns.selectors import rounds_for_user
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from tests.factories import person


def fresh(round_: AcceptanceRound) -> AcceptanceRound:
    return AcceptanceRound.objects.get(pk=round_.pk)


def configure(actor, round_, **changes):  # noqa: ANN001, ANN201
    values = {
        "opens_on": round_.opens_on,
        "closes_on": round_.closes_on,
        "combine_rule": round_.combine_rule,
        "rescore": round_.rescore,
        "lead": None,
        "panel": [],
        "covers": [],
        # Set-up narrows coverage at will; the confirmation has its own tests.
        "confirm_removal": True,
    } | changes
    return round_configure(actor=actor, round_=round_, **values)


@pytest.fixture
def county_assessor(world, scoring):  # noqa: ANN001, ANN201
    return person("k1fp", "assessor", world.d["K1"], department=world.dept["FP"])


def test_the_default_panels_follow_the_plan(scoring, world, county_assessor):
    campaign = scoring["campaign"]
    county_round, city_round = campaign.rounds.get(number=1), campaign.rounds.get(number=2)
    # The county pre-acceptance: the county's own assessors (here both counties of a city-run
    # campaign); the municipal rounds: the assessors appointed at the city.
    assert county_assessor in panels.panel(county_round)
    assert world.users["assessor"] in panels.panel(county_round)
    assert not any(a in panels.panel(county_round) for a in scoring["assessors"])
    assert set(scoring["assessors"]) <= set(panels.panel(city_round))
    assert county_assessor not in panels.panel(city_round)
    # The city's assessor is refused in the county round and the county's in the city's.
    with pytest.raises(NotAllowed, match="panel|考核组"):
        score_save(
            actor=scoring["assessors"][0],
            round_=county_round,
            enrollment=scoring["enrollments"]["C111"],
            item=scoring["items"]["A1"],
            points=Decimal(30),
        )
    score_save(
        actor=county_assessor,
        round_=county_round,
        enrollment=scoring["enrollments"]["C111"],
        item=scoring["items"]["A1"],
        points=Decimal(30),
    )
    with pytest.raises(NotAllowed, match="panel|考核组"):
        score_save(
            actor=county_assessor,
            round_=city_round,
            enrollment=scoring["enrollments"]["C111"],
            item=scoring["items"]["A1"],
            points=Decimal(30),
        )


def test_default_coverage_follows_the_workflow(scoring, world):
    campaign = scoring["campaign"]
    for r in campaign.rounds.all():
        r.covers.clear()
    e = scoring["enrollments"]
    county_round, city_round, november = (campaign.rounds.get(number=n) for n in (1, 2, 3))
    assert set(panels.covered(county_round)) == set()  # nobody reviewed by a town yet
    campaign.enrollments.filter(pk=e["C111"].pk).update(status="town_reviewed")
    campaign.enrollments.filter(pk=e["C112"].pk).update(status="reported")
    campaign.enrollments.filter(pk=e["C121"].pk).update(status="not_reached")
    assert set(panels.covered(fresh(county_round))) == {e["C111"], e["C112"], e["C121"]}
    assert set(panels.covered(fresh(city_round))) == {e["C112"], e["C121"]}
    assert set(panels.covered(fresh(november))) == {e["C121"]}
    # Once scored in a round, a community stays covered whatever the workflow does next.
    score_save(
        actor=scoring["assessors"][0],
        round_=fresh(city_round),
        enrollment=e["C112"],
        item=scoring["items"]["A1"],
        points=Decimal(30),
    )
    campaign.enrollments.filter(pk=e["C112"].pk).update(status="standard_unit")
    assert e["C112"] in set(panels.covered(fresh(city_round)))


def test_the_lead_sets_window_rule_panel_and_coverage_and_it_is_audited(scoring, world):
    round_ = scoring["round"]
    fp0, fp1 = scoring["assessors"][:2]
    configure(
        world.users["city_admin"],
        round_,
        combine_rule="minimum",
        panel=[fp0],
        covers=[scoring["enrollments"]["C111"]],
        lead=world.users["city_admin"],
    )
    round_ = fresh(round_)
    assert round_.combine_rule == "minimum" and list(panels.panel(round_)) == [fp0]
    assert list(panels.covered(round_)) == [scoring["enrollments"]["C111"]]
    event = AuditEvent.objects.get(action="round.configured")
    assert event.after["panel"] == ["fp0"] and event.before["panel"] == []
    with pytest.raises(NotAllowed, match="panel|考核组"):
        score_save(
            actor=fp1,
            round_=round_,
            enrollment=scoring["enrollments"]["C111"],
            item=scoring["items"]["A1"],
            points=Decimal(30),
        )
    with pytest.raises(NotAllowed, match="cover|不包括"):
        score_save(
            actor=fp0,
            round_=round_,
            enrollment=scoring["enrollments"]["C112"],
            item=scoring["items"]["A1"],
            points=Decimal(30),
        )


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"combine_rule": "mode"}, "rule"),
        ({"rescore": "some"}, "rule|规则"),
        ({"opens_on": None}, "open|开始"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(scoring, world, changes, message):
    round_ = scoring["round"]
    before = (round_.combine_rule, round_.opens_on, list(round_.covers.all()))
    with pytest.raises(ApplicationError):
        configure(world.users["city_admin"], round_, **changes)
    again = fresh(round_)
    assert (again.combine_rule, again.opens_on, list(again.covers.all())) == before
    assert not AuditEvent.objects.filter(action="round.configured").exists()


def test_who_may_change_a_round(scoring, world, county_assessor):
    round_ = scoring["round"]  # municipal
    for who in ("county_officer", "town_officer", "assessor", "viewer"):
        with pytest.raises(NotAllowed):
            configure(world.users[who], round_)
    with pytest.raises(ApplicationError):  # not an assessor at all
        configure(world.users["city_admin"], round_, panel=[person("stranger")])
    county_round = scoring["campaign"].rounds.get(number=1)
    configure(world.users["county_officer"], county_round, panel=[county_assessor])
    assert list(panels.panel(fresh(county_round))) == [county_assessor]


def test_the_lead_named_on_a_round_may_finalise_it(scoring, world):
    from civicmark.accounts import authz
    from tests.factories import person

    round_ = scoring["round"]
    deputy = person("deputy", "city_admin", world.d["C"])
    configure(world.users["city_admin"], round_, lead=deputy)
    assert authz.can_lead_round(deputy, fresh(round_))


def test_no_county_officer_is_named_lead_of_a_municipal_round(scoring, world):
    """The attack reviews: a county officer named lead of the municipal round published its
    notice, assigned its appeals and managed the titles of his own county's communities. The
    municipal round is the city's check on the counties: its lead is of the municipal office."""
    from civicmark.accounts import authz
    from civicmark.assessments import panels

    round_ = scoring["round"]
    officer = world.users["county_officer"]
    assert round_.level == "city"
    assert officer not in panels.lead_candidates(round_)
    round_.lead = officer
    round_.save(update_fields=["lead"])
    assert not authz.can_lead_round(officer, fresh(round_))


def test_the_round_page_permission_matrix(scoring, world, client_for, county_assessor):
    url = reverse("round_detail", args=["c", 2])
    for who, status in {
        "city_admin": 200,
        "county_officer": 200,
        "viewer": 200,
        "nobody": 404,
    }.items():
        assert client_for(world.users[who]).get(url).status_code == status, who
    page = client_for(world.users["city_admin"]).get(url).content.decode()
    assert 'data-testid="round-form"' in page and "fp0" in page
    # A county officer sees the municipal round but may not change it.
    county = client_for(world.users["county_officer"])
    assert 'data-testid="round-form"' not in county.get(url).content.decode()
    assert county.post(url, {"combine_rule": "minimum"}).status_code == 404
    assert fresh(scoring["round"]).combine_rule == "mean"
    # The city sets the rule on the page.
    round_ = scoring["round"]
    response = client_for(world.users["city_admin"]).post(
        url,
        {
            "opens_on": "2026-07-13",
            "closes_on": "2026-07-22",
            "combine_rule": "median",
            "covers": [str(scoring["enrollments"]["C111"].pk)],
            "confirm_removal": "1",  # C112, C121 and C211 leave the round
        },
    )
    assert response.status_code == 302
    round_ = fresh(round_)
    assert round_.combine_rule == "median" and str(round_.closes_on) == "2026-07-22"
    assert list(round_.covers.all()) == [scoring["enrollments"]["C111"]]
    # Dates the wrong way round: refused in place (422), nothing changed.
    response = client_for(world.users["city_admin"]).post(
        url, {"opens_on": "2026-07-30", "closes_on": "2026-07-01", "combine_rule": "mean"}
    )
    assert response.status_code == 422 and fresh(round_).combine_rule == "median"


def test_the_round_form_refuses_beside_each_box_and_shows_back_what_was_typed(
    scoring, world, client_for
):
    """The round's settings are a Django form (issue 16's leftovers, item 2): a date that is no
    date, an empty date, an unknown rule, a lead or panel member that is no id are each refused
    beside their box (422), every typed value shown back, nothing written."""
    from django.utils import translation

    from civicmark.core.models import AuditEvent

    url = reverse("round_detail", args=["c", 2])
    client = client_for(world.users["city_admin"])
    before = fresh(scoring["round"])
    events = AuditEvent.objects.count()
    good = {"opens_on": "2026-07-13", "closes_on": "2026-07-22", "combine_rule": "median"}
    with translation.override("en"):
        for typed, box in (
            ({"opens_on": "2026-02-30"}, "opens_on"),
            ({"closes_on": ""}, "closes_on"),
            ({"combine_rule": "loudest"}, "combine_rule"),
            ({"lead": "not-a-person"}, "lead"),
            ({"panel": ["x' OR 1=1"]}, None),
        ):
            response = client.post(url, {**good, **typed})
            assert response.status_code == 422, typed
            page = response.content.decode()
            assert 'data-testid="round-error"' in page, typed
            if box is not None:
                after_box = page[page.index(f'name="{box}"') :]
                assert after_box.index('data-testid="round-error"') < after_box.index("</div>"), (
                    typed
                )
            for name, value in {**good, **typed}.items():
                if name in ("opens_on", "closes_on") and value:
                    assert f'value="{value}"' in page, (typed, name)
    after = fresh(scoring["round"])
    assert (after.opens_on, after.closes_on, after.combine_rule, after.lead_id) == (
        before.opens_on,
        before.closes_on,
        before.combine_rule,
        before.lead_id,
    )
    assert AuditEvent.objects.count() == events


def test_an_assessor_off_the_panel_sees_no_community_to_score(scoring, world, client_for):
    # Panel membership never leaks through the assessor's page: the county assessor's round-2
    # page lists nothing and says why.
    RoleAssignment.objects.filter(user=world.users["assessor"]).update(department=world.dept["FP"])
    page = client_for(world.users["assessor"]).get(reverse("score_home", args=["c", 2]))
    assert page.status_code == 200
    assert "Community 111" not in page.content.decode()


def test_the_quick_panel_and_coverage_answers_equal_the_queries(scoring, world, county_assessor):
    """A score save answers "on the panel?" from the grants the request read and "covered?" from
    the community's state; both must say what the queries over the whole round say, with the
    lead's lists empty and filled."""
    from civicmark.accounts import authz
    from civicmark.accounts.models import User

    campaign = scoring["campaign"]
    e = scoring["enrollments"]
    campaign.enrollments.filter(pk=e["C111"].pk).update(status="town_reviewed")
    campaign.enrollments.filter(pk=e["C121"].pk).update(status="not_reached")
    # Assessors the default panels must leave out: another city and its county, a town, a
    # person no longer active.
    from tests.factories import division

    other = division("D", "Other City", "city")
    person("d-city", "assessor", other, department=world.dept["FP"])
    person("d-county", "assessor", division("DK", "Other County", "county", other))
    person("t-assessor", "assessor", world.d["T11"], department=world.dept["FP"])
    gone = person("gone", "assessor", world.d["C"], department=world.dept["FP"])
    User.objects.filter(pk=gone.pk).update(is_active=False)
    people = list(User.objects.all())

    def check() -> None:
        for r in campaign.rounds.all():
            found = panels.with_choices(rounds_for_user(None)).get(
                pk=r.pk
            )  # annotated with the lists
            for u in people:
                authz.forget_grants(u)
                expected = panels.panel(fresh(r)).filter(pk=u.pk).exists()
                assert panels.on_panel(u, fresh(r)) == expected, (r.number, u.username)
                assert panels.on_panel(u, found) == expected, (r.number, u.username)
                if not r.panel.exists():
                    assert panels.in_default_panel(u, r) == (
                        panels.default_panel_grants(r).filter(user=u).exists()
                    )
            # Whether a later round started: the annotation equals the query (issue 19 item 2).
            assert found.later_rounds_started == panels._later_started(fresh(r)), r.number
            covered = set(panels.covered(fresh(r)).values_list("pk", flat=True))
            for enrollment in campaign.enrollments.all():
                got = panels.is_covered(found, enrollment.pk, status=enrollment.status)
                assert got == (enrollment.pk in covered), (r.number, enrollment.pk)
                assert panels.is_covered(fresh(r), enrollment.pk) == (enrollment.pk in covered)

    for r in campaign.rounds.all():
        r.panel.clear()
        r.covers.clear()
    check()
    city_round = campaign.rounds.get(number=2)
    city_round.panel.set([scoring["assessors"][0], county_assessor])
    city_round.covers.set([e["C112"]])
    check()
    # A later round has scored: an earlier round no longer covers by workflow state alone.
    from civicmark.scoring.models import Score

    Score.objects.create(
        round=city_round,
        enrollment=e["C112"],
        item=scoring["items"]["A1"],
        assessor=scoring["assessors"][0],
        points=30,
    )
    earlier = campaign.rounds.get(number=city_round.number - 1)
    assert panels.with_choices(rounds_for_user(None)).get(pk=earlier.pk).later_rounds_started
    check()


def test_a_large_round_lists_its_coverage_by_code_and_shows_it_per_state(
    scoring, world, client_for, monkeypatch
):
    """Past COVERAGE_LIST_MAX communities the page does not print a box per community: it counts
    the coverage per workflow state, and the lead lists communities by code; an unknown code
    refuses the form and changes nothing."""
    from django.urls import reverse

    from civicmark.assessments import views

    monkeypatch.setattr(views, "COVERAGE_LIST_MAX", 1)
    round_ = scoring["round"]
    scoring["campaign"].enrollments.update(status="reported")
    client = client_for(world.users["city_admin"])
    url = reverse("round_detail", args=[scoring["campaign"].slug, round_.number])
    page = client.get(url).content.decode()
    assert 'data-testid="coverage-by-state"' in page and 'data-testid="covers-codes"' in page
    assert 'name="covers"' not in page
    form = {
        "opens_on": round_.opens_on.isoformat(),
        "closes_on": round_.closes_on.isoformat(),
        "combine_rule": round_.combine_rule,
        "lead": "",
    }
    before = set(fresh(round_).covers.all())
    client.post(url, form | {"covers_codes": "C111 NOPE"})
    assert set(fresh(round_).covers.all()) == before  # refused whole
    assert (
        client.post(url, form | {"covers_codes": "C111,\nC112", "confirm_removal": "1"}).status_code
        == 302
    )
    e = scoring["enrollments"]
    assert set(fresh(round_).covers.all()) == {e["C111"], e["C112"]}
    page = client.get(url).content.decode()
    assert "C111\nC112</textarea>" in page
    assert client.post(url, form | {"covers_codes": ""}).status_code == 302
    assert not fresh(round_).covers.exists()  # empty: the default coverage again
