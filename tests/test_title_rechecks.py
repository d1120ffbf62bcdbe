"""Dynamic management of titles (issue 17 item 4): the city draws a seeded, stratified sample of
the standing titles each year; a failed re-check opens a rectification with a deadline in the
community's own list; after the deadline a failed follow-up (or a rectification left open)
withdraws the title, and the public verification page shows it as withdrawn, with the date."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicmark.accounts.models import User
from civicmark.assessments.models import Rectification, RectificationStatus
from civicmark.assessments.services import rectification_update
from civicmark.core.errors import ApplicationError, NotAllowed
from civicmark.core.models import AuditEvent
from civicmark.results import titles
from civicmark.results.models import (
    Certificate,
    RecheckDraw,
    RecheckEvidence,
    RecheckStatus,
    TitleRecheck,
)
from civicmark.results.services import certificate_revoke, certificates_issue

PASSED, WITHDRAWN, RECTIFYING, PENDING = (
    "990121100002",
    "990121100003",
    "990121001001",
    "990121100001",
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# --- the pure draw ----------------------------------------------------------------------------

strata_st = st.dictionaries(
    st.sampled_from(["standard/K1", "standard/K2", "commended/K1", "commended/K2"]),
    st.sets(st.integers(min_value=1, max_value=500), max_size=40),
    max_size=4,
)
SLOW = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)


@SLOW
@given(strata=strata_st, seed=st.integers(min_value=0, max_value=2**63 - 1), data=st.data())
def test_it_draws_the_same_sample_from_the_same_seed_whatever_the_order(strata, seed, data):
    sizes = {k: data.draw(st.integers(min_value=0, max_value=50)) for k in strata}
    first = titles.draw(seed, {k: list(v) for k, v in strata.items()}, sizes)
    shuffled = {}
    for key in random.Random(seed).sample(sorted(strata), len(strata)):
        ids = list(strata[key])
        random.Random(seed + 1).shuffle(ids)
        shuffled[key] = ids
    assert titles.draw(seed, shuffled, sizes) == first


@SLOW
@given(strata=strata_st, seed=st.integers(min_value=0, max_value=2**63 - 1), data=st.data())
def test_it_draws_each_stratum_from_its_own_list_at_its_own_size(strata, seed, data):
    sizes = {k: data.draw(st.integers(min_value=0, max_value=50)) for k in strata}
    drawn = titles.draw(seed, {k: list(v) for k, v in strata.items()}, sizes)
    assert set(drawn) == set(strata)
    for key, ids in drawn.items():
        assert set(ids) <= strata[key]
        assert len(ids) == len(set(ids)) == min(sizes[key], len(strata[key]))


@SLOW
@given(
    population=st.integers(min_value=0, max_value=5000),
    kind=st.sampled_from(["share", "count"]),
    size=st.integers(min_value=0, max_value=100),
)
def test_it_sizes_a_stratum_as_asked_and_at_least_one(population, kind, size):
    n = titles.stratum_size(population, kind, size)
    assert 0 <= n <= population
    if population == 0 or size == 0:
        assert n == 0
    elif kind == "count":
        assert n == min(population, size)
    else:
        assert (
            n >= 1 and n * 100 >= population * size and (n - 1) * 100 < max(population * size, 100)
        )


def test_it_draws_differently_from_another_seed():
    strata = {"standard/K1": list(range(1, 200))}
    assert titles.draw(1, strata, {"standard/K1": 20}) != titles.draw(
        2, strata, {"standard/K1": 20}
    )


# --- the demo's story and the services --------------------------------------------------------


@pytest.fixture(autouse=True)
def _english():  # noqa: ANN202
    with translation.override("en"):
        yield


@pytest.fixture
def client_for(client_for):  # noqa: ANN001, ANN201
    def login(user):  # noqa: ANN001, ANN202
        signed_in = client_for(user)
        signed_in.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
        return signed_in

    return login


def _user(name: str) -> User:
    return User.objects.get(username=name)


def _recheck(code: str) -> TitleRecheck:
    return TitleRecheck.objects.select_related("certificate", "rectification").get(
        certificate__enrollment__community__code=code
    )


def _state() -> tuple:
    """Everything a step of a re-check could write: a refusal must leave it all alone."""
    return (
        sorted(TitleRecheck.objects.values_list("pk", "status", "checked_on", "follow_up_on")),
        sorted(Certificate.objects.values_list("pk", "revoked_at", "withdrawn")),
        sorted(Rectification.objects.values_list("pk", "status", "due_on")),
        RecheckDraw.objects.count(),
        RecheckEvidence.objects.count(),
        AuditEvent.objects.count(),
    )


def test_the_demo_passes_one_title_and_withdraws_one(demo):
    draw = RecheckDraw.objects.get(campaign=demo)
    assert draw.seed == 2027 and draw.year == timezone.localdate().year
    status = {
        r.certificate.enrollment.community.code: r.status
        for r in TitleRecheck.objects.filter(draw=draw).select_related(
            "certificate__enrollment__community"
        )
    }
    assert status == {
        PASSED: "passed",
        WITHDRAWN: "withdrawn",
        RECTIFYING: "failed",
        PENDING: "pending",
    }
    gone = _recheck(WITHDRAWN)
    assert gone.certificate.withdrawn and not gone.certificate.stands
    assert gone.rectification.due_on < gone.follow_up_on <= timezone.localdate()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "recheck.drawn",
        "recheck.recorded",
        "recheck.followed_up",
        "title.withdrawn",
    } <= actions


def test_it_draws_only_standing_titles_with_the_sizes_asked_and_records_the_seed(demo):
    city = _user("city")
    year = timezone.localdate().year + 1
    drawn = titles.recheck_draw(
        actor=city,
        campaign=demo,
        year=year,
        kind="count",
        standard_size=2,
        commended_size=0,
        seed=9,
    )
    picked = list(drawn.rechecks.select_related("certificate"))
    assert len(picked) == 2 and all(r.certificate.stands for r in picked)
    assert drawn.seed == 9 and drawn.strata == {
        "standard/990121000000": {"population": 3, "size": 2}
    }
    event = AuditEvent.objects.filter(action="recheck.drawn").latest("id")
    assert event.after["seed"] == "9"
    # The same seed over the same lists draws the same titles.
    again = titles.draw(
        9,
        {"standard/990121000000": list(titles.standing(demo).values_list("pk", flat=True))},
        {"standard/990121000000": 2},
    )
    assert sorted(r.certificate_id for r in picked) == again["standard/990121000000"]
    with pytest.raises(ApplicationError, match="once a year"):
        titles.recheck_draw(
            actor=city, campaign=demo, year=year, kind="count", standard_size=2, commended_size=0
        )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kind": "share", "standard_size": 101, "commended_size": 0}, "at most 100"),
        ({"kind": "count", "standard_size": 0, "commended_size": 0}, "both sizes are nought"),
        ({"kind": "percent", "standard_size": 1, "commended_size": 0}, "share or a number"),
        ({"kind": "count", "standard_size": 1, "commended_size": 0, "year": 1999}, "year"),
        ({"kind": "count", "standard_size": 1, "commended_size": 0, "seed": -1}, "seed"),
        ({"kind": "count", "standard_size": 0, "commended_size": 3}, "No title stands"),
    ],
)
def test_it_refuses_a_bad_draw_and_changes_nothing(demo, kwargs, match):
    before = _state()
    args = {"year": timezone.localdate().year + 1, **kwargs}
    with pytest.raises(ApplicationError, match=match):
        titles.recheck_draw(actor=_user("city"), campaign=demo, **args)
    assert _state() == before


@pytest.mark.parametrize("who", ["county", "town", "community", "assessor", "viewer", "town2"])
def test_it_refuses_every_step_to_anyone_but_the_city_and_changes_nothing(demo, who):
    actor = _user(who)
    today = timezone.localdate()
    before = _state()
    with pytest.raises(NotAllowed):
        titles.recheck_draw(
            actor=actor, campaign=demo, year=today.year + 1, kind="count", standard_size=1,
            commended_size=0,
        )  # fmt: skip
    with pytest.raises(NotAllowed):
        titles.recheck_record(
            actor=actor, recheck=_recheck(PENDING), passed=True, checked_on=today, finding="好"
        )
    with pytest.raises(NotAllowed):
        titles.recheck_follow_up(
            actor=actor, recheck=_recheck(RECTIFYING), passed=True, checked_on=today, finding="好"
        )
    with pytest.raises(NotAllowed):
        titles.title_withdraw(actor=actor, recheck=_recheck(RECTIFYING), reason="逾期")
    assert _state() == before


def test_a_failed_recheck_opens_a_rectification_the_community_sees(demo, client_for):
    today = timezone.localdate()
    recheck = titles.recheck_record(
        actor=_user("city"),
        recheck=_recheck(PENDING),
        passed=False,
        checked_on=today - timedelta(days=2),
        finding="议事协商记录缺失",
        due_on=today + timedelta(days=20),
        upload=SimpleUploadedFile("minutes.pdf", PDF, content_type="application/pdf"),
    )
    fix = recheck.rectification
    assert (fix.round, fix.enrollment) == (
        recheck.certificate.round,
        recheck.certificate.enrollment,
    )
    assert (fix.item, fix.veto, fix.reason) == (None, None, "议事协商记录缺失")
    assert fix.due_on == today + timedelta(days=20) and fix.status == RectificationStatus.OPEN
    assert recheck.evidence.get().sha256
    assert AuditEvent.objects.filter(action="rectification.opened").exists()
    # 解放路's staff (`community`) see it in their list and their to-do.
    staff = client_for(_user("community"))
    page = staff.get(reverse("rectifications", args=[demo.slug])).content.decode()
    assert "Re-check of the title" in page and "议事协商记录缺失" in page
    home = staff.get("/").content.decode()
    assert "Re-check of the title" in home


def test_a_title_is_withdrawn_only_after_its_deadline(demo):
    city, today = _user("city"), timezone.localdate()
    open_ = _recheck(RECTIFYING)  # failed a fortnight ago, due in a month
    before = _state()
    with pytest.raises(ApplicationError, match="only after its deadline"):
        titles.title_withdraw(actor=city, recheck=open_, reason="逾期未整改")
    with pytest.raises(ApplicationError, match="after that day"):
        titles.recheck_follow_up(
            actor=city, recheck=open_, passed=False, checked_on=today, finding="仍未整改"
        )
    assert _state() == before
    # A follow-up that passes may come early: the title stands, its rectification closes.
    titles.recheck_follow_up(
        actor=city, recheck=open_, passed=True, checked_on=today, finding="管护制度已建立"
    )
    open_.refresh_from_db()
    assert open_.status == RecheckStatus.PASSED and open_.certificate.stands
    assert open_.rectification.status == RectificationStatus.DONE


def test_a_title_is_not_withdrawn_while_the_rectification_is_reported_done(demo):
    city, today = _user("city"), timezone.localdate()
    recheck = titles.recheck_record(
        actor=city,
        recheck=_recheck(PENDING),
        passed=False,
        checked_on=today - timedelta(days=20),
        finding="台账缺失",
        due_on=today - timedelta(days=1),
        entered_on=today - timedelta(days=20),
    )
    rectification_update(
        actor=_user("community"), rectification=recheck.rectification, status="done", note="已补齐"
    )
    recheck.refresh_from_db()
    before = _state()
    with pytest.raises(ApplicationError, match="re-check it"):
        titles.title_withdraw(actor=city, recheck=recheck, reason="逾期")
    assert _state() == before
    # Re-checked and failed again: now it may be withdrawn.
    titles.recheck_follow_up(
        actor=city, recheck=recheck, passed=False, checked_on=today, finding="补齐的台账不实"
    )
    titles.title_withdraw(actor=city, recheck=recheck, reason="复查仍不合格")
    recheck.certificate.refresh_from_db()
    assert recheck.certificate.withdrawn and recheck.certificate.revoked_reason == "复查仍不合格"


def test_a_rectification_left_open_past_its_deadline_needs_a_failed_follow_up_to_withdraw(demo):
    city, today = _user("city"), timezone.localdate()
    recheck = titles.recheck_record(
        actor=city,
        recheck=_recheck(PENDING),
        passed=False,
        checked_on=today - timedelta(days=20),
        finding="台账缺失",
        due_on=today - timedelta(days=1),
        entered_on=today - timedelta(days=20),
    )
    assert Rectification.objects.filter(pk=recheck.rectification.pk).get().is_overdue(today)
    before = _state()
    # The walk (p-city-65): the city withdrew at once, with no follow-up after the deadline.
    with pytest.raises(ApplicationError, match="re-check it"):
        titles.title_withdraw(actor=city, recheck=recheck, reason="逾期未整改")
    assert _state() == before
    titles.recheck_follow_up(
        actor=city, recheck=recheck, passed=False, checked_on=today, finding="仍未整改"
    )
    titles.title_withdraw(actor=city, recheck=recheck, reason="逾期未整改")
    recheck.refresh_from_db()
    assert recheck.status == RecheckStatus.WITHDRAWN and recheck.certificate.withdrawn
    before = _state()
    with pytest.raises(ApplicationError):
        titles.title_withdraw(actor=city, recheck=recheck, reason="again")
    # The round issued again gives no certificate to a withdrawn title.
    certificates_issue(actor=city, round_=recheck.certificate.round)
    assert _state() == before


@pytest.mark.parametrize(
    "change, match",
    [
        ({"checked_on": 1}, "in the future"),
        ({"checked_on": -400}, "after the round"),
        ({"finding": "  "}, "found"),
        ({"due_on": None}, "deadline"),
        ({"due_on": -3}, "after the day"),
        # The walk (p-city-65): a deadline already past, or today, leaves no day to rectify.
        ({"due_on": 0}, "after the day it is set"),
        ({"checked_on": -9, "due_on": -1}, "after the day it is set"),
    ],
)
def test_it_refuses_a_bad_recheck_and_changes_nothing(demo, change, match):
    today = timezone.localdate()
    args = {"checked_on": -2, "finding": "台账缺失", "due_on": 10} | change

    def day(n):  # noqa: ANN001, ANN202
        return None if n is None else today + timedelta(days=n)

    before = _state()
    with pytest.raises(ApplicationError, match=match):
        titles.recheck_record(
            actor=_user("city"),
            recheck=_recheck(PENDING),
            passed=False,
            checked_on=day(args["checked_on"]),
            finding=args["finding"],
            due_on=day(args["due_on"]),
        )
    assert _state() == before


def test_a_certificate_revoked_for_an_error_closes_its_recheck(demo):
    city, recheck = _user("city"), _recheck(PENDING)
    certificate_revoke(actor=city, certificate=recheck.certificate, reason="证书信息有误")
    recheck.refresh_from_db()
    before = _state()
    with pytest.raises(ApplicationError, match="no longer stands"):
        titles.recheck_record(
            actor=city, recheck=recheck, passed=True, checked_on=timezone.localdate(), finding="好"
        )
    assert _state() == before


# --- the public page --------------------------------------------------------------------------


def test_the_public_page_shows_a_withdrawn_title_as_withdrawn_with_the_date(demo, client):
    cert = _recheck(WITHDRAWN).certificate
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("verify", args=[cert.code])).content.decode()
    day = timezone.localtime(cert.revoked_at).date().isoformat()
    assert "WITHDRAWN" in page and day in page and "文昌社区" in page
    # Nothing personal and nothing of the finding: the reason stays with the city.
    assert cert.revoked_reason not in page and "王建国" not in page
    # A certificate revoked for an error keeps its wording.
    other = _recheck(PASSED).certificate
    certificate_revoke(actor=_user("city"), certificate=other, reason="证书信息有误")
    page = client.get(reverse("verify", args=[other.code])).content.decode()
    assert "was revoked on" in page and "WITHDRAWN" not in page


# --- the pages --------------------------------------------------------------------------------


def test_the_city_sees_the_page_and_everyone_else_gets_404(demo, client_for):
    url = reverse("titles", args=[demo.slug])
    page = client_for(_user("city")).get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('data-testid="recheck"') == 4 and "seed 2027" in text
    # The round's certificates tell a withdrawal from a revocation, and lead to this page.
    listed = client_for(_user("city")).get(reverse("certificates", args=[demo.slug, 2]))
    assert ">withdrawn<" in listed.content.decode() and url in listed.content.decode()
    for who in ("county", "town", "community", "assessor", "viewer"):
        assert client_for(_user(who)).get(url).status_code == 404


def test_a_refused_step_is_shown_back_beside_its_field_and_writes_nothing(demo, client_for):
    recheck = _recheck(PENDING)
    city = client_for(_user("city"))
    before = _state()
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = city.post(
        reverse("title_recheck", args=[demo.slug, recheck.public_id]),
        {"result": "failed", "checked_on": future, "finding": "台账缺失", "due_on": ""},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Set the deadline" in page and "台账缺失" in page
    response = city.post(
        reverse("title_recheck", args=[demo.slug, recheck.public_id]),
        {"result": "passed", "checked_on": future, "finding": "良好"},
    )
    assert response.status_code == 422 and "in the future" in response.content.decode()
    assert future in response.content.decode()
    response = city.post(
        reverse("title_withdraw", args=[demo.slug, _recheck(RECTIFYING).public_id]),
        {"reason": "逾期"},
    )
    assert response.status_code == 422 and "only after its deadline" in response.content.decode()
    assert _state() == before


def test_the_city_records_withdraws_and_follows_up_from_the_page(demo, client_for):
    city = client_for(_user("city"))
    today = timezone.localdate()
    recheck = _recheck(PENDING)
    posted = {
        "result": "failed",
        "checked_on": (today - timedelta(days=9)).isoformat(),
        "finding": "台账缺失",
        "due_on": (today - timedelta(days=1)).isoformat(),
    }
    # A deadline already past is refused beside its field (the walk, p-city-65).
    before = _state()
    response = city.post(reverse("title_recheck", args=[demo.slug, recheck.public_id]), posted)
    assert response.status_code == 422 and "after the day it is set" in response.content.decode()
    assert _state() == before
    response = city.post(
        reverse("title_recheck", args=[demo.slug, recheck.public_id]),
        posted
        | {
            "due_on": (today + timedelta(days=5)).isoformat(),
            "file": SimpleUploadedFile("photo.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 302
    # The deadline passes; the follow-up after it fails; then the title is withdrawn.
    Rectification.objects.filter(pk=_recheck(PENDING).rectification_id).update(
        due_on=today - timedelta(days=1)
    )
    response = city.post(
        reverse("title_follow_up", args=[demo.slug, recheck.public_id]),
        {"result": "failed", "checked_on": today.isoformat(), "finding": "仍未整改"},
    )
    assert response.status_code == 302
    response = city.post(
        reverse("title_withdraw", args=[demo.slug, recheck.public_id]), {"reason": "逾期未整改"}
    )
    assert response.status_code == 302
    assert _recheck(PENDING).status == RecheckStatus.WITHDRAWN
    evidence = RecheckEvidence.objects.get(recheck=recheck)
    download = city.get(reverse("title_recheck_file", args=[demo.slug, evidence.public_id]))
    assert download.status_code == 200
    response = city.post(
        reverse("title_follow_up", args=[demo.slug, _recheck(RECTIFYING).public_id]),
        {"result": "passed", "checked_on": today.isoformat(), "finding": "已整改"},
    )
    assert response.status_code == 302 and _recheck(RECTIFYING).status == RecheckStatus.PASSED
    county = client_for(_user("county"))  # the same client, signed in again
    file_url = reverse("title_recheck_file", args=[demo.slug, evidence.public_id])
    assert county.get(file_url).status_code == 404


def test_the_citys_todo_names_the_pending_rechecks_and_the_passed_deadlines(demo, client_for):
    from civicmark.results.todo import todos_for

    today = timezone.localdate()
    todos = {t.key: t for t in todos_for(user=_user("city"), campaign=demo, today=today)}
    assert todos["title_rechecks"].count == 1 and "title_deadlines" not in todos
    assert todos_for(user=_user("county"), campaign=demo, today=today) == []
    later = today + timedelta(days=40)  # 东关社区's deadline has passed by then
    todos = {t.key: t for t in todos_for(user=_user("city"), campaign=demo, today=later)}
    assert todos["title_deadlines"].late and todos["title_deadlines"].count == 1
    home = client_for(_user("city")).get("/").content.decode()
    assert "Titles to re-check" in home


HOSTILE = ["-1", "1E+30", "NaN", "9" * 40, "１２", "a\x00b", "=1+1", "长" * 500, "0x10", ""]


def test_it_refuses_a_hostile_draw_beside_its_field_and_writes_nothing(demo, client_for):
    """Every hostile value in every box of the draw, on one demo (an empty seed is no refusal:
    it draws with a random one)."""
    valid = {
        "year": str(timezone.localdate().year + 1),
        "kind": "share",
        "standard_size": "20",
        "commended_size": "100",
        "seed": "3",
    }
    city = client_for(_user("city"))
    before = _state()
    for field in valid:
        for value in HOSTILE:
            if field == "seed" and value == "":
                continue
            response = city.post(reverse("titles_draw", args=[demo.slug]), {**valid, field: value})
            assert response.status_code == 422, (field, value)
            assert 'data-testid="field-error"' in response.content.decode(), (field, value)
    assert _state() == before


def test_a_title_reads_as_an_honour_in_chinese_not_as_a_heading():
    """The walk: the certificates, verification and re-check pages called the honour 标题 (a
    heading), the word a meeting's or a job post's title takes; the honour has its own context."""
    from pathlib import Path

    from django.utils.translation import gettext, override, pgettext

    with override("zh-hans"):
        assert pgettext("honour", "title") == "称号"
        assert gettext("title") == "标题"
    templates = Path(__file__).resolve().parent.parent / "civicmark" / "templates" / "results"
    for name in ("verify.html", "certificates.html", "titles.html"):
        text = (templates / name).read_text()
        assert '{% translate "title" %}' not in text, name
