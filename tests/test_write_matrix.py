"""The write matrix: every URL that accepts POST, tried by every persona, in and out of scope.

For each POST route a row gives a valid request (its URL and form data) and the personas who may
make it. Every other persona posts the same valid request and must change nothing at all: not a
row of any table (a fingerprint of the whole database) and not the audit trail, and never get a
server error. Last, the row's `doer` posts it and something must change, which proves the request
was valid and so that each refusal was a refusal of the person, not of the data.

`test_every_post_route_has_a_row` reads the URL configuration: a view whose code takes a POST
and has no row here fails the suite, so a new form cannot slip past the matrix.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from civicmark.accounts.models import RoleAssignment, User
from civicmark.campaigns.models import Campaign
from civicmark.divisions.models import Department, Division
from civicmark.surveys.models import SurveyRound
from tests.factories import person

# Derived or bookkeeping tables: a page may refresh a stale stored result while it renders, and
# signing in writes sessions and throttling rows. None of them is a write a person makes.
NOT_FINGERPRINTED = {
    "django_session",
    "axes_accessattempt",
    "axes_accessfailurelog",
    "axes_accesslog",
    "results_communityresult",
    "results_staleresult",
    "scoring_roundtally",  # kept with the stored results (ADR 31): recomputed on read
    "results_resultitem",
    "otp_totp_totpdevice",
    "otp_static_staticdevice",
    "otp_static_statictoken",
}

PERSONAS = [
    "admin",
    "city",
    "county",
    "town",
    "community",
    "assessor",
    "viewer",
    "staff_cy",  # community staff of 朝阳社区, still self-assessing, in the other town
    "town2",  # town officer of 东关街道
    "county2",  # county officer of a second county of the city
    "assessor2",  # assessor of the second county's public security bureau
    "nobody",  # signed in, no role at all
]

SLUG = "anping-2026"
JIEFANG, CHAOYANG, ZHANQIAN, XINHUA = "990121100001", "990121001003", "990121001002", "990121100004"
DONGGUAN = "990121001001"
LATE = "990121100009"  # 新港社区, added on the stage: pre-accepted, waiting to be reported


def fingerprint() -> str:
    """Every row of every table the application writes, hashed (the demo holds a few thousand)."""
    digest = hashlib.sha256()
    with connection.cursor() as cursor:
        for model in sorted(apps.get_models(), key=lambda m: m._meta.db_table):
            table = model._meta.db_table
            if table in NOT_FINGERPRINTED or not model._meta.managed:
                continue
            cursor.execute(f'SELECT * FROM "{table}" ORDER BY 1')  # noqa: S608
            digest.update(table.encode())
            digest.update(repr(cursor.fetchall()).encode())
    return digest.hexdigest()


@dataclass
class Row:
    route: str
    args: Callable[[Any], list[Any]]
    data: Callable[[Any], dict[str, Any]]
    may: set[str]  # personas allowed to make this request (not checked for refusal)
    doer: str  # the one who makes it at the end: something must change
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _file(name: str, content: bytes, kind: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=kind)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Stage:
    """The demo city, with outsiders added, and the objects the rows act on."""

    users: dict[str, User]
    campaign: Campaign
    o: dict[str, Any]

    def pk(self, model: Any, **lookup: Any) -> Any:
        return model.objects.get(**lookup).pk


def build_stage() -> Stage:
    from civicmark.accounts.services import person_create
    from civicmark.assessments.models import Evidence, Rectification
    from civicmark.campaigns.models import Meeting, Phase, Task
    from civicmark.divisions.models import WorkingGroup
    from civicmark.employment.models import Employer, Household, JobFair, Resident, Vacancy
    from civicmark.standards.models import Standard
    from civicmark.standards.services import standard_new_draft
    from civicmark.surveys.models import SurveyRound

    call_command("demo", "--no-serve", stdout=StringIO())
    users = {u.username: u for u in User.objects.all()}
    city = Division.objects.get(code="990100000000")
    county2 = Division.objects.create(
        code="990122000000",
        name="临川县",
        level="county",
        parent=city,
        path=f"{city.path}990122000000/",
    )
    dept2 = Department.objects.create(code="LC-PSB", name="临川县公安局", division=county2)
    users["staff_cy"] = person("staff_cy", "community_staff", Division.objects.get(code=CHAOYANG))
    # town2, the town officer of 东关街道, is a demo account
    users["county2"] = person("county2", "county_officer", county2)
    users["assessor2"] = person("assessor2", "assessor", county2, department=dept2)
    users["nobody"] = person("nobody")
    users["temp"] = person_create(
        actor=None,
        username="temp",
        full_name="临时",
        role="viewer",
        division=Division.objects.get(code=JIEFANG),
    )
    users["fresh"] = person_create(  # has never set a password: a manager may issue his link
        actor=None,
        username="fresh",
        full_name="新人",
        role="viewer",
        division=Division.objects.get(code=JIEFANG),
    )
    campaign = Campaign.objects.get(slug=SLUG)
    o: dict[str, Any] = {}
    o["jiefang"] = Division.objects.get(code=JIEFANG)
    o["town_group"] = WorkingGroup.objects.get(division__code="990121100000")
    o["member"] = o["town_group"].members.first()
    o["task"] = Task.objects.filter(campaign=campaign, division__code=JIEFANG).first()
    o["phase"] = Phase.objects.filter(campaign=campaign).first()
    o["meeting"] = Meeting.objects.filter(campaign=campaign).first()
    o["standard"] = Standard.objects.get()
    o["draft"] = standard_new_draft(actor=None, standard=o["standard"])
    o["temp_role"] = RoleAssignment.objects.get(user=users["temp"])
    o["rect"] = Rectification.objects.filter(
        round__campaign=campaign, enrollment__community__code=XINHUA
    ).first()
    o["household"] = Household.objects.filter(community__code=JIEFANG).first()
    o["resident"] = Resident.objects.filter(household__community__code=JIEFANG).first()
    o["employer"] = Employer.objects.first()
    o["vacancy"] = Vacancy.objects.first()
    o["fair"] = JobFair.objects.first()
    o["fair_newcomer"] = (
        Resident.objects.filter(household__community__code=JIEFANG)
        .exclude(pk__in=o["fair"].attendance.values("resident"))
        .first()
    )
    o["survey"] = SurveyRound.objects.first()
    o["evidence"] = Evidence.objects.first()
    for key, code in (("labour", "LABOUR"), ("psb", "PSB")):
        users[key] = User.objects.filter(
            roles__role="assessor", roles__department__code=code, roles__division=city
        ).first()
    from civicmark.surveys.models import Drawn, Response

    unused = Drawn.objects.filter(draw__survey=o["survey"], used=False, in_sample=True)
    o["unanswered"] = unused.filter(draw__community__code=JIEFANG).first()
    o["to_enter"], o["to_answer"] = list(unused.exclude(pk=o["unanswered"].pk).order_by("pk")[:2])
    question = o["survey"].instrument.questions.exclude(item=None).first()
    o["survey_item"] = question.item.code
    assert Response.objects.exists()
    # July's public notice left 东关 off (文昌's title is withdrawn, so it is named no more): the
    # city publishes a second notice for it below, on which anyone may object while it is open
    # (ADR 22).
    from civicmark.assessments.models import NoticeEntry

    NoticeEntry.objects.filter(enrollment__community__code=DONGGUAN).delete()
    # 东关's title failed its re-check with a month to rectify; here that month has passed, so
    # the city may record the failed follow-up and then withdraw the title (rows below).
    from datetime import timedelta

    from django.utils import timezone

    Rectification.objects.filter(pk=_title_recheck(DONGGUAN).rectification_id).update(
        due_on=timezone.localdate() - timedelta(days=1)
    )
    from civicmark.accounts.tokens import token_create

    o["token"], _secret = token_create(
        actor=users["community"],
        name="外勤平板",
        expires_at=timezone.now() + timedelta(days=30),
        scope="write",
        now=timezone.now(),
        verified=False,
    )
    # Two things to tell 解放路's staff: one he marks read, one left for "mark all read".
    from civicmark.notifications.services import notify

    o["note"], o["note2"] = (
        notify([users["community"]], event="task_due", key=key, title="任务即将到期")[0]
        for key in ("matrix-1", "matrix-2")
    )
    _reports_upward(campaign)
    return Stage(users=users, campaign=campaign, o=o)


def _reports_upward(campaign: Campaign) -> None:
    """The demo reported every community its county pre-accepted (ADR 25). Here a late one,
    新港社区, passed the finalised county round and waits: the county reports it (row below).
    And the demo's report lost its documents (a full disk): the city makes them again."""
    from civicmark.campaigns.models import Enrollment
    from civicmark.results.models import UpwardDocument, UpwardReport
    from civicmark.scoring.models import Score

    town = Division.objects.get(code="990121100000")
    community = Division.objects.create(
        code=LATE, name="新港社区", level="community", parent=town, path=f"{town.path}{LATE}/"
    )
    enrollment = Enrollment.objects.create(
        campaign=campaign, community=community, status="county_pre_accepted"
    )
    county_round = campaign.rounds.get(number=1)
    assessor = Score.objects.filter(round=county_round).values_list("assessor", flat=True)[0]
    Score.objects.bulk_create(
        Score(
            round=county_round, enrollment=enrollment, item=i, assessor_id=assessor, points=i.points
        )
        for i in campaign.standard.items.all()
    )
    report = UpwardReport.objects.get(campaign=campaign)
    UpwardDocument.objects.filter(report=report).delete()
    UpwardReport.objects.filter(pk=report.pk).update(documents="failed", failure="OSError: disk")


MANAGERS = {"admin", "city", "county", "town"}
CSV = "text/csv"


def _csv(text: str) -> SimpleUploadedFile:
    return _file("upload.csv", text.encode("utf-8"), CSV)


def _pid(key: str) -> Callable[[Stage], list[Any]]:
    return lambda s: [s.o[key].public_id]


def _slug(s: Stage) -> list[Any]:
    return [SLUG]


def _standard_yaml(s: Stage) -> dict[str, Any]:
    from civicmark.standards.formats import to_yaml
    from civicmark.standards.services import standard_data

    text = to_yaml(standard_data(s.o["standard"])).replace(s.o["standard"].slug, "imported", 1)
    return {"file": _file("std.yaml", text.encode(), "application/yaml")}


ROWS: list[Row] = [
    # --- people -------------------------------------------------------------------------------
    Row(
        "person_create",
        lambda s: [],
        lambda s: {
            "username": "newbie",
            "full_name": "新人",
            "role": "community_staff",
            "division": JIEFANG,
        },
        MANAGERS,
        "town",
    ),
    Row(
        "person_import",
        lambda s: [],
        lambda s: {
            "file": _csv("username,name,role,division_code\nimp1,导入,viewer,990121100001\n")
        },
        MANAGERS,
        "town",
    ),
    Row(
        "person_detail",
        lambda s: [s.users["community"].public_id],
        lambda s: {"full_name": "刘芳芳", "is_active": "on"},
        MANAGERS,
        "town",
    ),
    Row(
        "role_grant",
        lambda s: [s.users["community"].public_id],
        lambda s: {"role": "viewer", "division": JIEFANG},
        MANAGERS,
        "town",
    ),
    # The review's findings: a county officer made himself assessor of a city department, and a
    # town officer made himself staff of a community, each by posting to his own page.
    Row(
        "role_grant",
        lambda s: [s.users["county"].public_id],
        lambda s: {"role": "assessor", "division": "990121000000", "department": "FP"},
        {"admin", "city"},
        "city",
        note="granting oneself an assessor's role",
    ),
    Row(
        "role_grant",
        lambda s: [s.users["town"].public_id],
        lambda s: {"role": "community_staff", "division": JIEFANG},
        {"admin", "city", "county"},
        "county",
        note="granting oneself a community's staff role",
    ),
    Row(
        "role_revoke",
        lambda s: [s.users["temp"].public_id, s.o["temp_role"].public_id],
        lambda s: {},
        MANAGERS,
        "town",
    ),
    Row(
        "person_link",
        lambda s: [s.users["fresh"].public_id],
        lambda s: {},
        MANAGERS,
        "town",
    ),
    # --- divisions, departments, groups ----------------------------------------------------------
    Row(
        "division_import",
        lambda s: [],
        lambda s: {
            "file": _csv(
                "code,name,level,parent_code\n990121100009,新建社区,community,990121100000\n"
            )
        },
        MANAGERS,
        "town",
    ),
    Row(
        "division_edit",
        lambda s: ["990121100002"],
        lambda s: {"name": "和平里社区", "parent": "990121001000"},  # moved to the other town
        {"admin", "city", "county"},
        "county",
    ),
    Row(
        "profile_edit",
        lambda s: [JIEFANG],
        lambda s: {"committee": "解放路社区居委会", "households": 2861, "residents": 7920},
        MANAGERS | {"community"},
        "community",
    ),
    Row(
        "department_create",
        lambda s: [],
        lambda s: {"code": "AP-NEW", "name": "新部门", "division": "990121000000"},
        {"admin", "city", "county"},
        "county",
    ),
    Row(
        "department_import",
        lambda s: [],
        lambda s: {"file": _csv("code,name,division_code\nAP-IMP,导入部门,990121000000\n")},
        {"admin", "city", "county"},
        "county",
    ),
    Row(
        "department_edit",
        lambda s: ["AP-PSB"],
        lambda s: {
            "code": "AP-PSB",
            "name": "安平县公安局（改）",
            "division": "990121000000",
        },
        {"admin", "city", "county"},
        "county",
    ),
    Row(
        "group_create",
        lambda s: [],
        lambda s: {"division": "990121100000", "name": "新工作组"},
        MANAGERS,
        "town",
    ),
    Row(
        "group_detail",
        _pid("town_group"),
        lambda s: {"name": "新成员", "duty": "联络"},
        MANAGERS,
        "town",
    ),
    Row(
        "group_member_remove",
        lambda s: [s.o["town_group"].public_id, s.o["member"].public_id],
        lambda s: {},
        MANAGERS,
        "town",
    ),
    # --- campaigns -----------------------------------------------------------------------------
    Row(
        "campaign_list",
        lambda s: [],
        lambda s: {
            "name": "2027年创建",
            "slug": "anping-2027",
            "year": 2027,
            "division": "990121000000",
            "standard": s.o["standard"].public_id,
        },
        {"admin", "city", "county"},
        "county",
    ),
    Row(
        "task_update",
        lambda s: [SLUG, s.o["task"].public_id],
        lambda s: {"status": "done", "note": "已完成"},
        MANAGERS | {"community"},
        "community",
    ),
    Row(
        "task_attach",
        lambda s: [SLUG, s.o["task"].public_id],
        lambda s: {"file": _file("minutes.pdf", PDF)},
        MANAGERS | {"community"},
        "community",
    ),
    Row(
        "task_assign",
        lambda s: [SLUG, s.o["task"].public_id],
        lambda s: {"owner": s.users["community"].public_id},
        MANAGERS | {"community"},  # the community's staff may own its task themselves
        "town",
    ),
    Row(
        "phase_edit",
        lambda s: [SLUG, s.o["phase"].key],
        lambda s: {
            "starts_on": s.o["phase"].starts_on.isoformat(),
            "due_on": (s.o["phase"].due_on.replace(day=1)).isoformat(),
        },
        {"admin", "city", "county"},
        "county",
    ),
    Row(
        "meeting_list",
        _slug,
        lambda s: {
            "kind": "training",
            "title": "业务培训",
            "held_on": "2026-12-10",
            "host": "990121000000",
            "expected": f"{JIEFANG} 刘芳\n",
        },
        {"admin", "city", "county"},
        "county",
    ),
    # --- standards (last: one retires the standard) -----------------------------------------------------------------------------
    Row("standard_import", lambda s: [], _standard_yaml, {"admin", "city"}, "city"),
    Row("standard_new_draft", _pid("standard"), lambda s: {}, {"admin", "city"}, "city"),
    Row("standard_publish", _pid("draft"), lambda s: {}, {"admin", "city"}, "city"),
    Row("standard_retire", _pid("standard"), lambda s: {}, {"admin", "city"}, "city"),
    Row(
        "meeting_detail",
        lambda s: [SLUG, s.o["meeting"].public_id],
        lambda s: {"minutes": "会议纪要"},
        {"admin", "city", "county"},
        "county",
    ),
]


def _post(client: Client, row: Row, stage: Stage) -> Any:
    data = row.data(stage)
    return client.post(reverse(row.route, args=row.args(stage)), data)


def _client_of(stage: Stage, name: str) -> Client:
    """A fresh client for every request: a row that signs out must not sign out the next."""
    client = Client()
    if name != "anonymous":
        client.force_login(stage.users[name])
    return client


@pytest.fixture
def no_last_login():
    """Signing a persona in before each request must not count as a write (users.last_login)."""
    from django.contrib.auth.models import update_last_login
    from django.contrib.auth.signals import user_logged_in

    user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
    yield
    user_logged_in.connect(update_last_login, dispatch_uid="update_last_login")


def run_rows(rows: list[Row]) -> list[str]:
    """Try each row with every persona; return what went wrong, row by row."""
    stage = build_stage()
    problems: list[str] = []
    for row in rows:
        for name in [*PERSONAS, "anonymous"]:
            if name in row.may:
                continue
            before = fingerprint()
            response = _post(_client_of(stage, name), row, stage)
            if response.status_code >= 500:
                problems.append(f"{row.route}: {name} got {response.status_code}")
            if fingerprint() != before:
                problems.append(f"{row.route}: {name} (not allowed) changed the database")
        if not row.doer:
            continue  # public or self-service (sign in, sign out, language): no refusal to prove
        before = fingerprint()
        response = _post(_client_of(stage, row.doer), row, stage)
        if response.status_code >= 400 or fingerprint() == before:
            page = response.content.decode(errors="replace")
            hints = [
                m for m in re.findall(r"(?:errorlist[^>]*>\s*<li>|alert[^>]*>)([^<]{3,200})", page)
            ]
            problems.append(
                f"{row.route}: {row.doer} (allowed) changed nothing "
                f"(HTTP {response.status_code}): the row's request is not valid {hints[:3]}"
            )
    return problems


def test_every_row_is_refused_out_of_scope_and_works_in_scope(db, no_last_login):
    problems = run_rows(ROWS)
    assert not problems, "\n".join(problems)


EVERYONE = {*PERSONAS, "anonymous"}
KEEPERS = MANAGERS | {"community"}  # who keeps 解放路's employment ledger
READERS = {
    "admin",
    "city",
    "county",
    "town",
    "community",
    "assessor",
    "viewer",
    "staff_cy",
    "town2",
}


APPEAL_REVIEWER = "county-assessor-prop"


def _item(s: Stage, code: str) -> Any:
    return s.campaign.standard.items.get(code=code)


def _appeal() -> Any:
    """解放路's appeal, filed by the row above."""
    from civicmark.quality.models import Appeal

    return Appeal.objects.get(enrollment__community__code=JIEFANG)


def _open_notice() -> Any:
    from civicmark.assessments.models import PublicNotice

    return PublicNotice.objects.filter(entries__enrollment__community__code=DONGGUAN).get()


def _certificate(code: str) -> Any:
    from civicmark.results.models import Certificate

    return Certificate.objects.get(enrollment__community__code=code, revoked_at=None)


def _upward_report() -> Any:
    """The demo's report to the city (its documents lost on the stage)."""
    from civicmark.results.models import UpwardReport

    return UpwardReport.objects.get(number=1)


def _title_recheck(code: str) -> Any:
    """The demo's (this year's) re-check of a community's title."""
    from civicmark.results.models import TitleRecheck

    return TitleRecheck.objects.filter(certificate__enrollment__community__code=code).earliest(
        "draw__year"
    )


def _day(days: int) -> str:
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.localdate() + timedelta(days=days)).isoformat()


def _next_year() -> int:
    from django.utils import timezone

    return timezone.localdate().year + 1


def _calibration() -> Any:
    from civicmark.quality.models import CalibrationExercise

    return CalibrationExercise.objects.get(community__code=XINHUA)


def _calibration_item(s: Stage) -> Any:
    return s.campaign.standard.items.get(code="C1")


def _scores_page(s: Stage) -> dict[str, Any]:
    """Full points on every item the city's PSB assessor re-scores for 站前 in round 3 (its
    comprehensive-security veto brings the department's items back), with the version of each
    score he already gave (the survey row above confirmed one)."""
    from civicmark.assessments import panels
    from civicmark.scoring.models import Score

    round_ = s.campaign.rounds.get(number=3)
    enrollment = s.campaign.enrollments.get(community__code=ZHANQIAN)
    wanted = panels.items_to_score(round_, enrollment)
    versions = dict(
        Score.objects.filter(
            round=round_, enrollment=enrollment, assessor=s.users["psb"]
        ).values_list("item_id", "version")
    )
    data: dict[str, Any] = {}
    for item in s.campaign.standard.items.filter(department__code="PSB"):
        if wanted is None or item.pk in wanted:
            data[f"i{item.pk}-points"] = str(item.points)
            if item.pk in versions:
                data[f"i{item.pk}-version"] = str(versions[item.pk])
    return data


def _chaoyang_evidence() -> Any:
    from civicmark.assessments.models import Evidence

    return (
        Evidence.objects.filter(enrollment__community__code=CHAOYANG)
        .order_by("-uploaded_at", "-pk")
        .values_list("public_id", flat=True)
        .first()
    )


def _psb_item(s: Stage) -> Any:
    """The first item given points (not a count) that the PSB assessor re-scores for 站前 in
    round 3."""
    from civicmark.assessments import panels

    round_ = s.campaign.rounds.get(number=3)
    wanted = panels.items_to_score(round_, s.campaign.enrollments.get(community__code=ZHANQIAN))
    return next(
        i
        for i in s.campaign.standard.items.filter(department__code="PSB").order_by("order")
        if (wanted is None or i.pk in wanted) and i.kind in ("graded", "all_or_nothing")
    )


def _one_card(s: Stage) -> dict[str, Any]:
    """One card saved alone (htmx): no points on that item, with the reason and the version of
    the score the PSB assessor already gave, if any."""
    from civicmark.scoring.models import Score

    item = _psb_item(s)
    mine = Score.objects.filter(
        round__campaign=s.campaign, round__number=3, item=item, assessor=s.users["psb"]
    ).first()
    return {
        f"i{item.pk}-points": "0",
        f"i{item.pk}-reason": "复核未达标",
        f"i{item.pk}-version": str(mine.version) if mine else "",
    }


def _filled_sheet(s: Stage) -> dict[str, Any]:
    """The PSB assessor's round-3 sheet, with half a point off every row and the reason."""
    from io import BytesIO

    from openpyxl import load_workbook

    from civicmark.assessments.sheets import export_sheet

    round_ = s.campaign.rounds.get(number=3)
    data = export_sheet(
        round_=round_, department=Department.objects.get(code="PSB"), assessor=s.users["psb"]
    )
    book = load_workbook(BytesIO(data))
    sheet = book["scores"]
    header = [str(c.value or "") for c in sheet[1]]
    points = next(n for n, h in enumerate(header) if h in ("points", "得分"))
    top = next(n for n, h in enumerate(header) if h in ("max_points", "分值"))
    reason = next(n for n, h in enumerate(header) if h in ("reason", "扣分理由"))
    for row in sheet.iter_rows(min_row=2):
        row[points].value = float(row[top].value) - 0.5  # half a point off every row
        row[reason].value = "台账不全"
    out = BytesIO()
    book.save(out)
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return {"file": _file("sheet.xlsx", out.getvalue(), kind)}


def _self_card(s: Stage, points: str = "1") -> dict[str, Any]:
    pk = s.campaign.standard.items.order_by("order").first().pk
    return {f"i{pk}-points": points, f"i{pk}-explanation": "台账齐全"}


def _answer(s: Stage) -> dict[str, Any]:
    return {q.code: q.scale[0]["code"] for q in s.o["survey"].instrument.questions.all()}


ROWS += [
    # --- acceptance ------------------------------------------------------------------------------
    Row(
        "self_assessment",
        _slug,
        lambda s: {"community": CHAOYANG, **_self_card(s)},
        {"admin", "staff_cy"},
        "staff_cy",
        note="the self-assessment's page form (every card in one click)",
    ),
    Row(
        "self_assessment_item",
        lambda s: [SLUG, CHAOYANG, s.campaign.standard.items.order_by("order").first().code],
        lambda s: _self_card(s, "2"),
        {"admin", "staff_cy"},
        "staff_cy",
        note="one card of the self-assessment, saved as it is given",
    ),
    Row(
        "self_assessment",
        _slug,
        lambda s: {
            "community": CHAOYANG,
            "action": "evidence",
            "items": [s.campaign.standard.items.order_by("order").first().pk],
            "file": _file("ledger.pdf", PDF),
        },
        {"admin", "staff_cy"},
        "staff_cy",
        note="evidence",
    ),
    Row(
        "evidence_remove",
        lambda s: [SLUG, _chaoyang_evidence()],
        lambda s: {"card": "A1"},
        {"admin", "staff_cy"},
        "staff_cy",
        note="a wrong attachment taken back before submission (the one the row above attached)",
    ),
    Row(
        "communities",
        _slug,
        lambda s: {
            "action": "move",
            "to": "rectifying",
            "enrollment": [s.campaign.enrollments.get(community__code=XINHUA).pk],
        },
        MANAGERS,
        "town",
        note="a workflow step",
    ),
    Row(
        "rectifications",
        _slug,
        lambda s: {"id": s.o["rect"].public_id, "status": "done", "note": "已整改"},
        MANAGERS,
        "town",
        note="a rectification's status",
    ),
    Row(
        "rectifications",
        _slug,
        lambda s: {"id": s.o["rect"].public_id, "action": "attach", "file": _file("fix.pdf", PDF)},
        MANAGERS,
        "town",
        note="a rectification's evidence",
    ),
    # Before the PSB assessor's own scores below: confirming survey points writes item E4.
    Row(
        "survey_results",
        lambda s: [s.o["survey"].public_id, ZHANQIAN],
        lambda s: {"item": "E4", "points": "4", "reason": "入户核实"},
        {"psb"},
        "psb",
    ),
    Row(
        "score_item",
        lambda s: [SLUG, 3, ZHANQIAN, _psb_item(s).code],
        _one_card,
        {"psb"},
        "psb",
        note="one score card saved as it is answered",
    ),
    Row(
        "score_community",
        lambda s: [SLUG, 3, ZHANQIAN],
        _scores_page,
        {"psb"},
        "psb",
    ),
    Row("score_sheet", lambda s: [SLUG, 3], _filled_sheet, {"psb"}, "psb"),
    Row(
        "score_vetoes",
        lambda s: [SLUG, 3, ZHANQIAN],
        lambda s: {"action": "lift", "veto": "V2", "text": "案件已侦破，整改到位"},
        {"psb"},
        "psb",
        note="the PSB assessor lifts the veto that stands from July",
    ),
    Row(
        "sign_employment_figures",
        lambda s: [SLUG, 3, XINHUA],
        lambda s: {},
        {"labour"},
        "labour",
    ),
    Row(
        "round_detail",
        lambda s: [SLUG, 3],
        lambda s: {
            "opens_on": "2026-11-01",
            "closes_on": "2026-12-20",
            "combine_rule": "mean",
            "rescore": "lost",
        },
        {"admin", "city"},
        "city",
    ),
    Row(
        "round_disagreements",
        lambda s: [SLUG, 3],
        lambda s: {
            "enrollment": s.campaign.enrollments.get(community__code=ZHANQIAN).pk,
            "item": s.campaign.standard.items.filter(department__code="PSB").first().pk,
            "points": "1",
            "reason": "复核后议定",
        },
        {"admin", "city"},
        "city",
        note="the lead settles an item the psb assessor scored above",
    ),
    # --- calibration (issue 17 item 2): the demo's exercise on 新华 is open in round 3 -----------
    Row(
        "calibration_sheet",
        lambda s: [SLUG, 3, _calibration().public_id],
        lambda s: {
            f"i{_calibration_item(s).pk}-points": "1",
            f"i{_calibration_item(s).pk}-reason": "复核",
        },
        {"assessor"},
        "assessor",
        note="a panel member (陈志强, on the city's panel) changes his own sheet",
    ),
    Row(
        "calibration_close",
        lambda s: [SLUG, 3, _calibration().public_id],
        lambda s: {},
        {"admin", "city"},
        "city",
    ),
    Row(
        "calibration_list",
        lambda s: [SLUG, 3],
        lambda s: {"community": s.o["jiefang"].pk, "items": [_calibration_item(s).pk]},
        {"admin", "city"},
        "city",
        note="the lead opens a second exercise",
    ),
    # --- appeals (issue 17 item 3): July (round 2) is signed off; 解放路's staff appeals H3 (PROP,
    # the one item July took points off: only those are offered), the city gives it to the
    # county's PROP assessor (the city's own scored it), who upholds it --------------------------
    Row(
        "appeal_new",
        lambda s: [SLUG, 2, JIEFANG],
        lambda s: {"subject": f"item:{_item(s, 'H3').pk}", "statement": "教学记录齐全，见附件"},
        {"community", "town"},  # the town officer was made 解放路's staff by a row above
        "community",
    ),
    Row(
        "appeal_assign",
        lambda s: [SLUG, 2, _appeal().public_id],
        lambda s: {f"a{_appeal().pk}-reviewer": APPEAL_REVIEWER},
        {"admin", "city"},
        "city",
    ),
    Row(
        "appeal_detail",
        lambda s: [SLUG, 2, _appeal().public_id],
        lambda s: {"decision": "uphold", "reason": "记录不全，维持扣分"},
        {APPEAL_REVIEWER},
        APPEAL_REVIEWER,
        note="the assigned reviewer decides",
    ),
    # --- county accuracy (issue 17 item 1): the demo drew July's sample; November is open -------
    Row(
        "sample_settings",
        lambda s: [SLUG, 3],
        lambda s: {"kind": "count", "base": "2", "enlarged": "4", "threshold": "2.5"},
        {"admin", "city"},
        "city",
    ),
    Row(
        "sample_draw",
        lambda s: [SLUG, 3],
        lambda s: {"seed": "7"},
        {"admin", "city"},
        "city",
        note="the city draws November's sample",
    ),
    # --- the public notice (issue 17 item 5): a second notice of July for 东关 (build_stage) ------
    Row(
        "round_notices",
        lambda s: [SLUG, 2],
        lambda s: {"working_days": "5"},
        {"admin", "city"},
        "city",
        note="the city publishes the notice that lists 东关",
    ),
    # Anyone may object while a notice is open, signed in or not: no refusal of a person.
    Row(
        "notice_public",
        lambda s: [_open_notice().public_id],
        lambda s: {
            "entry": _open_notice().entries.get().pk,
            "statement": "活动室长期上锁",
            "name": "居民甲",
            "contact": "13900000000",
        },
        EVERYONE,
        "anonymous",
    ),
    Row(
        "notice_detail",
        lambda s: [SLUG, _open_notice().public_id],
        lambda s: {
            "objection": _open_notice().entries.get().objections.get().public_id,
            "decision": "dismissed",
            "reason": "经核查，活动室按时开放",
        },
        {"admin", "city"},
        "city",
    ),
    Row(
        "commendation",
        _slug,
        lambda s: {
            "action": "confirm",
            "enrollment": [s.campaign.enrollments.get(community__code=JIEFANG).pk],
        },
        {"admin", "city"},
        "city",
    ),
    # The demo issued July's certificates (before its re-checks of titles): revoking one for an
    # error is what is left to do on the page (和平里社区's, whose re-check passed).
    Row(
        "certificates",
        lambda s: [SLUG, 2],
        lambda s: {
            "action": "revoke",
            "id": str(_certificate("990121100002").public_id),
            "reason": "证书信息有误",
        },
        {"admin", "city"},
        "city",
    ),
    # --- re-checks of titles (issue 17 item 4): the demo left 解放路 to re-check and 东关
    # rectifying (its deadline passed on the stage); 解放路 fails with a deadline ahead, 东关
    # fails its follow-up and is withdrawn.
    Row(
        "titles_draw",
        _slug,
        lambda s: {
            "year": str(_next_year()),
            "kind": "share",
            "standard_size": "50",
            "commended_size": "100",
            "seed": "5",
        },
        {"admin", "city"},
        "city",
        note="next year's draw",
    ),
    Row(
        "title_recheck",
        lambda s: [SLUG, _title_recheck(JIEFANG).public_id],
        lambda s: {
            "result": "failed",
            "checked_on": _day(-9),
            "finding": "台账缺失",
            "due_on": _day(20),
        },
        {"admin", "city"},
        "city",
    ),
    Row(
        "title_follow_up",
        lambda s: [SLUG, _title_recheck(DONGGUAN).public_id],
        lambda s: {"result": "failed", "checked_on": _day(0), "finding": "仍未整改"},
        {"admin", "city"},
        "city",
    ),
    Row(
        "title_withdraw",
        lambda s: [SLUG, _title_recheck(DONGGUAN).public_id],
        lambda s: {"reason": "逾期未整改"},
        {"admin", "city"},
        "city",
    ),
    # --- the reports to the city (ADR 25): the county reports 新港社区, the city makes the
    # documents of the demo's report again.
    Row(
        "upward_reports",
        _slug,
        lambda s: {
            "county": "990121000000",
            "communities": [LATE],
            "statement": "新港社区经县级预验收达到标准，现予上报。",
        },
        {"admin", "county"},
        "county",
    ),
    Row(
        "upward_report_rebuild",
        lambda s: [SLUG, _upward_report().public_id],
        lambda s: {},
        {"admin", "city", "county"},
        "city",
    ),
    # Both forms that start a long export; the read-only viewer takes the ranking as a plain
    # link instead and is refused here (issue 16's leftovers, item 1).
    Row(
        "round_export",
        lambda s: [SLUG, 2],
        lambda s: {"kind": "summary-xlsx"},
        READERS - {"viewer"},
        "community",
    ),
    Row(
        "round_export",
        lambda s: [SLUG, 2],
        lambda s: {"kind": "summary-pdf"},
        READERS - {"viewer"},
        "city",
    ),
    Row(
        "communities",
        _slug,
        lambda s: {"action": "reopen", "round": 2, "reason": "复核"},
        {"admin", "city"},
        "city",
        note="reopening a round (last: round 3 carries from it)",
    ),
    # --- employment station (解放路's ledger) ---------------------------------------------------------
    Row(
        "employment_ledger",
        lambda s: [JIEFANG],
        lambda s: {"action": "household", "address": "解放路99号"},
        KEEPERS,
        "community",
    ),
    Row(
        "employment_resident",
        _pid("resident"),
        lambda s: {"action": "consent", "given": "yes"},
        KEEPERS,
        "community",
    ),
    Row(
        "employment_fairs",
        lambda s: [JIEFANG],
        lambda s: {"title": "冬季招聘会", "held_on": "2026-12-15"},
        KEEPERS,
        "community",
    ),
    Row(
        "employment_fair",
        _pid("fair"),
        lambda s: {"action": "check_in", "resident": s.o["fair_newcomer"].public_id},
        KEEPERS,
        "community",
    ),
    Row(
        "employment_reconcile",
        lambda s: [JIEFANG],
        lambda s: {"file": _csv("身份证号,姓名,就业状态\n110101199003078515,某某,就业\n")},
        KEEPERS,
        "community",
    ),
    Row(
        "employment_jobs",
        lambda s: [JIEFANG],
        lambda s: {
            "action": "employer",
            "name": "清源家政服务有限公司",
            "credit_code": "91350100M000100Y43",
        },
        KEEPERS,
        "community",
    ),
    # --- surveys ----------------------------------------------------------------------------------
    Row(
        "survey_list",
        lambda s: [SLUG, 3],
        lambda s: {
            "instrument": s.o["survey"].instrument.public_id,
            "sample_size": 10,
            "reserve_size": 5,
            "method": "systematic",
        },
        {"admin", "city"},  # the round's lead runs its survey, never the county it judges
        "city",
    ),
    Row(
        "survey_frame",
        lambda s: ["990121100009"],  # made by the division import above; no survey draws there yet
        lambda s: {"file": _csv("小区,楼栋,门牌,户序\n新建小区,9,901,1\n")},
        MANAGERS,
        "town",
    ),
    Row(
        "survey_detail",
        lambda s: [SurveyRound.objects.order_by("-pk").first().public_id],  # the new one above
        lambda s: {"community": CHAOYANG},
        {"admin", "city"},  # the round's lead runs its survey, never the county it judges
        "city",
    ),
    Row(
        "survey_substitutions",
        lambda s: [s.o["survey"].public_id, JIEFANG],
        lambda s: {"drawn": s.o["unanswered"].pk, "reason": "vacant"},
        {"admin", "city"},  # the round's lead runs its survey, never the county it judges
        "city",
    ),
    Row(
        "survey_enter",
        _pid("survey"),
        lambda s: {
            "mode": "tablet",  # the page's own choice; an unknown mode is refused by its form
            "collector": "assessment_team",
            "code": s.o["to_enter"].code,
            **_answer(s),
        },
        {"admin", "city"},  # the round's lead runs its survey, never the county it judges
        "city",
    ),
    # A resident's answer needs only the code on his door card: anyone holding it may answer.
    Row(
        "survey_answer",
        lambda s: [s.o["to_answer"].code],
        _answer,
        EVERYONE,
        "anonymous",
    ),
    Row("survey_answer_start", lambda s: [], lambda s: {"code": "ZZZZ"}, EVERYONE, ""),
    # --- signing in and out, language, one's own password ------------------------------------------
    Row("login", lambda s: [], lambda s: {"username": "x", "password": "y"}, EVERYONE, ""),
    Row("logout", lambda s: [], lambda s: {}, EVERYONE, ""),
    Row("set_language", lambda s: [], lambda s: {"language": "en"}, EVERYONE, ""),
    Row("password_change", lambda s: [], lambda s: {}, EVERYONE, ""),
    Row("set_password", lambda s: ["MQ", "set-password"], lambda s: {}, EVERYONE, ""),
    # One's own second factor: enrolling and verifying act on the signed-in person alone.
    Row("otp_enrol", lambda s: [], lambda s: {"code": "000000"}, EVERYONE, ""),
    Row("otp_verify", lambda s: [], lambda s: {"code": "000000"}, EVERYONE, ""),
    # One's own API tokens (ADR 24): anyone holding a role makes one for himself; a leading-group
    # member a read-only one only; a person with no role none (it would reach nothing).
    Row(
        "token_list",
        lambda s: [],
        lambda s: {"name": "平板", "scope": "read", "expires_on": _day(30)},
        set(PERSONAS) - {"nobody"},
        "viewer",
    ),
    Row(
        "token_list",
        lambda s: [],
        lambda s: {"name": "平板", "scope": "write", "expires_on": _day(30)},
        set(PERSONAS) - {"nobody", "viewer"},
        "community",
        note="a write token",
    ),
    # Revoking: the token's own person only; to anyone else it does not exist (404).
    Row("token_revoke", lambda s: [_token(s).public_id], lambda s: {}, {"community"}, "community"),
]


def _token(s: Stage) -> Any:
    """The demo community worker's API token (made by `build_stage`)."""
    return s.o["token"]


# --- one's own notifications and how one is told (ADR 28) -------------------------------------
ROWS += [
    Row("notification_read", _pid("note"), lambda s: {}, {"community"}, "community"),
    # Everyone signed in marks his own read and chooses his own channels; only the visitor is
    # refused (and 解放路's staff, with one left unread, proves the request does something).
    Row("notifications_read_all", lambda s: [], lambda s: {}, set(PERSONAS), "community"),
    Row(
        "notification_preferences",
        lambda s: [],
        lambda s: {
            "email": "off",
            "webhook": "digest",
            "mobile": "13800138000",
            "language": "zh-hans",
        },
        set(PERSONAS),
        "community",
    ),
]


def _routes(resolver: URLResolver) -> list[URLPattern]:
    found: list[URLPattern] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if "admin" in (getattr(entry, "app_name", None), getattr(entry, "namespace", None)):
                continue  # the admin writes nothing a service owns: tests/test_admin_readonly.py
            if getattr(entry, "namespace", None) == "api":
                # The JSON API takes a bearer token, never a session or a form: its writes are
                # tried with every kind of token in tests/test_api_writes.py (ADR 24).
                continue
            found += _routes(entry)
        else:
            found.append(entry)
    return found


# What in a view's code says it takes a POST: reading the posted data or a posted file, the
# shared import page, or a class-based view's form handling.
POST_MARKS = ("POST", "FILES", "import_page", "posted_file", "def post", "form_valid", "FormView")


def _takes_post(pattern: URLPattern) -> bool:
    view = getattr(pattern.callback, "view_class", None) or pattern.callback
    view = inspect.unwrap(view)
    try:
        source = inspect.getsource(view)
    except (OSError, TypeError):
        return True  # cannot be read: it must have a row
    if "view_class" in dir(pattern.callback):
        return any(
            hasattr(klass, "post") or hasattr(klass, "form_valid")
            for klass in [pattern.callback.view_class]  # type: ignore[attr-defined]
        )
    return any(mark in source for mark in POST_MARKS)


def test_every_post_route_has_a_row():
    named = {row.route for row in ROWS}
    missing = sorted(
        p.name or str(p.pattern)
        for p in _routes(get_resolver())
        if _takes_post(p) and p.name not in named
    )
    assert not missing, f"POST routes without a row in the write matrix: {missing}"


# What a read-only viewer may still post: his own session, language, password and second factor,
# his own notifications read and how he is told, and a survey answer, which needs only the code on
# a door card. Nothing else.
OWN_SESSION = {
    "login",
    "logout",
    "set_language",
    "password_change",
    "set_password",
    "otp_enrol",
    "otp_verify",
    "survey_answer",
    "survey_answer_start",
    "notice_public",  # an objection to a public notice needs no account, as a survey answer
    "token_list",  # his own read-only API token, acting as he does (ADR 24)
    # His own notifications and how he is told of them (ADR 28): nobody else's.
    "notifications_read_all",
    "notification_preferences",
}


def test_the_read_only_viewer_is_refused_every_post_route_but_his_own_session():
    """With test_every_post_route_has_a_row, every POST route of the URL conf has a row; the
    matrix then posts each row as the demo's leading-group member and proves that nothing
    changed. Here: no row lets him through beyond his own session."""
    let_through = sorted({row.route for row in ROWS if "viewer" in row.may} - OWN_SESSION)
    assert not let_through, f"POST routes a read-only viewer may use: {let_through}"
    assert "viewer" in PERSONAS


def test_the_matrix_names_no_route_that_does_not_exist():
    names = {p.name for p in _routes(get_resolver())}
    assert {row.route for row in ROWS} <= names
