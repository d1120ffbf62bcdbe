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

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from civicmark.accounts.models import RoleAssignment
from civicmark.campaigns.models import AcceptanceRound
from civicmark.core.errors import NotAllowed
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
    titles.title_withdraw(actor=s["lead"], recheck=recheck, reason="逾期未整改")
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
    titles.title_withdraw(actor=s["lead"], recheck=recheck, reason="逾期未整改")
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
