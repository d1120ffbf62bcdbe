"""The demo's public notice (issue 17 item 5, ADR 22): after July's municipal round the city
published its list (the standard units, and 解放路社区 proposed for commendation) for five
working days from Monday 20 July 2026; a resident objected to 和平里社区 on the Wednesday, and
the city dismissed the objection after checking. The window has long closed by the demo's
today, so the names are final: the certificates can be issued and 解放路社区 commended. Through
the same services as real use, with the dates the demo's calendar gives them."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model

from civicmark.assessments.models import PublicNotice
from civicmark.assessments.notice_services import (
    notice_publish,
    objection_decide,
    objection_submit,
)
from civicmark.campaigns.models import Campaign

PUBLISHED_ON = dt.date(2026, 7, 20)
OBJECTED_ON = dt.date(2026, 7, 22)
OBJECTED_TO = "990121100002"


def load_notice() -> None:
    from civicmark.demo.loader import CAMPAIGN

    campaign = Campaign.objects.get(slug=CAMPAIGN)
    round_ = campaign.rounds.get(number=2)
    if PublicNotice.objects.filter(round=round_).exists() or round_.finalised_at is None:
        return
    city = get_user_model().objects.get(username="city")
    notice = notice_publish(
        actor=city, round_=round_, working_days=5, today=PUBLISHED_ON, via="demo"
    )
    entry = notice.entries.get(enrollment__community__code=OBJECTED_TO)
    objection = objection_submit(
        notice=notice,
        entry=entry,
        statement="和平里社区3号楼前仍有占道经营的摊点，晚上影响通行，不应命名为示范社区。",
        name="赵建国",
        contact="13800138000",
        today=OBJECTED_ON,
        via="demo",
    )
    objection_decide(
        actor=city,
        objection=objection,
        decision="dismissed",
        reason="经城管部门7月23日现场核查，所反映摊点已于7月上旬取缔，现场无占道经营，不影响命名。",
        via="demo",
    )
