"""The demo city: loaded through the same import services as real data, so it is idempotent."""

from __future__ import annotations

import base64
import hashlib
from importlib import resources
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from civicmark.accounts import twofactor
from civicmark.accounts.places import services
from civicmark.accounts.places.imports import departments_import, divisions_import
from civicmark.accounts.services import person_create, users_import
from civicmark.divisions.models import Department, Division, WorkingGroup

DEMO_PASSWORD = "CivicMark-demo-2026"
ADMIN = ("admin", "系统管理员")
# The demo accounts that administer others and so need a second factor (superuser, city, county).
DEMO_OTP_ACCOUNTS = ("admin", "city", "county")
PILOT = "990121100001"

GROUPS: list[tuple[str, str, str, list[tuple[str, str | None, str, bool]]]] = [
    (
        "990100000000",
        "市社区建设领导小组办公室",
        "统筹全市示范社区创建，组织两轮验收",
        [
            ("王建国", "CIVIL", "办公室主任", True),
            ("周立新", "ORG", "成员", False),
            ("孙丽", "FP", "成员", False),
        ],
    ),
    (
        "990121000000",
        "安平县创建示范社区工作组",
        "县民政局牵头，负责县级预验收和上报",
        [("李秀英", "AP-CIVIL", "组长", True), ("马强", "AP-PSB", "社会治安综合治理", False)],
    ),
    (
        "990121100000",
        "城关镇创建工作组",
        "指导辖区四个社区创建，办好试点",
        [("张卫东", None, "组长", True), ("吴敏", None, "业务培训", False)],
    ),
    (
        "990121001000",
        "东关街道创建工作组",
        "推动辖区四个社区全面铺开",
        [("郑海", None, "组长", True), ("黄静", None, "台账资料", False)],
    ),
]


def _file(name: str) -> bytes:
    return resources.files("civicmark.demo").joinpath(name).read_bytes()


def load_demo() -> list[tuple[str, str, str]]:
    """Load the demo city; return (username, role, password) for each demo account."""
    with transaction.atomic():
        divisions_import(
            actor=None, data=_file("divisions.csv"), filename="divisions.csv", via="demo"
        )
        departments_import(
            actor=None, data=_file("departments.csv"), filename="departments.csv", via="demo"
        )
        services.profile_update(
            actor=None,
            community=Division.objects.get(code=PILOT),
            values={"is_pilot": True},
            via="demo",
        )
        result = users_import(actor=None, data=_file("users.csv"), filename="users.csv", via="demo")
        User = get_user_model()
        for user, _link in result.created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if not User.objects.filter(username=ADMIN[0]).exists():
            User.objects.create_superuser(
                username=ADMIN[0], password=DEMO_PASSWORD, full_name=ADMIN[1]
            )
        _demo_devices()
        _load_groups()
        _load_standard()
        _load_campaign()
        _load_acceptance()
        from civicmark.demo.employment import load_employment

        load_employment()
        from civicmark.demo.surveys import load_surveys

        load_surveys()
        from civicmark.demo.notice import load_notice

        load_notice()  # July's municipal round named and proposed: its public notice
        from civicmark.demo.calibration import load_calibration

        load_calibration()
        from civicmark.demo.appeals import load_appeals

        load_appeals()  # on the July round, signed off above
        from civicmark.demo.everyday import load_everyday_work

        load_everyday_work()
        from civicmark.demo.notifications import load_notifications

        load_notifications()  # after the work it tells of: the November round, the late task
        # Last: the re-checks of titles need the certificates, which come after every step
        # before them (the public notice among them).
        from civicmark.campaigns.models import Campaign
        from civicmark.demo.titles import load_titles

        load_titles(Campaign.objects.get(slug=CAMPAIGN))
    accounts = [(ADMIN[0], "superuser", DEMO_PASSWORD)]
    for line in _file("users.csv").decode().splitlines()[1:]:
        username, _name, role, *_ = line.split(",")
        accounts.append((username, role, DEMO_PASSWORD))
    return accounts


def demo_totp_key(username: str) -> str:
    """A fixed, public key per demo account (hex, 20 bytes): for trying the demo, never for use."""
    return hashlib.sha1(f"civicmark-demo-totp:{username}".encode()).hexdigest()  # noqa: S324


def demo_totp_secrets() -> dict[str, str]:
    """Each privileged demo account's TOTP secret, base32, as an authenticator app takes it."""
    return {
        username: base64.b32encode(bytes.fromhex(demo_totp_key(username))).decode()
        for username in DEMO_OTP_ACCOUNTS
    }


def _demo_devices() -> None:
    """Give each privileged demo account a confirmed device with its fixed demo key."""
    User = get_user_model()
    for user in User.objects.filter(username__in=DEMO_OTP_ACCOUNTS):
        if not twofactor.has_device(user):
            twofactor.totp_device_confirm(
                actor=None,
                user=user,
                key=demo_totp_key(user.username),
                step=-1,
                name=twofactor.DEMO_DEVICE,
                via="demo",
            )


def _load_standard() -> None:
    """The default standard written by this team, in Chinese, published (English: importable)."""
    from civicmark.standards import formats
    from civicmark.standards.services import standard_import

    data = formats.from_yaml(
        resources.files("civicmark.standards")
        .joinpath("data/demonstration-community.zh.yaml")
        .read_bytes()
    )
    # The demo city's, named: beside another city (`civicmark seed-scale` makes one) the
    # standard's city is not the only one, and loading the demo again must still change nothing.
    city = Division.objects.get(code="990100000000")
    standard_import(actor=None, data=data, division=city, publish=True, via="demo")


CAMPAIGN = "anping-2026"


def _load_campaign() -> None:
    """The county's campaign for the year, with the plan's steps; the early steps are done."""
    from datetime import date

    from civicmark.campaigns.models import Campaign, Meeting, MeetingKind, Task, TaskStatus
    from civicmark.campaigns.services import attendance_record, campaign_create, meeting_create
    from civicmark.standards.models import Standard

    if Campaign.objects.filter(slug=CAMPAIGN).exists():
        return
    county = Division.objects.get(code="990121000000")
    standard = Standard.objects.get(slug="demonstration-community", version=1)
    campaign = campaign_create(
        actor=None,
        slug=CAMPAIGN,
        name="安平县2026年城市示范社区创建",
        year=2026,
        division=county,
        standard=standard,
        pilots=[PILOT],
        via="demo",
    )
    campaign.working_groups.set(WorkingGroup.objects.filter(division__path__startswith=county.path))
    # The work is done everywhere but in two communities of 东关街道, whose tasks are still open,
    # so overdue work shows up where it would in life.
    late = {"990121001003", "990121001004"}
    tasks = campaign.tasks.select_related("phase", "division")
    done = [
        t
        for t in tasks
        if t.phase.key in ("team_up", "mobilise", "pilot", "start", "training")
        and t.division.code not in late
        and not t.follows  # done by the work itself, below (the self-assessments submitted)
    ]
    for task in done:
        task.status = TaskStatus.DONE
    Task.objects.bulk_update(done, ["status"])
    communities = list(Division.objects.filter(enrollments__campaign=campaign).order_by("path"))
    training = meeting_create(
        actor=None,
        campaign=campaign,
        kind=MeetingKind.TRAINING,
        title="社区居委会干部业务培训班",
        held_on=date(2026, 7, 2),
        host=county,
        place="县委党校",
        agenda="创建标准解读；台账资料规范；自评方法",
        expected=[(c, f"{c.name}主任") for c in communities]
        + [(c, f"{c.name}专干") for c in communities],
    )
    attendance_record(
        actor=None,
        meeting=training,
        minutes="应到16人，实到14人。",
        present={
            a.pk
            for a in training.attendance.all()
            if a.community.code not in late or "主任" in a.name
        },
    )
    on_site = meeting_create(
        actor=None,
        campaign=campaign,
        kind=MeetingKind.ON_SITE,
        title="创建示范社区现场推进会",
        held_on=date(2026, 5, 30),
        host=county,
        place="解放路社区",
        agenda="参观试点社区；交流经验；部署全面启动",
        expected=[(c, f"{c.name}书记") for c in communities],
    )
    attendance_record(
        actor=None,
        meeting=on_site,
        minutes="各社区书记到会，参观试点社区台账和服务大厅。",
        present={a.pk for a in on_site.attendance.all() if a.community.code != "990121001004"},
    )
    assert Meeting.objects.filter(campaign=campaign).count() == 2


# Round 2 (the municipal acceptance in mid-July): what each community lost, and why.
DEDUCTIONS: dict[str, dict[str, tuple[str, str]]] = {
    "990121100001": {"H3": ("0.5", "市民学校教学记录不全")},
    "990121100002": {
        "C1": ("2", "用房面积二百六十平方米，不足三百"),
        "D3": ("2", "缺少便民维修网点"),
        "J1": ("2", "满意率百分之八十六"),
        "G2": ("1", "两个老旧小区无物业服务"),
        "E4": ("2", "居民安全感百分之七十六"),
        "H2": ("1", "第二季度无文体活动记录"),
        "B2": ("1", "公开栏未按季度更新"),
        "C3": ("1.5", "流动人口数据两个月未更新"),
        "F3": ("1", "抽查发现一户低保未动态调整"),
    },
    "990121100003": {
        "B1": ("2", "全年只召开一次居民会议"),
        "E3": ("2", "调解成功率百分之九十一"),
        "F2": ("2", "一户零就业家庭未按期清零"),
        "H2": ("1", "第三季度无活动记录"),
        "J1": ("2", "满意率百分之八十四"),
        "C1": ("2", "用房面积二百五十平方米"),
        "D2": ("2", "为老服务台账不全"),
    },
    "990121100004": {
        "C1": ("4", "用房面积一百八十平方米"),
        "C2": ("2", "健身器材损坏未修复"),
        "D1": ("2", "服务事项清单未公开"),
        "E2": ("2", "巡逻记录缺失"),
        "F1": ("1", "缺专职人员"),
        "G1": ("2", "发现四处卫生死角"),
        "H1": ("1.5", "无图书室"),
        "J1": ("6", "满意率百分之六十八"),
    },
    "990121001001": {
        "G2": ("1", "一个小区准物业服务未覆盖"),
        "J1": ("2", "满意率百分之八十八"),
        "E4": ("2", "居民安全感百分之七十八"),
        "D3": ("2", "缺少家政服务网点"),
        "A2": ("1", "缺一名社区专职工作人员"),
        "I2": ("1", "两名流动人口信息不符"),
        "G3": ("1", "发现一处违章搭建"),
        "B2": ("1", "公开栏未按季度更新"),
    },
    "990121001002": {"E1": ("2", "民警驻勤不到位"), "J1": ("2", "满意率百分之八十五")},
}
VETOED = ("990121001002", "V2", "考核年度内辖区发生一起重大刑事案件")
NOT_YET = {"990121001003", "990121001004"}  # still self-assessing: their work is late
# 朝阳社区's staff (`zhaoyang`) is still scoring it: it gets no self-scores here, only the ones
# civicmark.demo.everyday gives through the self-assessment service.
CHAOYANG = "990121001003"


def _demo_assessors(code: str = "990100000000", prefix: str = "assessor") -> dict[int, Any]:
    """One assessor per city department at the given division: the city's panel for the
    municipal rounds, the county's own for its pre-acceptance (the demo prints only the city's
    family planning assessor)."""
    User = get_user_model()
    city = Division.objects.get(code="990100000000")
    division = Division.objects.get(code=code)
    found = {}
    for dept in Department.objects.filter(division=city):
        user = User.objects.filter(
            roles__role="assessor", roles__department=dept, roles__division=division
        ).first()
        if user is None:
            # Through the same service as real people: no usable password, audited.
            user = person_create(
                actor=None,
                username=f"{prefix}-{dept.code.lower()}",
                full_name=f"{division.name}{dept.name.removeprefix('市')}考核员",
                role="assessor",
                division=division,
                department=dept,
                via="demo",
            )
        found[dept.pk] = user
    return found


REPORT_STATEMENT = (
    "根据市创建工作安排，我县社区建设领导小组组织民政、公安、计生等部门，对各镇（街道）推荐的社区"
    "进行了县级预验收。经逐项考核，以下社区总分均达到80分以上，无一票否决事项，达到城市示范社区"
    "基本标准。县级预验收中发现的问题已督促整改到位。\n"
    "现将预验收合格社区名单报上，请市社区建设领导小组办公室组织验收。"
)


def _load_acceptance() -> None:
    """Self-assessments, the county pre-acceptance and the first municipal round, through the
    same services and workflow as real use."""
    from decimal import Decimal

    from civicmark.assessments.access import ACCESS
    from civicmark.assessments.models import Rectification, SelfScore, Transition
    from civicmark.assessments.services import (
        rectification_update,
        round_finalise,
        score_save,
    )
    from civicmark.assessments.workflow import State, transition_apply
    from civicmark.campaigns.models import Campaign
    from civicmark.scoring.findings import veto_record

    campaign = Campaign.objects.get(slug=CAMPAIGN)
    if Transition.objects.filter(enrollment__campaign=campaign).exists():
        return
    assessors = _demo_assessors()
    county_assessors = _demo_assessors("990121000000", "county-assessor")
    items = list(campaign.standard.items.all())
    enrollments = {e.community.code: e for e in campaign.enrollments.select_related("community")}
    SelfScore.objects.bulk_create(
        SelfScore(enrollment=e, item=i, points=i.points, explanation="对照标准逐项自查")
        for e in enrollments.values()
        if e.community.code != CHAOYANG
        for i in items
    )

    def move(codes: Any, to: str, comment: str = "") -> None:
        transition_apply(
            actor=None,
            campaign=campaign,
            enrollments=[enrollments[c] for c in codes],
            to=to,
            comment=comment,
            via="demo",
        )

    def score_round(
        number: int,
        codes: Any,
        deductions: dict[str, dict[str, tuple[str, str]]],
        panel: dict[int, Any],
    ) -> None:
        round_ = campaign.rounds.get(number=number)
        for code in codes:
            lost = deductions.get(code, {})
            for item in items:
                minus, reason = lost.get(item.code, ("0", ""))
                score_save(
                    actor=panel[item.department_id],
                    round_=round_,
                    enrollment=enrollments[code],
                    item=item,
                    points=item.points - Decimal(minus),
                    reason=reason,
                    via="demo",
                )

    move(enrollments, State.SELF_ASSESSING)
    ready = [c for c in enrollments if c not in NOT_YET]
    move(ready, State.SUBMITTED)
    move(ready, State.TOWN_REVIEWED)
    # The county pre-acceptance, scored by the county's own assessors.
    score_round(
        1, ready, {c: dict(list(d.items())[:2]) for c, d in DEDUCTIONS.items()}, county_assessors
    )
    round_finalise(actor=None, round_=campaign.rounds.get(number=1))
    # What the county found was put right before the city came.
    for fix in Rectification.objects.filter(round__campaign=campaign, round__number=1):
        rectification_update(
            actor=None, rectification=fix, status="done", note="已在市级验收前整改到位"
        )
    move(ready, State.COUNTY_PRE_ACCEPTED)
    # The county reports them to the city, with its statement: the report and its PDF and list
    # are kept (ADR 25), and the county and the city download them from "Reports to the city".
    from civicmark.results.upward import report_upward

    report_upward(
        actor=get_user_model().objects.get(username="county"),
        campaign=campaign,
        county=Division.objects.get(code="990121000000"),
        enrollments=[enrollments[c] for c in ready],
        statement=REPORT_STATEMENT,
        via="demo",
    )
    from civicmark.demo.sampling import draw_county_sample

    draw_county_sample(campaign)  # the city's re-check sample, drawn before it scores
    score_round(2, ready, DEDUCTIONS, assessors)
    community, veto_code, finding = VETOED
    veto = campaign.standard.vetoes.get(code=veto_code)
    veto_record(
        actor=assessors[veto.department_id],
        round_=campaign.rounds.get(number=2),
        enrollment=enrollments[community],
        veto=veto,
        reason=finding,
        access=ACCESS,
        via="demo",
    )
    # Signed off: what lost points becomes the communities' rectification list for November.
    round_finalise(actor=None, round_=campaign.rounds.get(number=2))
    move([c for c in ready if c not in (community, "990121100004")], State.STANDARD_UNIT)
    move(["990121100004"], State.NOT_REACHED)
    move([community], State.VETOED)
    move(["990121100001"], State.PROPOSED, "全部项目基本满分，拟表彰为先进单位")


def _load_groups() -> None:
    departments = {d.code: d for d in Department.objects.all()}
    for code, name, purpose, members in GROUPS:
        division = Division.objects.get(code=code)
        if WorkingGroup.objects.filter(division=division, name=name).exists():
            continue
        group = services.working_group_create(
            actor=None, division=division, name=name, purpose=purpose
        )
        for member_name, dept, duty, leader in members:
            services.working_group_member_add(
                actor=None,
                group=group,
                name=member_name,
                duty=duty,
                is_leader=leader,
                department=departments.get(dept or ""),
            )
