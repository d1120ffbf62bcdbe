"""Vetoes that stand (ADR 17; issue 15, item 2): a veto found in July stands in November until
its department lifts it with a reason; re-scoring the items does not lift it. Recorded, lifted
and withdrawn on the scoring page beside the assessor's items."""

from __future__ import annotations

import pytest
from django.urls import reverse

from civicmark.assessments.access import ACCESS
from civicmark.assessments.services import round_finalise, score_save
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.divisions.models import Department
from civicmark.scoring.findings import veto_record, veto_withdraw
from civicmark.scoring.models import VetoFinding
from civicmark.scoring.rounds import round_results
from tests.factories import person
from tests.test_round_results import cover


def full(s, who, round_, community, codes) -> None:  # noqa: ANN001
    for code in codes:
        score_save(
            actor=who,
            round_=round_,
            enrollment=s["enrollments"][community],
            item=s["items"][code],
            points=s["items"][code].points,
        )


def record(s, who, round_, community, reason, lifts=False):  # noqa: ANN001, ANN201
    return veto_record(
        actor=who,
        round_=round_,
        enrollment=s["enrollments"][community],
        veto=s["standard"].vetoes.get(),
        reason=reason,
        lifts=lifts,
        access=ACCESS,
        via="web",
    )


@pytest.fixture
def july_veto(scoring, world):  # noqa: ANN001, ANN201
    """July (round 2): C111 scored at full marks and vetoed by family planning (V1); July
    finalised; November (round 3) covers C111."""
    s = scoring
    fp = s["assessors"][0]
    july, november = s["round"], s["campaign"].rounds.get(number=3)
    full(s, fp, july, "C111", ("A1", "A2", "B1", "B2"))
    record(s, fp, july, "C111", "发现辖区内发生重大安全责任事故")
    cover(s, world, july, ["C111"])
    round_finalise(actor=world.users["city_admin"], round_=july)
    cover(s, world, november, ["C111", "C112"])
    return s | {"fp": fp, "july": july, "november": november}


def fresh(round_):  # noqa: ANN001, ANN201
    return type(round_).objects.get(pk=round_.pk)


def test_a_july_veto_stands_when_november_rescores_every_item_at_full_marks(july_veto):
    s = july_veto
    november = s["november"]
    # The veto's department looks at its items again and gives full marks; no veto recorded.
    full(s, s["fp"], november, "C111", ("A1", "B1"))
    result = round_results(fresh(november))[s["enrollments"]["C111"].pk]
    assert result.outcome == "vetoed"
    assert not VetoFinding.objects.filter(round=november).exists()


def test_a_lift_in_november_with_a_reason_makes_a_standard_unit(july_veto):
    s = july_veto
    november = s["november"]
    full(s, s["fp"], november, "C111", ("A1", "B1"))
    lift = record(s, s["fp"], november, "C111", "事故已整改，责任已追究", lifts=True)
    assert lift.lifts and lift.round == november
    result = round_results(fresh(november))[s["enrollments"]["C111"].pk]
    assert result.outcome == "standard_unit"
    event = AuditEvent.objects.filter(action="veto.lifted").get()
    assert event.after == {"veto": "V1", "reason": "事故已整改，责任已追究", "round": 3}
    # The finalised July round keeps its veto.
    assert round_results(fresh(s["july"]))[s["enrollments"]["C111"].pk].outcome == "vetoed"


def _nothing_changed(before: tuple[int, int]) -> None:
    assert (VetoFinding.objects.count(), AuditEvent.objects.count()) == before


def test_a_lift_is_refused_without_a_standing_veto_in_a_sealed_round_to_another_department_or_without_a_reason(  # noqa: E501
    july_veto, world
):
    s = july_veto
    november, july = s["november"], s["july"]
    before = (VetoFinding.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ApplicationError) as refused:
        record(s, s["fp"], november, "C112", "无", lifts=True)  # nothing stands for C112
    assert refused.value.code == "veto_not_standing"
    with pytest.raises(ApplicationError, match="finalised|定稿"):
        record(s, s["fp"], july, "C111", "已整改", lifts=True)  # July is signed off
    psb = person(
        "psb-city", "assessor", world.d["C"], department=Department.objects.get(code="PSB")
    )
    with pytest.raises(NotAllowed, match="V1"):
        record(s, psb, november, "C111", "已整改", lifts=True)  # not the veto's department
    with pytest.raises(ApplicationError) as refused:
        record(s, s["fp"], november, "C111", "   ", lifts=True)
    assert refused.value.code == "veto_reason_missing"
    _nothing_changed(before)


def test_a_finding_of_this_round_is_withdrawn_by_its_finder_not_lifted(scoring):
    s = scoring
    fp, other = s["assessors"][0], s["assessors"][1]
    july = s["round"]
    full(s, fp, july, "C112", ("A1", "A2", "B1", "B2"))
    with pytest.raises(ApplicationError, match="Describe the finding|认定情况"):
        record(s, fp, july, "C112", "")
    finding = record(s, fp, july, "C112", "台账造假")
    before = (VetoFinding.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ApplicationError) as refused:
        record(s, fp, july, "C112", "看错了", lifts=True)
    assert refused.value.code == "veto_found_here"
    with pytest.raises(NotAllowed):
        veto_withdraw(actor=other, finding=finding, access=ACCESS)
    _nothing_changed(before)
    assert round_results(july)[s["enrollments"]["C112"].pk].outcome == "vetoed"
    veto_withdraw(actor=fp, finding=finding, access=ACCESS)
    assert not VetoFinding.objects.exists()
    event = AuditEvent.objects.get(action="veto.withdrawn")
    assert event.before["reason"] == "台账造假" and event.before["round"] == 2
    assert round_results(fresh(july))[s["enrollments"]["C112"].pk].outcome == "standard_unit"


def test_the_page_shows_the_standing_veto_and_lifts_it_keeping_what_was_typed(
    july_veto, client_for
):
    s = july_veto
    page_url = reverse("score_community", args=["c", 3, "C111"])
    post_url = reverse("score_vetoes", args=["c", 3, "C111"])
    browser = client_for(s["fp"])
    page = browser.get(page_url).content.decode()
    assert 'data-testid="vetoes"' in page
    assert 'data-veto="V1" data-state="standing"' in page
    assert "发现辖区内发生重大安全责任事故" in page and "fp0" in page
    assert 'data-found-in="2" data-by="fp0"' in page
    # Recording it again is refused beside the control, the text kept; nothing written.
    before = (VetoFinding.objects.count(), AuditEvent.objects.count())
    response = browser.post(post_url, {"action": "record", "veto": "V1", "text": "再次发现<b>"})
    assert response.status_code == 302
    _nothing_changed(before)
    page = browser.get(page_url).content.decode()
    assert 'id="veto-V1-error" role="alert"' in page and "再次发现&lt;b&gt;" in page
    # An empty lift: the field's message.
    browser.post(post_url, {"action": "lift", "veto": "V1", "text": ""})
    _nothing_changed(before)
    assert 'id="veto-V1-error" role="alert"' in browser.get(page_url).content.decode()
    browser.post(post_url, {"action": "lift", "veto": "V1", "text": "整改到位"})
    lift = VetoFinding.objects.get(round=s["november"])
    assert lift.lifts and lift.reason == "整改到位"
    page = browser.get(page_url).content.decode()
    assert 'data-state="lifted"' in page and "整改到位" in page
    # He withdraws his own lift of this open round.
    browser.post(post_url, {"action": "withdraw", "veto": "V1", "finding": str(lift.public_id)})
    assert not VetoFinding.objects.filter(round=s["november"]).exists()


def test_the_page_records_a_finding_in_an_open_round(scoring, client_for):
    s = scoring
    browser = client_for(s["assessors"][0])
    post_url = reverse("score_vetoes", args=["c", 2, "C111"])
    browser.post(post_url, {"action": "record", "veto": "V1", "text": "发生群体性事件"})
    finding = VetoFinding.objects.get()
    assert not finding.lifts and finding.round == s["round"]
    assert AuditEvent.objects.filter(action="veto.recorded").count() == 1
    page = browser.get(reverse("score_community", args=["c", 2, "C111"])).content.decode()
    assert 'data-state="found"' in page and "发生群体性事件" in page


def test_an_assessor_with_nothing_to_rescore_still_reaches_the_veto_control(demo, client_for):
    """November re-scores only what lost points: the family-planning assessor has none of his
    items to re-score at 站前社区, yet must be able to record his department's veto there (the page
    answered 404)."""
    from civicmark.accounts.models import User
    from civicmark.scoring.models import VetoFinding

    assessor = User.objects.get(username="assessor")
    client = client_for(assessor)
    url = f"/campaigns/{demo.slug}/rounds/3/score/990121001002/"
    page = client.get(url)
    assert page.status_code == 200
    assert b'data-testid="nothing-to-rescore"' in page.content
    assert b'data-testid="score-form"' not in page.content
    veto = demo.standard.vetoes.get(department__code="FP")
    before = VetoFinding.objects.count()
    answer = client.post(
        url + "vetoes/", {"action": "record", "veto": veto.code, "text": "超生未处理"}
    )
    assert answer.status_code in (200, 302)
    assert VetoFinding.objects.count() == before + 1
