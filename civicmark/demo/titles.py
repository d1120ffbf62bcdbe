"""The demo's dynamic management of titles (issue 17 item 4): once July's standard units hold
their certificates, the city draws this year's re-checks (every standing title of 安平县, seed
2027) and records them, with dates typed as a clerk enters a paper inspection afterwards:

- 和平里社区 passed;
- 文昌社区 failed (the resident ledger had lapsed), was given a deadline that has passed, failed
  the follow-up after it, and its title is WITHDRAWN: its verification page says so;
- 东关社区 failed a fortnight ago and is rectifying (the task is in its list, due next month);
- 解放路社区 is still to re-check (the city's to-do).

Idempotent: a campaign whose re-checks are drawn is left alone. Runs at the end of the loader,
after every step that comes before certificates."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from civicmark.campaigns.models import Campaign
from civicmark.results.models import RecheckDraw, RecheckSizeKind, TitleRecheck
from civicmark.results.services import certificates_issue
from civicmark.results.titles import (
    recheck_draw,
    recheck_follow_up,
    recheck_record,
    title_withdraw,
)

SEED = 2027
PASSED, WITHDRAWN, RECTIFYING = "990121100002", "990121100003", "990121001001"


def load_titles(campaign: Campaign) -> None:
    city = get_user_model().objects.get(username="city")
    certificates_issue(actor=city, round_=campaign.rounds.get(number=2), via="demo")
    today = timezone.localdate()
    if RecheckDraw.objects.filter(campaign=campaign).exists():
        return
    drawn = recheck_draw(
        actor=city,
        campaign=campaign,
        year=today.year,
        kind=RecheckSizeKind.COUNT,
        standard_size=10,
        commended_size=10,
        seed=SEED,
        via="demo",
    )
    rechecks = {
        r.certificate.enrollment.community.code: r
        for r in TitleRecheck.objects.filter(draw=drawn).select_related(
            "certificate__enrollment__community"
        )
    }
    recheck_record(
        actor=city,
        recheck=rechecks[PASSED],
        passed=True,
        checked_on=today - timedelta(days=30),
        finding="台账、设施与创建时一致，居民满意度抽样良好",
        via="demo",
    )
    failed = recheck_record(
        actor=city,
        recheck=rechecks[WITHDRAWN],
        passed=False,
        checked_on=today - timedelta(days=40),
        finding="居民信息台账自授牌后停止更新，议事协商记录缺失",
        due_on=today - timedelta(days=10),
        # The story is told after the fact: the deadline was set on the day of the re-check,
        # when it still lay a month ahead (the rule is the deadline after the day it is set).
        entered_on=today - timedelta(days=40),
        via="demo",
    )
    recheck_follow_up(
        actor=city,
        recheck=failed,
        passed=False,
        checked_on=today - timedelta(days=5),
        finding="逾期复查：台账仍未更新，整改未落实",
        via="demo",
    )
    title_withdraw(
        actor=city,
        recheck=failed,
        reason="动态管理复查未通过，限期整改逾期未落实，撤销“示范社区”称号",
        via="demo",
    )
    recheck_record(
        actor=city,
        recheck=rechecks[RECTIFYING],
        passed=False,
        checked_on=today - timedelta(days=14),
        finding="老旧小区改造后公共设施管护制度未建立",
        due_on=today + timedelta(days=30),
        via="demo",
    )


def summary(url: str) -> list[str]:
    """What the demo prints of the re-checks: the withdrawn title's public page."""
    from civicmark.demo.loader import CAMPAIGN

    withdrawn = (
        TitleRecheck.objects.filter(draw__campaign__slug=CAMPAIGN, status="withdrawn")
        .select_related("certificate")
        .first()
    )
    if withdrawn is None:
        return []
    return [
        f"Re-checks of titles (sign in as city): {url}campaigns/{CAMPAIGN}/titles/",
        f"  A withdrawn title, as the public sees it: {url}v/{withdrawn.certificate.code}/",
    ]
