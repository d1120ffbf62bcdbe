"""Appeals (issue 17 item 3): the community's staff contest one item or veto finding of a
signed-off round within the campaign's window; the round's lead assigns a reviewer who did not
judge it; the reviewer upholds or changes it, and a change flows through the scoring core to
the stored result, the ranking, the workflow state and the certificate. Every refusal changes
nothing and writes no audit event."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from civicmark.accounts.models import RoleAssignment
from civicmark.assessments.access import ACCESS
from civicmark.assessments.services import round_finalise, score_save
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.quality.appeals import (
    AppealRefused,
    Decision,
    appeal_assign,
    appeal_counts,
    appeal_decide,
    appeal_file,
    reviewer_candidates,
)
from civicmark.quality.models import Appeal, AppealEvidence, AppealStatus
from civicmark.results.models import Certificate
from civicmark.results.services import certificates_issue
from civicmark.scoring import reader
from civicmark.scoring.disagreements import settle
from civicmark.scoring.findings import veto_record
from civicmark.scoring.models import Settlement, VetoFinding
from tests.factories import closed_notice, person

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _english():  # noqa: ANN202
    with translation.override("en"):
        yield


# C111 loses 10 on A1 (90: a standard unit); C112 loses 25 on A1 (75: not reached); C121 is
# vetoed by V1; C211 keeps every point. fp0 scores every item; fp1 and fp2 score nothing.
LOST = {"C111": {"A1": 10}, "C112": {"A1": 25}}


@pytest.fixture
def signed(scoring, world):  # noqa: ANN001, ANN201
    return sign_off(scoring, world)


def sign_off(scoring, world):  # noqa: ANN001, ANN201
    """The round scored as LOST says, C121 vetoed, signed off by the city, the communities in
    the states its results give; staff for three communities, the lead and a reviewer (fp1)."""
    s = scoring
    round_ = s["round"]
    scorer = s["assessors"][0]
    for code, enrollment in s["enrollments"].items():
        for item in s["items"].values():
            lost = LOST.get(code, {}).get(item.code, 0)
            score_save(
                actor=scorer,
                round_=round_,
                enrollment=enrollment,
                item=item,
                points=item.points - lost,
                reason="扣分" if lost else "",
            )
    veto_record(
        actor=scorer,
        round_=round_,
        enrollment=s["enrollments"]["C121"],
        veto=s["standard"].vetoes.get(code="V1"),
        reason="发生重大案件",
        access=ACCESS,
    )
    round_finalise(actor=world.users["city_admin"], round_=round_)
    states = {"C111": "standard_unit", "C112": "not_reached", "C121": "vetoed"}
    states["C211"] = "standard_unit"
    for code, status in states.items():
        s["enrollments"][code].__class__.objects.filter(pk=s["enrollments"][code].pk).update(
            status=status
        )
        s["enrollments"][code].refresh_from_db()
    round_.refresh_from_db()
    s["staff"] = {
        "C111": world.users["community_staff"],
        "C112": person("staff112", "community_staff", world.d["C112"]),
        "C121": person("staff121", "community_staff", world.d["C121"]),
    }
    s["lead"] = world.users["city_admin"]
    s["reviewer"] = s["assessors"][1]
    return s


def _state() -> tuple[object, ...]:
    return (
        sorted(Appeal.objects.values_list("pk", "status", "reviewer_id", "decision")),
        AppealEvidence.objects.count(),
        sorted(Settlement.objects.values_list("pk", "points", "source")),
        VetoFinding.objects.count(),
        Certificate.objects.filter(revoked_at__isnull=True).count(),
        AuditEvent.objects.count(),
    )


def _file(s, code="C112", item="A1", **kw):  # noqa: ANN001, ANN003, ANN202
    return appeal_file(
        actor=kw.pop("actor", s["staff"].get(code)),
        round_=s["round"],
        enrollment=s["enrollments"][code],
        item=s["items"][item] if item else None,
        statement=kw.pop("statement", "台账第3页已记录，见附件"),
        **kw,
    )


def _assigned(s, code="C112", item="A1"):  # noqa: ANN001, ANN202
    appeal = _file(s, code, item)
    return appeal_assign(actor=s["lead"], appeal=appeal, reviewer=s["reviewer"])


def _total(s, code):  # noqa: ANN001, ANN202
    return reader.stored(s["round"], [s["enrollments"][code].pk]).get()


# --- filing -----------------------------------------------------------------------------------


def test_it_files_an_appeal_with_a_document_and_an_audit_event(signed):
    upload = SimpleUploadedFile("台账.pdf", PDF, content_type="application/pdf")
    appeal = _file(signed, upload=upload)
    assert appeal.status == AppealStatus.FILED
    assert appeal.files.get().sha256
    event = AuditEvent.objects.get(action="appeal.filed")
    assert event.object_ref == str(appeal.public_id)
    assert event.after["item"] == "A1"


@pytest.mark.parametrize(
    "who", ["city_admin", "county_officer", "town_officer", "assessor", "viewer", "other_staff"]
)
def test_only_the_communitys_own_staff_files(signed, world, who):
    before = _state()
    with pytest.raises(NotAllowed):
        _file(signed, actor=world.users[who])
    assert _state() == before


def test_a_round_not_finalised_takes_no_appeal(scoring, world):
    s = scoring
    score_save(
        actor=s["assessors"][0],
        round_=s["round"],
        enrollment=s["enrollments"]["C111"],
        item=s["items"]["A1"],
        points=Decimal(20),
        reason="扣分",
    )
    before = _state()
    with pytest.raises(ApplicationError, match="not final yet"):
        appeal_file(
            actor=world.users["community_staff"],
            round_=s["round"],
            enrollment=s["enrollments"]["C111"],
            item=s["items"]["A1"],
            statement="不服",
        )
    assert _state() == before


def test_the_window_closes_after_the_campaigns_days(signed):
    opened = timezone.localdate(signed["round"].finalised_at)
    last = opened + timedelta(days=7)
    assert _file(signed, today=last).status == AppealStatus.FILED
    before = _state()
    with pytest.raises(AppealRefused, match=f"closed on {last.isoformat()}"):
        _file(signed, code="C111", today=last + timedelta(days=1))
    assert _state() == before


def test_a_campaign_with_no_appeal_days_takes_none(signed):
    signed["campaign"].__class__.objects.filter(pk=signed["campaign"].pk).update(appeal_days=0)
    signed["round"].campaign.refresh_from_db()
    before = _state()
    with pytest.raises(AppealRefused, match="takes no appeals"):
        _file(signed)
    assert _state() == before


def test_an_item_the_community_was_not_scored_on_is_refused(signed):
    from civicmark.scoring.models import Score

    Score.objects.filter(
        enrollment=signed["enrollments"]["C112"], item=signed["items"]["B2"]
    ).delete()
    before = _state()
    with pytest.raises(AppealRefused, match="B2 was not scored") as refused:
        _file(signed, item="B2")
    assert refused.value.field == "subject"
    assert _state() == before


def test_a_second_open_appeal_on_the_same_item_is_refused(signed):
    _file(signed)
    before = _state()
    with pytest.raises(AppealRefused, match="already open"):
        _file(signed)
    assert _state() == before


@pytest.mark.parametrize("statement", ["", "   ", "长" * 4001])
def test_an_empty_or_overlong_statement_is_refused(signed, statement):
    before = _state()
    with pytest.raises(AppealRefused) as refused:
        _file(signed, statement=statement)
    assert refused.value.field == "statement"
    assert _state() == before


def test_a_file_that_is_not_a_document_is_refused_and_not_kept(signed, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    before = _state()
    with pytest.raises(AppealRefused) as refused:
        _file(signed, upload=SimpleUploadedFile("x.pdf", b"MZ\x90\x00", "application/pdf"))
    assert refused.value.field == "file"
    assert _state() == before
    assert not list(tmp_path.rglob("*.*"))


# --- assigning --------------------------------------------------------------------------------


def test_the_lead_assigns_a_reviewer_who_did_not_score_it(signed):
    appeal = _assigned(signed)
    assert appeal.status == AppealStatus.ASSIGNED
    assert appeal.reviewer == signed["reviewer"]
    assert AuditEvent.objects.filter(action="appeal.assigned").count() == 1


def test_the_scorer_is_no_candidate_and_is_refused(signed):
    appeal = _file(signed)
    scorer = signed["assessors"][0]
    assert scorer not in reviewer_candidates(appeal)
    assert signed["reviewer"] in reviewer_candidates(appeal)
    before = _state()
    with pytest.raises(AppealRefused, match="scored it in that round") as refused:
        appeal_assign(actor=signed["lead"], appeal=appeal, reviewer=scorer)
    assert refused.value.field == "reviewer"
    assert _state() == before


def test_a_reviewer_tied_to_the_community_is_refused(signed, world):
    appeal = _file(signed)
    tied = signed["assessors"][2]
    RoleAssignment.objects.create(user=tied, role="community_staff", division=world.d["C112"])
    before = _state()
    with pytest.raises(AppealRefused, match="lives or works in"):
        appeal_assign(actor=signed["lead"], appeal=appeal, reviewer=tied)
    assert tied not in reviewer_candidates(appeal)
    assert _state() == before


def test_an_assessor_of_another_department_is_refused(signed, world):
    appeal = _file(signed)
    before = _state()
    with pytest.raises(AppealRefused, match="not an assessor of its department"):
        appeal_assign(actor=signed["lead"], appeal=appeal, reviewer=world.users["assessor"])
    assert _state() == before


@pytest.mark.parametrize(
    "who", ["county_officer", "town_officer", "community_staff", "assessor", "viewer", "nobody"]
)
def test_only_the_rounds_lead_assigns(signed, world, who):
    appeal = _file(signed)
    before = _state()
    with pytest.raises(NotAllowed):
        appeal_assign(actor=world.users[who], appeal=appeal, reviewer=signed["reviewer"])
    assert _state() == before


# --- deciding ---------------------------------------------------------------------------------


def test_only_the_assigned_reviewer_decides(signed, world):
    appeal = _assigned(signed)
    before = _state()
    for who in (signed["lead"], signed["assessors"][2], signed["staff"]["C112"]):
        with pytest.raises(NotAllowed):
            appeal_decide(actor=who, appeal=appeal, decision=Decision(change=False, reason="维持"))
    assert _state() == before


def test_an_upheld_appeal_changes_no_score(signed):
    appeal = _assigned(signed)
    total = _total(signed, "C112").total
    decided = appeal_decide(
        actor=signed["reviewer"], appeal=appeal, decision=Decision(change=False, reason="扣分有据")
    )
    assert decided.status == AppealStatus.UPHELD
    assert not Settlement.objects.exists()
    assert _total(signed, "C112").total == total
    assert AuditEvent.objects.filter(action="appeal.decided").count() == 1


@pytest.mark.parametrize(
    ("decision", "field"),
    [
        (Decision(change=True, reason="", points=Decimal(25)), "reason"),
        (Decision(change=True, reason="改", points=None), "points"),
        (Decision(change=True, reason="改", points=Decimal(5)), "points"),  # its value already
        (Decision(change=True, reason="改", points=Decimal(31)), "points"),  # above the maximum
        (Decision(change=True, reason="改", points=Decimal("25.3")), "points"),  # off the step
    ],
)
def test_a_refused_decision_writes_nothing(signed, decision, field):
    appeal = _assigned(signed)
    before = _state()
    with pytest.raises(ApplicationError) as refused:
        appeal_decide(actor=signed["reviewer"], appeal=appeal, decision=decision)
    assert getattr(refused.value, "field", None) == field
    assert _state() == before
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.ASSIGNED


def _issue(s) -> None:  # noqa: ANN001
    """The city issues the round's certificates once its standard units' notice has closed."""
    named = [e for e in s["enrollments"].values() if _fresh(e).status in ("standard_unit",)]
    closed_notice(s["round"], named)
    certificates_issue(actor=s["lead"], round_=s["round"])


def _fresh(e):  # noqa: ANN001, ANN202
    e.refresh_from_db()
    return e


def test_a_changed_score_flows_to_the_result_ranking_workflow_and_certificate(signed):
    s = signed
    _issue(s)
    assert not Certificate.objects.filter(enrollment=s["enrollments"]["C112"]).exists()
    assert _total(s, "C112").outcome == "not_reached"
    ranking_before = [r.enrollment_id for r in reader.stored(s["round"]).order_by("-total")]
    assert ranking_before[-1] == s["enrollments"]["C112"].pk

    appeal = _assigned(s)
    decided = appeal_decide(
        actor=s["reviewer"],
        appeal=appeal,
        decision=Decision(change=True, reason="台账完整，应得满分", points=Decimal(30)),
    )

    assert decided.status == AppealStatus.CHANGED
    assert (decided.value_before, decided.value_after) == ("5.00", "30.00")
    assert (decided.total_before, decided.total_after) == (Decimal(75), Decimal(100))
    settlement = Settlement.objects.get()
    assert (settlement.source, settlement.appeal_ref) == ("appeal", str(appeal.public_id))
    result = _total(s, "C112")
    assert (result.total, result.outcome) == (Decimal(100), "standard_unit")
    ranking = [r.enrollment_id for r in reader.stored(s["round"]).order_by("-total", "pk")]
    assert ranking.index(s["enrollments"]["C112"].pk) < ranking.index(s["enrollments"]["C111"].pk)
    s["enrollments"]["C112"].refresh_from_db()
    assert s["enrollments"]["C112"].status == "standard_unit"
    # A title the appeal gives waits for its public notice (ADR 22), then the city issues it.
    assert not Certificate.objects.filter(enrollment=s["enrollments"]["C112"]).exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"score.appeal_changed", "appeal.decided", "workflow.appeal_followed"} <= actions
    closed_notice(s["round"], [s["enrollments"]["C112"]])
    certificates_issue(actor=s["lead"], round_=s["round"])
    certificate = Certificate.objects.get(enrollment=s["enrollments"]["C112"])
    assert certificate.stands and certificate.total == Decimal(100)


def test_a_lowered_total_revokes_the_certificate_and_issues_the_corrected_one(signed):
    s = signed
    _issue(s)
    old = Certificate.objects.get(enrollment=s["enrollments"]["C111"])
    appeal = _assigned(s, code="C111")
    appeal_decide(
        actor=s["reviewer"],
        appeal=appeal,
        decision=Decision(change=True, reason="复核：应扣五分", points=Decimal(25)),
    )
    old.refresh_from_db()
    assert not old.stands and old.revoked_reason == "复核：应扣五分"
    new = Certificate.objects.get(enrollment=s["enrollments"]["C111"], revoked_at__isnull=True)
    assert new.total == Decimal(95)


def test_a_veto_appeal_that_succeeds_overturns_the_finding(signed):
    s = signed
    veto = s["standard"].vetoes.get(code="V1")
    appeal = appeal_file(
        actor=s["staff"]["C121"],
        round_=s["round"],
        enrollment=s["enrollments"]["C121"],
        veto=veto,
        statement="案件发生在辖区外",
    )
    # The finding's own assessor may not review it; one who did not may.
    with pytest.raises(AppealRefused, match="scored it"):
        appeal_assign(actor=s["lead"], appeal=appeal, reviewer=s["assessors"][0])
    appeal_assign(actor=s["lead"], appeal=appeal, reviewer=s["reviewer"])
    assert _total(s, "C121").outcome == "vetoed"
    appeal_decide(
        actor=s["reviewer"],
        appeal=Appeal.objects.get(pk=appeal.pk),
        decision=Decision(change=True, reason="核实案件不在本辖区"),
    )
    assert not VetoFinding.objects.filter(enrollment=s["enrollments"]["C121"]).exists()
    assert _total(s, "C121").outcome == "standard_unit"
    s["enrollments"]["C121"].refresh_from_db()
    assert s["enrollments"]["C121"].status == "standard_unit"
    assert AuditEvent.objects.filter(action="veto.overturned").count() == 1


def test_counts_per_round_and_department(signed):
    s = signed
    upheld = _assigned(s, code="C111")
    appeal_decide(
        actor=s["reviewer"], appeal=upheld, decision=Decision(change=False, reason="维持")
    )
    changed = _assigned(s, code="C112")
    appeal_decide(
        actor=s["reviewer"],
        appeal=changed,
        decision=Decision(change=True, reason="改", points=Decimal(20)),
    )
    _file(s, code="C112", item="A2")  # PSB's item, still open
    total, by_department = appeal_counts(s["round"])
    assert (total.filed, total.open, total.upheld, total.changed) == (3, 1, 1, 1)
    rows = {r.department.code: (r.filed, r.open, r.upheld, r.changed) for r in by_department}
    assert rows == {"FP": (2, 0, 1, 1), "PSB": (1, 1, 0, 0)}


# --- the scoring core: an appeal is the one way into a sealed round ---------------------------


def test_the_leads_settlement_still_refuses_a_sealed_round(signed):
    from civicmark.assessments.settling import SETTLE_ACCESS

    before = _state()
    with pytest.raises(ApplicationError, match="finalised"):
        settle(
            actor=signed["lead"],
            round_=signed["round"],
            enrollment=signed["enrollments"]["C112"],
            item=signed["items"]["A1"],
            points=Decimal(30),
            reason="改",
            access=SETTLE_ACCESS,
        )
    assert _state() == before


def test_the_appeal_route_refuses_an_open_round(scoring, world):
    from civicmark.quality.appeals import SEAL
    from civicmark.scoring.disagreements import appeal_settle

    s = scoring
    score_save(
        actor=s["assessors"][0],
        round_=s["round"],
        enrollment=s["enrollments"]["C111"],
        item=s["items"]["A1"],
        points=Decimal(20),
        reason="扣分",
    )
    before = _state()
    with pytest.raises(ApplicationError, match="round is open"):
        appeal_settle(
            actor=s["assessors"][1],
            round_=s["round"],
            enrollment=s["enrollments"]["C111"],
            item=s["items"]["A1"],
            points=Decimal(30),
            reason="改",
            appeal_ref="x",
            access=SEAL,
        )
    assert _state() == before


# --- the demo ---------------------------------------------------------------------------------


def test_the_demo_has_one_appeal_upheld_and_one_changed_on_july(demo):
    round_ = demo.rounds.get(number=2)
    found = {a.enrollment.community.code: a for a in Appeal.objects.filter(round=round_)}
    assert {c: a.status for c, a in found.items()} == {
        "990121001001": AppealStatus.CHANGED,
        "990121100004": AppealStatus.UPHELD,
    }
    changed = found["990121001001"]
    assert changed.reviewer.username == "county-assessor-fp"
    assert (changed.total_before, changed.total_after) == (Decimal(89), Decimal("89.5"))
    stored = reader.stored(round_, [changed.enrollment_id]).get()
    assert stored.total == changed.total_after
    total, _rows = appeal_counts(round_)
    assert (total.filed, total.upheld, total.changed) == (2, 1, 1)


# --- the pages --------------------------------------------------------------------------------


@pytest.fixture
def english_client_for(client_for):  # noqa: ANN001, ANN201
    from django.conf import settings

    def login(user):  # noqa: ANN001, ANN202
        signed_in = client_for(user)
        signed_in.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return signed_in

    return login


def _url(name, s, *more):  # noqa: ANN001, ANN002, ANN202
    from django.urls import reverse

    return reverse(name, args=[s["campaign"].slug, s["round"].number, *more])


def test_the_result_page_links_the_communitys_staff_to_its_appeal(signed, english_client_for):
    from django.urls import reverse

    page = reverse("community_result", args=["c", 2, "C112"])
    own = english_client_for(signed["staff"]["C112"]).get(page).content.decode()
    assert _url("appeal_new", signed, "C112") in own
    other = english_client_for(signed["lead"]).get(page).content.decode()
    assert _url("appeal_new", signed, "C112") not in other


def test_a_refused_appeal_shows_what_was_typed_and_the_error_beside_it(signed, english_client_for):
    client = english_client_for(signed["staff"]["C112"])
    before = _state()
    response = client.post(
        _url("appeal_new", signed, "C112"),
        {"subject": f"item:{signed['items']['A1'].pk}", "statement": "长" * 4001},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "长" * 4001 in page
    assert "at most 4000 characters" in page or "4000" in page
    assert _state() == before
    response = client.post(
        _url("appeal_new", signed, "C112"),
        {"subject": f"item:{signed['items']['A1'].pk}", "statement": "台账齐全"},
    )
    assert response.status_code == 302
    assert Appeal.objects.get().statement == "台账齐全"


def test_the_appeal_page_says_when_the_window_closed(signed, english_client_for):
    ten_days_ago = timezone.now() - timedelta(days=10)
    signed["round"].__class__.objects.filter(pk=signed["round"].pk).update(
        finalised_at=ten_days_ago
    )
    page = english_client_for(signed["staff"]["C112"]).get(_url("appeal_new", signed, "C112"))
    closed = (timezone.localdate(ten_days_ago) + timedelta(days=7)).isoformat()
    assert f"The window for appeals closed on {closed}" in page.content.decode()
    assert 'data-testid="appeal-form"' not in page.content.decode()


@pytest.mark.parametrize("who", ["other_staff", "assessor", "town_officer", "viewer"])
def test_an_appeal_is_hidden_from_everyone_else(signed, world, english_client_for, who):
    appeal = _assigned(signed)
    client = english_client_for(world.users[who])
    assert client.get(_url("appeal_detail", signed, appeal.public_id)).status_code == 404
    assert client.get(_url("appeal_round", signed)).status_code == 404


def test_the_reviewer_sees_the_scores_and_decides_on_the_page(signed, english_client_for):
    appeal = _assigned(signed)
    client = english_client_for(signed["reviewer"])
    page = client.get(_url("appeal_detail", signed, appeal.public_id)).content.decode()
    assert 'data-testid="decision-form"' in page and "fp0" in page and "5.00" in page
    response = client.post(
        _url("appeal_detail", signed, appeal.public_id),
        {"decision": "change", "points": "40", "reason": "改"},
    )
    assert response.status_code == 422
    assert 'value="40"' in response.content.decode()
    response = client.post(
        _url("appeal_detail", signed, appeal.public_id),
        {"decision": "change", "points": "30", "reason": "台账齐全"},
    )
    assert response.status_code == 302
    assert _total(signed, "C112").total == Decimal(100)


def test_the_leads_page_assigns_and_counts(signed, english_client_for):
    appeal = _file(signed)
    client = english_client_for(signed["lead"])
    page = client.get(_url("appeal_round", signed)).content.decode()
    assert 'data-testid="appeal-counts"' in page and "fp1" in page
    assert '<option value="fp0"' not in page  # the scorer is not offered
    refused = client.post(
        _url("appeal_assign", signed, appeal.public_id), {f"a{appeal.pk}-reviewer": "fp0"}
    )
    assert refused.status_code == 422
    assert Appeal.objects.get().reviewer is None
    done = client.post(
        _url("appeal_assign", signed, appeal.public_id), {f"a{appeal.pk}-reviewer": "fp1"}
    )
    assert done.status_code == 302
    assert Appeal.objects.get().reviewer == signed["reviewer"]


def test_the_todo_names_who_must_act_at_each_step(signed):
    from civicmark.quality.todo import todos_for

    def keys(user):  # noqa: ANN001, ANN202
        found = todos_for(user=user, campaign=signed["campaign"], today=timezone.localdate())
        return {t.key: t.count for t in found if t.key.startswith("appeals")}

    appeal = _file(signed)
    assert keys(signed["lead"]) == {"appeals_to_assign": 1}
    assert keys(signed["reviewer"]) == {}
    appeal_assign(actor=signed["lead"], appeal=appeal, reviewer=signed["reviewer"])
    assert keys(signed["lead"]) == {}
    assert keys(signed["reviewer"]) == {"appeals_to_decide": 1}
    assert keys(signed["staff"]["C112"]) == {}
    appeal_decide(
        actor=signed["reviewer"],
        appeal=Appeal.objects.get(),
        decision=Decision(change=False, reason="维持"),
    )
    assert keys(signed["reviewer"]) == {}
    assert keys(signed["staff"]["C112"]) == {"appeals_decided": 1}
    assert keys(signed["staff"]["C111"]) == {}


@pytest.mark.parametrize(("typed", "days"), [("", 7), ("0", 0), ("30", 30)])
def test_the_campaign_form_reads_the_appeal_window(world, typed, days):
    from civicmark.campaigns.views import CampaignForm

    form = CampaignForm({"appeal_days": typed}, user=world.users["city_admin"])
    form.is_valid()
    assert "appeal_days" not in form.errors
    assert form.cleaned_data["appeal_days"] == days


@pytest.mark.parametrize("typed", ["-1", "91", "7.5", "NaN", "七"])
def test_the_campaign_form_refuses_a_window_it_cannot_keep(world, typed):
    from civicmark.campaigns.views import CampaignForm

    form = CampaignForm({"appeal_days": typed}, user=world.users["city_admin"])
    assert not form.is_valid()
    assert "appeal_days" in form.errors


def test_the_campaign_service_refuses_a_window_beyond_a_quarter(world):
    from civicmark.campaigns.models import Campaign
    from civicmark.campaigns.services import campaign_create
    from tests.factories import small_standard

    standard = small_standard(world)
    with pytest.raises(ApplicationError, match="0 to 90 days"):
        campaign_create(
            actor=None,
            slug="w",
            name="w",
            year=2026,
            division=world.d["C"],
            standard=standard,
            appeal_days=91,
        )
    assert not Campaign.objects.filter(slug="w").exists()


def test_the_window_rule_over_many_windows_and_days(signed):
    """Taken on the day of the results and every day up to `appeal_days` after; refused from
    the day after, naming that last day; never with no days."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from civicmark.quality.appeals import window_refusal

    round_, enrollment = signed["round"], signed["enrollments"]["C112"]
    opened = timezone.localdate(round_.finalised_at)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(days=st.integers(0, 90), offset=st.integers(-3, 120))
    def check(days: int, offset: int) -> None:
        round_.campaign.appeal_days = days
        refusal = window_refusal(round_, enrollment, opened + timedelta(days=offset))
        if days == 0:
            assert refusal == "This campaign takes no appeals."
        elif offset <= days:
            assert refusal is None
        else:
            last = (opened + timedelta(days=days)).isoformat()
            assert refusal == f"The window for appeals closed on {last}."

    check()


def test_the_result_page_says_an_item_was_changed_on_appeal(signed, english_client_for):
    from django.urls import reverse

    appeal = _assigned(signed, code="C111")
    appeal_decide(
        actor=signed["reviewer"],
        appeal=appeal,
        decision=Decision(change=True, reason="复核：应扣五分", points=Decimal(25)),
    )
    page = english_client_for(signed["staff"]["C111"]).get(
        reverse("community_result", args=["c", 2, "C111"])
    )
    shown = page.content.decode()
    assert 'data-testid="settled-A1"' in shown
    assert "changed on appeal" in shown and "复核：应扣五分" in shown


def test_an_appeals_document_goes_to_its_readers_only(
    signed, world, english_client_for, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("台账.pdf", PDF, content_type="application/pdf")
    appeal = appeal_assign(
        actor=signed["lead"], appeal=_file(signed, upload=upload), reviewer=signed["reviewer"]
    )
    url = _url("appeal_document", signed, appeal.public_id, appeal.files.get().public_id)
    for who in (signed["staff"]["C112"], signed["lead"], signed["reviewer"]):
        response = english_client_for(who).get(url)
        assert response.status_code == 200, who
        assert "attachment" in response["Content-Disposition"]
    for who in ("other_staff", "assessor", "viewer"):
        assert english_client_for(world.users[who]).get(url).status_code == 404


def _set_status(s, code, status):  # noqa: ANN001, ANN202
    enrollment = s["enrollments"][code]
    enrollment.__class__.objects.filter(pk=enrollment.pk).update(status=status)
    enrollment.refresh_from_db()


def _change(s, code, points):  # noqa: ANN001, ANN202
    return appeal_decide(
        actor=s["reviewer"],
        appeal=_assigned(s, code=code),
        decision=Decision(change=True, reason="复核改分", points=Decimal(points)),
    )


def test_a_rectifying_community_made_a_standard_unit_follows(signed):
    _set_status(signed, "C112", "rectifying")
    _change(signed, "C112", 30)
    signed["enrollments"]["C112"].refresh_from_db()
    assert signed["enrollments"]["C112"].status == "standard_unit"


def test_a_result_lowered_below_the_standard_moves_the_state_and_revokes_the_title(signed):
    _issue(signed)
    _change(signed, "C111", 0)  # 90 - 20 = 70: not reached
    signed["enrollments"]["C111"].refresh_from_db()
    assert signed["enrollments"]["C111"].status == "not_reached"
    certificates = Certificate.objects.filter(enrollment=signed["enrollments"]["C111"])
    assert [c.stands for c in certificates] == [False]
    assert certificates.get().revoked_reason == "复核改分"


@pytest.mark.parametrize("status", ["proposed", "commended"])
def test_a_proposed_or_commended_community_keeps_its_state_for_the_city(signed, status):
    _set_status(signed, "C111", status)
    _change(signed, "C111", 0)
    signed["enrollments"]["C111"].refresh_from_db()
    assert signed["enrollments"]["C111"].status == status
    assert not AuditEvent.objects.filter(action="workflow.appeal_followed").exists()
