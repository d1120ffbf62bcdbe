"""The workflow: every step by its roles only, guards that say why, batches all or nothing."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from civicmark.assessments.models import SelfScore, Transition
from civicmark.assessments.services import self_score_save
from civicmark.assessments.workflow import (
    REPORT_UPWARD,
    STEPS,
    State,
    TransitionRefused,
    transition_apply,
)
from civicmark.campaigns.models import Enrollment
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.scoring.models import Score, VetoFinding
from tests.factories import closed_notice, report_upward

PERSONAS = [
    "city_admin",
    "county_officer",
    "town_officer",
    "community_staff",
    "assessor",
    "viewer",
    "nobody",
]


def status(s, code):  # noqa: ANN001, ANN201
    return Enrollment.objects.get(pk=s["enrollments"][code].pk).status


def move(s, who, codes, to, comment=""):  # noqa: ANN001, ANN201
    return transition_apply(
        actor=who,
        campaign=s["campaign"],
        to=to,
        comment=comment,
        enrollments=[s["enrollments"][c] for c in codes],
    )


def self_assess(s, world, code="C111"):  # noqa: ANN001, ANN201
    staff = world.users["community_staff"] if code == "C111" else world.users["other_staff"]
    for item in s["items"].values():
        self_score_save(
            actor=staff,
            enrollment=s["enrollments"][code],
            item=item,
            points=item.points,
            explanation="自评",
        )


def pass_round(s, number, code, points=None, finalise=True):  # noqa: ANN001, ANN201
    """Score every item of the community in the round; a county round is then finalised (the
    county reports upward only from a finalised round)."""
    round_ = s["campaign"].rounds.get(number=number)
    if finalise and round_.level == "county":
        type(round_).objects.filter(pk=round_.pk).update(finalised_at=timezone.now())
    Score.objects.bulk_create(
        Score(
            round=round_,
            enrollment=s["enrollments"][code],
            item=i,
            assessor=s["assessors"][0],
            points=i.points if points is None else Decimal(points),
            reason="r",
        )
        for i in s["items"].values()
    )


def test_a_community_goes_the_whole_way_to_commendation(scoring, world):
    s, users = scoring, world.users
    move(s, users["community_staff"], ["C111"], State.SELF_ASSESSING)
    with pytest.raises(TransitionRefused) as refused, translation.override("en"):
        move(s, users["community_staff"], ["C111"], State.SUBMITTED)
    assert "4" in refused.value.refusals[0].reason  # the items still to score
    self_assess(s, world)
    move(s, users["community_staff"], ["C111"], State.SUBMITTED)
    with pytest.raises(ApplicationError):
        self_score_save(
            actor=users["community_staff"],
            enrollment=s["enrollments"]["C111"],
            item=s["items"]["A1"],
            points=Decimal(1),
        )
    move(s, users["town_officer"], ["C111"], State.TOWN_REVIEWED)
    with pytest.raises(TransitionRefused):
        move(s, users["county_officer"], ["C111"], State.COUNTY_PRE_ACCEPTED)  # round 1 not scored
    pass_round(s, 1, "C111")
    move(s, users["county_officer"], ["C111"], State.COUNTY_PRE_ACCEPTED)
    with pytest.raises(TransitionRefused):  # only the county's report takes it (ADR 25)
        move(s, users["county_officer"], ["C111"], State.REPORTED)
    report_upward(s, users["county_officer"], ["C111"])
    pass_round(s, 2, "C111")
    with pytest.raises(TransitionRefused):
        move(s, users["city_admin"], ["C111"], State.NOT_REACHED)  # the result says otherwise
    move(s, users["city_admin"], ["C111"], State.STANDARD_UNIT)
    move(s, users["city_admin"], ["C111"], State.PROPOSED)
    # Commended once its public notice has closed with no objection waiting (ADR 22).
    closed_notice(s["campaign"].rounds.get(number=2), [s["enrollments"]["C111"]], commendation=True)
    move(s, users["city_admin"], ["C111"], State.COMMENDED)
    path = list(
        Transition.objects.filter(enrollment=s["enrollments"]["C111"]).values_list(
            "to_status", flat=True
        )
    )
    assert path == [
        "self_assessing",
        "submitted",
        "town_reviewed",
        "county_pre_accepted",
        "reported",
        "standard_unit",
        "proposed",
        "commended",
    ]
    assert AuditEvent.objects.filter(action="workflow.transition").count() == 8


def test_a_vetoed_community_rectifies_and_is_accepted_in_the_second_round(scoring, world):
    s, users = scoring, world.users
    Enrollment.objects.filter(pk=s["enrollments"]["C112"].pk).update(status=State.REPORTED)
    pass_round(s, 2, "C112")
    VetoFinding.objects.create(
        round=s["campaign"].rounds.get(number=2),
        enrollment=s["enrollments"]["C112"],
        veto=s["standard"].vetoes.get(),
        assessor=s["assessors"][0],
        reason="重大问题",
    )
    move(s, users["city_admin"], ["C112"], State.VETOED)
    move(s, users["town_officer"], ["C112"], State.RECTIFYING)
    pass_round(s, 3, "C112")
    # Re-scoring lifts no veto (ADR 17): it stands in round 3 until the department lifts it.
    with pytest.raises(TransitionRefused):
        move(s, users["city_admin"], ["C112"], State.STANDARD_UNIT)
    VetoFinding.objects.create(
        round=s["campaign"].rounds.get(number=3),
        enrollment=s["enrollments"]["C112"],
        veto=s["standard"].vetoes.get(),
        assessor=s["assessors"][0],
        reason="已整改，复查合格",
        lifts=True,
    )
    move(s, users["city_admin"], ["C112"], State.STANDARD_UNIT)
    assert status(s, "C112") == State.STANDARD_UNIT


@pytest.mark.parametrize("step", STEPS, ids=[f"{'|'.join(s.source)}->{s.target}" for s in STEPS])
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_step_is_refused_to_every_other_role(scoring, world, step, persona):
    s = scoring
    Enrollment.objects.filter(pk=s["enrollments"]["C111"].pk).update(status=step.source[0])
    s["enrollments"]["C111"].refresh_from_db()
    if persona in step.roles:
        return  # allowed roles are walked through above
    events = AuditEvent.objects.count()
    with pytest.raises(TransitionRefused):
        move(s, world.users[persona], ["C111"], step.target, comment="x")
    assert status(s, "C111") == step.source[0] and AuditEvent.objects.count() == events


@pytest.mark.parametrize("source", list(State.values))
def test_every_illegal_transition_is_refused_with_a_reason(scoring, world, source):
    s = scoring
    legal = {st.target for st in STEPS if source in st.source}
    Enrollment.objects.filter(pk=s["enrollments"]["C111"].pk).update(status=source)
    s["enrollments"]["C111"].refresh_from_db()
    for target in set(State.values) - legal:
        with pytest.raises(TransitionRefused) as refused, translation.override("en"):
            move(s, world.users["city_admin"], ["C111"], target)
        assert refused.value.refusals[0].community == "Community 111"
    assert status(s, "C111") == source and not Transition.objects.exists()


def test_returning_needs_a_comment_and_the_town_acts_only_on_its_own(scoring, world):
    s, town = scoring, world.users["town_officer"]
    Enrollment.objects.filter(campaign=s["campaign"]).update(status=State.SUBMITTED)
    with pytest.raises(TransitionRefused):
        move(s, town, ["C111"], State.RETURNED)
    move(s, town, ["C111"], State.RETURNED, comment="A1 台账不全")
    with pytest.raises(TransitionRefused) as refused, translation.override("en"):
        move(s, town, ["C112", "C121"], State.TOWN_REVIEWED)  # C121 belongs to another town
    assert [r.community for r in refused.value.refusals] == ["Community 121"]
    assert status(s, "C112") == State.SUBMITTED  # the batch is all or nothing


def test_only_the_communitys_staff_self_assess(scoring, world):
    with pytest.raises(NotAllowed):
        self_score_save(
            actor=world.users["town_officer"],
            enrollment=scoring["enrollments"]["C111"],
            item=scoring["items"]["A1"],
            points=Decimal(30),
        )
    with pytest.raises(NotAllowed):
        self_score_save(
            actor=world.users["other_staff"],
            enrollment=scoring["enrollments"]["C111"],
            item=scoring["items"]["A1"],
            points=Decimal(30),
        )
    assert not SelfScore.objects.exists()


def test_the_workflow_command_uses_the_same_checks(scoring, world):
    out, err = StringIO(), StringIO()
    call_command(
        "workflow",
        "c",
        "--to",
        "self_assessing",
        "--communities",
        "C111,C112",
        "--user",
        "town_officer",
        stdout=out,
    )
    assert "moved 2" in out.getvalue()
    with pytest.raises(CommandError, match="nothing changed"):
        call_command(
            "workflow", "c", "--to", "submitted", "--all", "--user", "town_officer", stderr=err
        )
    assert "Community 111" in err.getvalue()
    with pytest.raises(CommandError):
        call_command(
            "workflow", "c", "--to", "submitted", "--communities", "NOPE", "--user", "town_officer"
        )


def test_the_county_reports_its_communities_from_the_page(scoring, world, client_for):
    from django.urls import reverse

    s = scoring
    Enrollment.objects.filter(campaign=s["campaign"]).update(status=State.TOWN_REVIEWED)
    for code in ("C111", "C112"):
        pass_round(s, 1, code)
    client = client_for(world.users["county_officer"])
    url = reverse("communities", args=["c"])
    ids = [str(s["enrollments"][c].pk) for c in ("C111", "C112", "C121")]
    refused = client.post(
        url, {"action": "move", "to": State.COUNTY_PRE_ACCEPTED, "enrollment": ids}
    )
    assert "Community 121" in refused.content.decode()  # no round-1 result: nothing moved
    assert status(s, "C111") == State.TOWN_REVIEWED
    client.post(url, {"action": "move", "to": State.COUNTY_PRE_ACCEPTED, "enrollment": ids[:2]})
    # The step to "reported" is not the acceptance page's: the county reports them, with its
    # statement, on the page of reports (ADR 25).
    refused = client.post(url, {"action": "move", "to": State.REPORTED, "enrollment": ids[:2]})
    assert 'data-testid="refusals"' in refused.content.decode()
    assert status(s, "C111") == State.COUNTY_PRE_ACCEPTED
    client.post(
        reverse("upward_reports", args=["c"]),
        {"county": "K1", "communities": ["C111", "C112"], "statement": "现予上报。"},
    )
    assert (status(s, "C111"), status(s, "C112")) == (State.REPORTED, State.REPORTED)
    city_page = client_for(world.users["city_admin"]).get(url).content.decode()
    assert city_page.count('data-status="reported"') == 2
    outsider = client_for(world.users["other_county_officer"])
    outsider.post(url, {"action": "move", "to": State.STANDARD_UNIT, "enrollment": ids[:2]})
    assert status(s, "C111") == State.REPORTED


def test_a_round_is_finalised_when_complete_and_reopened_with_a_reason(scoring, world):
    from civicmark.assessments.services import round_finalise, round_reopen, score_save

    s = scoring
    round_ = s["round"]
    pass_round(s, 2, "C111")
    with pytest.raises(ApplicationError, match="Community 112"):
        round_finalise(actor=world.users["city_admin"], round_=round_)  # C112 etc. unscored
    round_.covers.set([s["enrollments"]["C111"]])
    with pytest.raises(NotAllowed):
        round_finalise(actor=world.users["county_officer"], round_=round_)  # a municipal round
    round_finalise(actor=world.users["city_admin"], round_=round_)
    with pytest.raises(ApplicationError):
        score_save(
            actor=s["assessors"][1],
            round_=round_,
            enrollment=s["enrollments"]["C112"],
            item=s["items"]["A1"],
            points=Decimal(30),
        )
    with pytest.raises(ApplicationError):
        round_reopen(actor=world.users["city_admin"], round_=round_, reason=" ")
    round_reopen(
        actor=world.users["city_admin"], round_=round_, reason="A1 分数录入错误，经领导小组同意更正"
    )
    assert AuditEvent.objects.filter(action="round.reopened").get().after["reason"].startswith("A1")


PDF = b"%PDF-1.4\n%%EOF\n"


def test_community_staff_self_assess_and_attach_evidence_on_the_page(scoring, world, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from civicmark.assessments.models import Evidence

    s = scoring
    url = reverse("self_assessment", args=["c"]) + "?community=C111"
    staff = client_for(world.users["community_staff"])
    assert "A1" in staff.get(url).content.decode()
    post_url = reverse("self_assessment", args=["c"])
    staff.post(
        post_url,
        {
            "community": "C111",
            f"i{s['items']['A1'].pk}-points": "28",
            f"i{s['items']['A1'].pk}-explanation": "自查",
        },
    )
    assert SelfScore.objects.get().points == 28
    staff.post(
        post_url,
        {
            "community": "C111",
            "action": "evidence",
            "items": [s["items"]["A1"].pk, s["items"]["B1"].pk],
            "file": SimpleUploadedFile("台账.pdf", PDF),
        },
    )
    evidence = Evidence.objects.get()
    assert sorted(evidence.items.values_list("code", flat=True)) == ["A1", "B1"]
    file_url = reverse("evidence_file", args=["c", evidence.public_id])
    assert (
        client_for(s["assessors"][0]).get(file_url).status_code == 200
    )  # the city's assessor sees it
    assert client_for(world.users["other_staff"]).get(file_url).status_code == 404
    town = client_for(world.users["town_officer"])
    town.post(post_url, {"community": "C111", f"i{s['items']['A2'].pk}-points": "30"})
    assert SelfScore.objects.count() == 1  # the town reviews; it does not score for the community
    page = town.get(url).content.decode()
    assert "A2" in page and "台账.pdf" in page
    scoring_page = client_for(s["assessors"][0]).get(
        reverse("score_community", args=["c", 2, "C111"])
    )
    assert "台账.pdf" in scoring_page.content.decode()  # the evidence sits beside the item


def test_the_town_returns_a_self_assessment_with_a_comment_on_each_item(scoring, world, client_for):
    from django.urls import reverse

    from civicmark.assessments.models import ReturnComment

    s = scoring
    self_assess(s, world)
    move(s, world.users["community_staff"], ["C111"], State.SELF_ASSESSING)
    move(s, world.users["community_staff"], ["C111"], State.SUBMITTED)
    url = reverse("self_assessment", args=["c"]) + "?community=C111"
    a1, b2 = s["items"]["A1"], s["items"]["B2"]
    town = client_for(world.users["town_officer"])
    page = town.get(url).content.decode()
    assert 'data-testid="review"' in page and f'name="note-{a1.pk}"' in page
    # No comment at all: refused, nothing changed.
    town.post(url, {"community": "C111", "action": "return", "comment": ""})
    assert status(s, "C111") == State.SUBMITTED and not ReturnComment.objects.exists()
    # Another town's officer cannot even see it.
    other = client_for(world.users["other_town_officer"])
    assert other.post(url, {"community": "C111", "action": "return"}).status_code == 404
    town = client_for(world.users["town_officer"])
    town.post(
        url,
        {
            "community": "C111",
            "action": "return",
            f"note-{a1.pk}": "缺少第三季度居民会议记录",
            f"note-{b2.pk}": "照片未标注日期",
        },
    )
    assert status(s, "C111") == State.RETURNED
    notes = dict(ReturnComment.objects.values_list("item__code", "comment"))
    assert notes == {"A1": "缺少第三季度居民会议记录", "B2": "照片未标注日期"}
    transition = Transition.objects.filter(to_status=State.RETURNED).get()
    assert "A1" in transition.comment and transition.comments.count() == 2
    assert AuditEvent.objects.filter(action="workflow.item_comments").count() == 1
    # The community sees each comment beside its item.
    page = client_for(world.users["community_staff"]).get(url).content.decode()
    assert "缺少第三季度居民会议记录" in page and 'data-testid="returned"' in page
    assert 'data-testid="review"' not in page  # the community does not review itself


def test_the_town_passes_a_self_assessment_on_from_the_page(scoring, world, client_for):
    from django.urls import reverse

    s = scoring
    self_assess(s, world)
    move(s, world.users["community_staff"], ["C111"], State.SELF_ASSESSING)
    move(s, world.users["community_staff"], ["C111"], State.SUBMITTED)
    url = reverse("self_assessment", args=["c"]) + "?community=C111"
    viewer = client_for(world.users["viewer"])
    assert 'data-testid="review"' not in viewer.get(url).content.decode()
    viewer.post(url, {"community": "C111", "action": "reviewed"})
    assert status(s, "C111") == State.SUBMITTED
    client_for(world.users["town_officer"]).post(url, {"community": "C111", "action": "reviewed"})
    assert status(s, "C111") == State.TOWN_REVIEWED


def test_the_communities_page_filters_pages_and_moves_all_it_finds(
    scoring, world, client_for, monkeypatch
):
    """At a province's size the page shows a page of communities at a time, filtered by state
    and by name, code or town; a step can apply to every community the filter finds, and then
    to none outside it."""
    from django.urls import reverse

    from civicmark.assessments import views

    monkeypatch.setattr(views, "COMMUNITIES_PAGE", 1)
    s = scoring
    Enrollment.objects.filter(campaign=s["campaign"]).update(status=State.TOWN_REVIEWED)
    for code in ("C111", "C112"):
        pass_round(s, 1, code)
    Enrollment.objects.filter(pk=s["enrollments"]["C121"].pk).update(status=State.ENROLLED)
    client = client_for(world.users["county_officer"])
    url = reverse("communities", args=["c"])
    first = client.get(url, {"state": State.TOWN_REVIEWED}).content.decode()
    assert first.count('name="enrollment"') == 1 and "1 / 2" in first
    assert "Community 121" not in first
    found = client.get(url, {"q": "Town 12"}).content.decode()
    assert "Community 121" in found and "Community 111" not in found
    # Every town-reviewed community of Town 11, in one step; Town 12's stays where it was.
    response = client.post(
        url + "?state=town_reviewed&q=Town+11",
        {"action": "move", "to": State.COUNTY_PRE_ACCEPTED, "every": "on"},
    )
    assert response.status_code == 302 and "state=town_reviewed" in response["Location"]
    assert (status(s, "C111"), status(s, "C112")) == (State.COUNTY_PRE_ACCEPTED,) * 2
    assert status(s, "C121") == State.ENROLLED


def test_moving_many_communities_costs_the_same_statements_as_moving_two(scoring, world):
    """Each community moved still gets its step and its audit event, in one insert each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from civicmark.accounts import authz
    from civicmark.core.models import AuditEvent

    s = scoring
    officer = world.users["county_officer"]  # reports his county's communities to the city
    e = s["enrollments"]
    Enrollment.objects.filter(campaign=s["campaign"]).update(status=State.COUNTY_PRE_ACCEPTED)
    for code in ("C111", "C112", "C121"):
        pass_round(s, 1, code)  # the county round that passed them, finalised
    counts = []
    for codes in (["C111"], ["C112", "C121"]):
        chosen = list(Enrollment.objects.filter(pk__in=[e[c].pk for c in codes]))
        authz.forget_grants(officer)  # each move reads them afresh, as a request would
        with CaptureQueriesContext(connection) as ctx:
            moved = transition_apply(
                actor=officer,
                campaign=s["campaign"],
                enrollments=chosen,
                to=State.REPORTED,
                service=REPORT_UPWARD,  # as the county's report takes it
            )
        counts.append(len(ctx.captured_queries))
        assert moved == len(codes)
    assert counts[0] == counts[1]
    assert Transition.objects.filter(to_status=State.REPORTED).count() == 3
    assert AuditEvent.objects.filter(action="workflow.transition").count() == 3


# -- round kinds are data (issue 15, ADR 17) ----------------------------------------------------


def _to_reviewed(s, code="C111"):  # noqa: ANN001, ANN202
    Enrollment.objects.filter(pk=s["enrollments"][code].pk).update(status=State.TOWN_REVIEWED)


def test_the_county_reports_upward_only_from_a_finalised_county_round(scoring, world):
    s, officer = scoring, world.users["county_officer"]
    _to_reviewed(s)
    pass_round(s, 1, "C111", finalise=False)
    with pytest.raises(TransitionRefused) as refused, translation.override("en"):
        move(s, officer, ["C111"], State.COUNTY_PRE_ACCEPTED)
    assert "not finalised" in refused.value.refusals[0].reason
    assert status(s, "C111") == State.TOWN_REVIEWED
    round1 = s["campaign"].rounds.get(number=1)
    type(round1).objects.filter(pk=round1.pk).update(finalised_at=timezone.now())
    move(s, officer, ["C111"], State.COUNTY_PRE_ACCEPTED)
    assert status(s, "C111") == State.COUNTY_PRE_ACCEPTED


def test_the_county_round_is_found_by_its_level_not_its_number(scoring, world):
    # The campaign's rounds renumbered: the county's round is number 5 and round 1 is the
    # city's; the county's finalised result decides, whatever the numbers.
    s, officer = scoring, world.users["county_officer"]
    campaign = s["campaign"]
    county = campaign.rounds.get(number=1)
    campaign.rounds.filter(pk=county.pk).update(number=5)
    city = campaign.rounds.get(number=2)
    campaign.rounds.filter(pk=city.pk).update(number=1)
    campaign.rounds.filter(pk=county.pk).update(number=2)
    _to_reviewed(s)
    pass_round(s, 1, "C111")  # the city's round, now number 1: not the county's
    with pytest.raises(TransitionRefused) as refused, translation.override("en"):
        move(s, officer, ["C111"], State.COUNTY_PRE_ACCEPTED)
    assert "county" in refused.value.refusals[0].reason
    pass_round(s, 2, "C111")  # the county's round
    move(s, officer, ["C111"], State.COUNTY_PRE_ACCEPTED)


def test_the_latest_municipal_round_decides_however_many_there_are(scoring, world):
    from datetime import timedelta

    from civicmark.campaigns.models import AcceptanceRound

    s, admin = scoring, world.users["city_admin"]
    campaign = s["campaign"]
    third = campaign.rounds.get(number=3)
    AcceptanceRound.objects.create(
        campaign=campaign,
        number=4,
        name="第三次市级验收",
        level="city",
        opens_on=third.opens_on + timedelta(days=30),
        closes_on=third.closes_on + timedelta(days=30),
    )
    Enrollment.objects.filter(pk=s["enrollments"]["C111"].pk).update(status=State.REPORTED)
    pass_round(s, 2, "C111")  # a standard unit in round 2
    pass_round(s, 4, "C111", points=0)  # and not reached in the fourth, the latest
    with pytest.raises(TransitionRefused) as refused, translation.override("en"):
        move(s, admin, ["C111"], State.STANDARD_UNIT)
    assert status(s, "C111") == State.REPORTED
    assert refused.value.refusals[0].reason
    move(s, admin, ["C111"], State.NOT_REACHED)


def test_a_standard_with_no_passing_level_commends_its_standard_units(scoring, world):
    s, admin = scoring, world.users["city_admin"]
    s["standard"].levels.update(passing=False)  # bands below the pass mark only
    Enrollment.objects.filter(pk=s["enrollments"]["C111"].pk).update(status=State.STANDARD_UNIT)
    pass_round(s, 2, "C111")
    move(s, admin, ["C111"], State.PROPOSED)
    assert status(s, "C111") == State.PROPOSED


def test_a_community_a_gate_bars_from_commendation_is_not_proposed(scoring, world):
    s, admin = scoring, world.users["city_admin"]
    item = s["items"]["A1"]
    type(item).objects.filter(pk=item.pk).update(
        gate_below=Decimal(31), gate_effect="no_commendation"
    )
    Enrollment.objects.filter(pk=s["enrollments"]["C111"].pk).update(status=State.STANDARD_UNIT)
    pass_round(s, 2, "C111")  # full marks, 30 on A1: below the gate of 31
    with pytest.raises(TransitionRefused) as refused, translation.override("en"):
        move(s, admin, ["C111"], State.PROPOSED)
    assert "commendation" in refused.value.refusals[0].reason
    assert status(s, "C111") == State.STANDARD_UNIT


# -- a town without an officer (issue 16's leftovers, item 4) ---------------------------------


def test_the_county_reviews_for_a_town_that_has_no_officer_and_says_so(scoring, world):
    """Town 21 has no officer: its county (K2) takes the town's review step, audited as done
    on the town's behalf; K1's officer, out of scope, may not; and a town with an officer
    (T11) keeps the step its own."""
    from civicmark.assessments.workflow import role_refusal, why_not

    s, e = scoring, scoring["enrollments"]
    Enrollment.objects.filter(campaign=s["campaign"]).update(status=State.SUBMITTED)
    for code in ("C111", "C211"):
        e[code].refresh_from_db()
    county, other = world.users["other_county_officer"], world.users["county_officer"]
    with pytest.raises(TransitionRefused):
        move(s, other, ["C211"], State.TOWN_REVIEWED)  # not his county
    with pytest.raises(TransitionRefused):
        move(s, other, ["C111"], State.TOWN_REVIEWED)  # T11 has its officer
    assert why_not(county, e["C211"], State.TOWN_REVIEWED) is None
    assert role_refusal(county, State.TOWN_REVIEWED, [e["C211"].community.path]) is None
    assert role_refusal(other, State.TOWN_REVIEWED, [e["C111"].community.path]) is not None
    assert move(s, county, ["C211"], State.TOWN_REVIEWED) == 1
    assert status(s, "C211") == State.TOWN_REVIEWED
    event = AuditEvent.objects.get(action="workflow.transition")
    assert event.actor == county
    assert event.after == {"status": "town_reviewed", "comment": "", "on_behalf_of": "Town 21"}
    assert status(s, "C111") == State.SUBMITTED


def test_the_county_does_not_stand_in_once_the_town_has_an_active_officer(scoring, world):
    from civicmark.accounts import authz
    from tests.factories import person

    s = scoring
    Enrollment.objects.filter(campaign=s["campaign"]).update(status=State.SUBMITTED)
    officer = person("t21", "town_officer", world.d["T21"])
    county = world.users["other_county_officer"]
    with pytest.raises(TransitionRefused):
        move(s, county, ["C211"], State.TOWN_REVIEWED)
    officer.is_active = False  # gone: no one holds the town's role any longer
    officer.save(update_fields=["is_active"])
    authz.forget_grants(county)
    move(s, county, ["C211"], State.TOWN_REVIEWED)
    assert status(s, "C211") == State.TOWN_REVIEWED
    # The town's own review leaves no such mark.
    move(s, world.users["town_officer"], ["C111"], State.TOWN_REVIEWED)
    marks = [
        "on_behalf_of" in e.after
        for e in AuditEvent.objects.filter(action="workflow.transition").order_by("pk")
    ]
    assert marks == [True, False]
