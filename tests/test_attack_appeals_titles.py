"""An insider's attack on appeals (issue 17 item 3) and on the dynamic management of titles
(item 4, ADR 20).

Each test tries what an insider would: community staff filing for another community, on an
item not scored, after the window, a document that is not one; the lead assigning himself or
someone who judged the item already; the reviewer deciding twice or changing a value the item
does not allow; anyone but the appeal service writing into a sealed round; a withdrawn title
given back by an appeal's decision, or a failing re-check escaped through one. A refused request
changes nothing at all (`nothing_changes`, the write matrix's hash of every table); what holds
is kept as a test too, briefly.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from civicmark.accounts.models import RoleAssignment
from civicmark.campaigns.models import AcceptanceRound
from civicmark.core.errors import NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.quality.appeals import (
    AppealRefused,
    Decision,
    appeal_assign,
    appeal_decide,
    appeal_file,
    reviewer_candidates,
)
from civicmark.quality.models import Appeal, AppealStatus
from civicmark.results import titles
from civicmark.results.models import Certificate, RecheckStatus, TitleRecheck
from tests.factories import person
from tests.test_appeals import _issue, sign_off
from tests.test_write_matrix import fingerprint

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _english():  # noqa: ANN202
    with translation.override("en"):
        yield


@pytest.fixture
def signed(scoring, world):  # noqa: ANN001, ANN201
    """test_appeals' signed-off round: C111 90 (standard unit), C112 75 (not reached), C121
    vetoed, C211 100; fp0 scored everything, fp1 is the reviewer, city_admin the lead."""
    return sign_off(scoring, world)


@contextmanager
def nothing_changes() -> Iterator[None]:
    before = fingerprint()
    yield
    assert fingerprint() == before, "a refused request changed the database"


def client_of(user: Any) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    if user is not None:
        client.force_login(user)
    return client


def file(s: dict[str, Any], code: str = "C112", item: str = "A1", **kw: Any) -> Appeal:
    return appeal_file(
        actor=kw.pop("actor", s["staff"].get(code)),
        round_=s["round"],
        enrollment=s["enrollments"][code],
        item=s["items"][item] if item else None,
        statement=kw.pop("statement", "台账第3页已记录"),
        today=kw.pop("today", TODAY),
        **kw,
    )


def assigned(s: dict[str, Any], code: str = "C112", item: str = "A1", **kw: Any) -> Appeal:
    return appeal_assign(actor=s["lead"], appeal=file(s, code, item, **kw), reviewer=s["reviewer"])


def change(s: dict[str, Any], appeal: Appeal, points: str | None, **kw: Any) -> Appeal:
    return appeal_decide(
        actor=kw.pop("actor", s["reviewer"]),
        appeal=appeal,
        decision=Decision(
            change=True,
            reason=kw.pop("reason", "复核：台账完整"),
            points=None if points is None else Decimal(points),
            **kw,
        ),
    )


# --- a withdrawn title, and a failing re-check, against an appeal's decision ------------------


def _failed_recheck(s: dict[str, Any], code: str, *, due: dt.date) -> TitleRecheck:
    """The city draws this year's re-checks among the standing titles and C111's fails, its
    rectification due on `due`."""
    AcceptanceRound.objects.filter(campaign=s["campaign"]).update(
        opens_on=TODAY - dt.timedelta(days=120), closes_on=TODAY - dt.timedelta(days=90)
    )
    draw = titles.recheck_draw(
        actor=s["lead"],
        campaign=s["campaign"],
        year=TODAY.year,
        kind="count",
        standard_size=10,
        commended_size=0,
        seed=7,
    )
    recheck = draw.rechecks.get(certificate__enrollment=s["enrollments"][code])
    return titles.recheck_record(
        actor=s["lead"],
        recheck=recheck,
        passed=False,
        checked_on=TODAY - dt.timedelta(days=30),
        finding="居民台账已停更",
        due_on=due,
        entered_on=TODAY - dt.timedelta(days=30),
    )


def _failed_again(s, recheck):  # noqa: ANN001, ANN202
    """The city's follow-up after the deadline fails: the title may be withdrawn now."""
    return titles.recheck_follow_up(
        actor=s["lead"], recheck=recheck, passed=False, checked_on=TODAY, finding="仍未整改"
    )


def test_an_appeal_decided_after_a_withdrawal_does_not_give_the_title_back(signed):
    """The hole: `certificate_follow` asked only whether a certificate stood. C111 appealed A1
    in time; before the reviewer decided, the city withdrew its title (failed re-check, deadline
    passed). The reviewer's change (90 to 100) then issued C111 a fresh certificate: the title
    the city had withdrawn stood again, and the public page verified it. `certificates_issue`
    already refuses a withdrawn title; the appeal's door did not."""
    s = signed
    _issue(s)
    appeal = assigned(s, code="C111")
    recheck = _failed_recheck(s, "C111", due=TODAY - dt.timedelta(days=1))
    titles.title_withdraw(actor=s["lead"], recheck=_failed_again(s, recheck), reason="逾期未整改")
    decided = change(s, Appeal.objects.get(pk=appeal.pk), "30")
    assert decided.status == AppealStatus.CHANGED and decided.total_after == Decimal(100)
    c111 = s["enrollments"]["C111"]
    assert not Certificate.objects.filter(enrollment=c111, revoked_at__isnull=True).exists()
    assert Certificate.objects.get(enrollment=c111).withdrawn


def test_an_appeals_corrected_certificate_keeps_the_titles_open_recheck(signed):
    """The same door, before the withdrawal: C111's title failed its re-check and its deadline
    has passed. An appeal changed A1 by a point (90 to 91), so `certificate_follow` revoked the
    certificate and issued the corrected one; the re-check stayed on the revoked certificate,
    which closes it ("the certificate no longer stands"): the city could no longer withdraw the
    title, and a failing community escaped its re-check through a one-point appeal."""
    s = signed
    _issue(s)
    appeal = assigned(s, code="C111")
    recheck = _failed_recheck(s, "C111", due=TODAY - dt.timedelta(days=1))
    change(s, Appeal.objects.get(pk=appeal.pk), "21")
    c111 = s["enrollments"]["C111"]
    corrected = Certificate.objects.get(enrollment=c111, revoked_at__isnull=True)
    assert corrected.total == Decimal(91)
    recheck.refresh_from_db()
    assert recheck.certificate == corrected and recheck.status == RecheckStatus.FAILED
    titles.title_withdraw(actor=s["lead"], recheck=_failed_again(s, recheck), reason="逾期未整改")
    corrected.refresh_from_db()
    assert corrected.withdrawn and not corrected.stands


# --- who reviews ------------------------------------------------------------------------------


def test_the_lead_does_not_assign_himself(signed, world):
    """The hole: the round's lead who also holds an assessor role of the item's department (a
    small city's administrator often does) was a candidate like any other, assigned himself and
    changed the score of a sealed round alone: ADR 20's change is "decided by someone who did
    not judge it, named by the lead", two people."""
    s = signed
    lead = s["lead"]
    RoleAssignment.objects.create(
        user=lead, role="assessor", division=world.d["C"], department=world.dept["FP"]
    )
    appeal = file(s)
    assert lead not in reviewer_candidates(appeal, lead=lead)
    with nothing_changes(), pytest.raises(AppealRefused, match="names someone else") as refused:
        appeal_assign(actor=lead, appeal=appeal, reviewer=lead)
    assert refused.value.field == "reviewer"


def test_the_lead_does_not_assign_himself_on_the_page(signed, world):
    s = signed
    lead = s["lead"]
    RoleAssignment.objects.create(
        user=lead, role="assessor", division=world.d["C"], department=world.dept["FP"]
    )
    appeal = file(s)
    url = reverse("appeal_assign", args=[s["campaign"].slug, s["round"].number, appeal.public_id])
    page = client_of(lead)
    assert (
        lead.username
        not in page.get(reverse("appeal_round", args=[s["campaign"].slug, s["round"].number]))
        .content.decode()
        .split("<select", 1)[-1]
        .split("</select>", 1)[0]
    )
    with nothing_changes():
        response = page.post(url, {f"a{appeal.pk}-reviewer": lead.username})
    assert response.status_code == 422


def test_the_reviewer_of_an_earlier_appeal_does_not_review_his_own_decision(signed):
    """The hole: once an appeal on C112's A1 was decided (changed to 20 by fp1), the community
    could appeal A1 again within the window and the lead assign fp1 once more: the reviewer
    judged his own settlement, which `_judges` did not count (only the scores and findings)."""
    s = signed
    first = assigned(s)
    change(s, first, "20")
    again = file(s)
    assert s["reviewer"] not in reviewer_candidates(again)
    with nothing_changes(), pytest.raises(AppealRefused, match="judged it") as refused:
        appeal_assign(actor=s["lead"], appeal=again, reviewer=s["reviewer"])
    assert refused.value.field == "reviewer"
    appeal_assign(actor=s["lead"], appeal=again, reviewer=s["assessors"][2])  # one who did not


def test_whoever_settled_the_item_does_not_review_it(signed):
    """The same rule for a value the round's lead settled before the sign-off: its settler
    judged the item, though he gave no score of his own."""
    from civicmark.scoring.models import Settlement

    s = signed
    settler = s["assessors"][2]
    Settlement.objects.create(
        round=s["round"],
        enrollment=s["enrollments"]["C112"],
        item=s["items"]["A1"],
        points=Decimal(5),
        reason="评分分歧，按低分",
        settled_by=settler,
    )
    appeal = file(s)
    assert settler not in reviewer_candidates(appeal)
    with nothing_changes(), pytest.raises(AppealRefused, match="judged it"):
        appeal_assign(actor=s["lead"], appeal=appeal, reviewer=settler)


# --- title re-checks: the municipal office's alone -------------------------------------------


def test_a_county_officer_named_lead_of_the_municipal_rounds_does_not_recheck_titles(signed, world):
    """The hole: `city_refusal` asked `can_lead_round`, which a county officer named lead of the
    municipal rounds passes. He drew the year's re-checks and recorded his own county's titles
    as passed (or withdrew another's): the same door the public notice closed (ADR 22, the
    municipal office's alone), since no community or town tie catches a county officer."""
    s = signed
    _issue(s)
    officer = world.users["county_officer"]
    AcceptanceRound.objects.filter(campaign=s["campaign"], level="city").update(lead=officer)
    with translation.override("en"):
        assert titles.city_refusal(officer, s["campaign"]) is not None
    with nothing_changes(), pytest.raises(NotAllowed, match="municipal office"):
        titles.recheck_draw(
            actor=officer,
            campaign=s["campaign"],
            year=TODAY.year,
            kind="count",
            standard_size=10,
            commended_size=0,
        )
    recheck = _failed_recheck(s, "C111", due=TODAY - dt.timedelta(days=1))
    page = client_of(officer)
    with nothing_changes():
        with pytest.raises(NotAllowed):
            titles.recheck_follow_up(
                actor=officer, recheck=recheck, passed=True, checked_on=TODAY, finding="已整改"
            )
        with pytest.raises(NotAllowed):
            titles.title_withdraw(actor=officer, recheck=recheck, reason="逾期")
        assert page.get(reverse("titles", args=[s["campaign"].slug])).status_code == 404


# --- what holds, kept briefly -----------------------------------------------------------------

SEALED_ROUTES = {"appeal_settle", "veto_overturn", "certificate_follow", "appeal_follow"}


def test_no_module_but_the_appeal_service_calls_the_routes_into_a_sealed_round():
    """`appeal_settle` and `veto_overturn` are the only writes into a signed-off round, and the
    follow-ups of a decision (workflow, certificate) trust the caller's checks: only
    `quality/appeals.py` may name them (their own modules only define them)."""
    root = Path(__file__).resolve().parents[1] / "civicmark"
    callers = set()
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            name = (
                node.attr
                if isinstance(node, ast.Attribute)
                else node.id
                if isinstance(node, ast.Name)
                else node.name
                if isinstance(node, ast.alias)
                else None
            )
            if name in SEALED_ROUTES:  # a definition is a FunctionDef, not a name
                callers.add(str(path.relative_to(root)))
    assert callers == {"quality/appeals.py"}


def test_staff_file_for_no_other_community_through_the_page(signed, world):
    s = signed
    url = reverse("appeal_new", args=[s["campaign"].slug, s["round"].number, "C112"])
    for who in ("community_staff", "other_staff", "town_officer", "county_officer"):
        page = client_of(world.users[who])
        with nothing_changes():
            response = page.post(url, {"subject": "item:A1", "statement": "不服"})
        assert response.status_code == 404


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("evidence.pdf", b"<html><script>alert(1)</script></html>"),
        (
            "evidence.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        ),
        ("evidence.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("evidence.html", PDF),  # a PDF named as a page: the name must agree with the content
        ("huge.pdf", PDF + b"0" * 2048),
    ],
)
def test_a_document_that_is_not_one_is_refused_and_nothing_is_kept(
    signed, settings, tmp_path, name, data
):
    settings.MEDIA_ROOT = tmp_path
    settings.EVIDENCE_MAX_BYTES = 2048
    with nothing_changes(), pytest.raises(AppealRefused) as refused:
        file(signed, upload=SimpleUploadedFile(name, data))
    assert refused.value.field == "file"
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_reviewers_outside_the_rule_are_refused(signed, world):
    """An assessor of the department appointed in another county (C112 is in K1), one of
    another department, and one whose account is closed: none is offered nor taken."""
    s = signed
    elsewhere = person("fp_k2", "assessor", world.d["K2"], department=world.dept["FP"])
    closed = person("fp_closed", "assessor", world.d["C"], department=world.dept["FP"])
    closed.is_active = False
    closed.save(update_fields=["is_active"])
    appeal = file(s)
    for who in (elsewhere, world.users["assessor"], closed):
        assert who not in reviewer_candidates(appeal)
        with nothing_changes(), pytest.raises(AppealRefused, match="not an assessor"):
            appeal_assign(actor=s["lead"], appeal=appeal, reviewer=who)


def test_a_reviewer_who_lost_his_account_or_role_after_the_assignment_decides_nothing(signed):
    s = signed
    appeal = assigned(s)
    reviewer = s["reviewer"]
    reviewer.is_active = False
    reviewer.save(update_fields=["is_active"])
    with nothing_changes(), pytest.raises(NotAllowed):
        change(s, appeal, "20")
    reviewer.is_active = True
    reviewer.save(update_fields=["is_active"])
    RoleAssignment.objects.filter(user=reviewer, department__code="FP").delete()
    reviewer = type(reviewer).objects.get(pk=reviewer.pk)  # his grants read afresh
    with nothing_changes(), pytest.raises(NotAllowed):
        change(s, appeal, "20", actor=reviewer)


def test_the_reviewer_decides_once_through_the_service_and_the_page(signed):
    s = signed
    appeal = assigned(s)
    url = reverse("appeal_detail", args=[s["campaign"].slug, s["round"].number, appeal.public_id])
    page = client_of(s["reviewer"])
    response = page.post(url, {"decision": "change", "points": "20", "reason": "复核"})
    assert response.status_code == 302
    with nothing_changes():
        with pytest.raises(AppealRefused, match="already decided"):
            change(s, appeal, "30")
        again = page.post(url, {"decision": "change", "points": "30", "reason": "再改"})
        assert again.status_code == 404
    # Another appeal, not his: the page answers 404 and the service refuses.
    other = appeal_assign(actor=s["lead"], appeal=file(s, "C111"), reviewer=s["assessors"][2])
    other_url = reverse("appeal_detail", args=[s["campaign"].slug, 2, other.public_id])
    with nothing_changes():
        assert page.post(other_url, {"decision": "uphold", "reason": "维持"}).status_code == 404
        with pytest.raises(NotAllowed):
            change(s, other, "30")


@pytest.mark.parametrize(
    ("kind", "extra", "points"),
    [
        ("all_or_nothing", {}, "15"),
        ("graded", {"step": Decimal(5)}, "12"),
        ("bonus", {}, "31"),
        ("penalty", {"floor": Decimal(-10)}, "5"),
        ("penalty", {"floor": Decimal(-10)}, "-11"),
        ("per_occurrence", {"per_occurrence": Decimal(4), "floor": Decimal(0)}, "27"),
        ("graded", {}, "-1"),
    ],
)
def test_a_value_the_items_kind_does_not_allow_is_refused(signed, kind, extra, points):
    s = signed
    appeal = assigned(s)
    type(s["items"]["A1"]).objects.filter(pk=s["items"]["A1"].pk).update(kind=kind, **extra)
    with nothing_changes(), pytest.raises(AppealRefused) as refused:
        change(s, Appeal.objects.select_related("item").get(pk=appeal.pk), points)
    assert refused.value.field == "points"


def test_a_veto_appeal_is_not_changed_as_an_item(signed):
    """Points given on a veto's appeal write no settlement: the finding is overturned, or not."""
    from civicmark.scoring.models import Settlement

    s = signed
    veto = s["standard"].vetoes.get(code="V1")
    appeal = appeal_file(
        actor=s["staff"]["C121"],
        round_=s["round"],
        enrollment=s["enrollments"]["C121"],
        veto=veto,
        statement="案件不在辖区",
    )
    appeal_assign(actor=s["lead"], appeal=appeal, reviewer=s["reviewer"])
    decided = change(s, Appeal.objects.get(pk=appeal.pk), "0")
    assert decided.value_after == "overturned" and not Settlement.objects.exists()


def test_every_write_has_its_event_and_a_document_only_its_hash(signed):
    s = signed
    _issue(s)
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    upload = SimpleUploadedFile("台账.pdf", PDF, content_type="application/pdf")
    appeal = assigned(s, code="C111", upload=upload)
    change(s, appeal, "21")
    events = AuditEvent.objects.exclude(pk__in=before)
    assert sorted(events.values_list("action", flat=True)) == sorted(
        [
            "appeal.filed",
            "appeal.assigned",
            "score.appeal_changed",
            "appeal.decided",
            "certificate.appeal_followed",
        ]
    )
    filed = events.get(action="appeal.filed")
    assert filed.after["file"] == appeal.files.get().sha256
    assert all(PDF.decode("latin-1") not in str(e.after) for e in events)


def test_the_public_page_says_nothing_of_a_failing_recheck(signed, client):
    s = signed
    _issue(s)
    recheck = _failed_recheck(s, "C111", due=TODAY + dt.timedelta(days=30))
    client.cookies["django_language"] = "en"
    page = client.get(reverse("verify", args=[recheck.certificate.code])).content.decode()
    assert "the title stands" in page
    for secret in ("居民台账已停更", s["lead"].username, "re-check", "rectif"):
        assert secret not in page
