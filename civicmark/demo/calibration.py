"""The demo's calibration exercise (issue 17 item 2): before the November round the city's panel
scores 新华社区, which July found short of the standard, on ten items; every assessor lands
within half a point of the panel but the public security bureau's, who takes about a point and
a half more off every item, so the lead's page names one harsh outlier. The sheets go through
the same service as the panel's own, the exercise stays open as a lead would leave it until the
round starts."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model

from civicmark.assessments import panels
from civicmark.campaigns.models import Campaign
from civicmark.divisions.models import Division
from civicmark.quality.calibration import SheetEntry, calibration_open, calibration_sheet_save
from civicmark.quality.models import CalibrationExercise

REFERENCE = "990121100004"
# The item, what the panel as a whole finds lacking (points off) and why.
FOUND = {
    "A1": ("0", ""),
    "B1": ("0", ""),
    "C1": ("4", "用房面积一百八十平方米"),
    "C2": ("2", "健身器材损坏未修复"),
    "D1": ("2", "服务事项清单未公开"),
    "E2": ("2", "巡逻记录缺失"),
    "F1": ("1", "缺专职人员"),
    "G1": ("2", "发现四处卫生死角"),
    "H1": ("1.5", "无图书室"),
    "J1": ("6", "满意率百分之六十八"),
}
SPREAD = (Decimal(0), Decimal("0.5"), Decimal("-0.5"))  # honest judges differ by half a point
HARSH = "assessor-psb"
HARSHER_BY = Decimal("1.5")


def load_calibration() -> None:
    from civicmark.demo.loader import CAMPAIGN

    campaign = Campaign.objects.get(slug=CAMPAIGN)
    round_ = campaign.rounds.get(number=3)
    if CalibrationExercise.objects.filter(round=round_).exists():
        return
    items = {i.code: i for i in campaign.standard.items.filter(code__in=FOUND)}
    lead = get_user_model().objects.get(username="city")
    exercise = calibration_open(
        actor=lead,
        round_=round_,
        items=[items[code] for code in FOUND],
        community=Division.objects.get(code=REFERENCE),
        evidence="七月验收时的台账、现场照片和满意度调查结果",
        via="demo",
    )
    for k, member in enumerate(panels.panel(round_)):
        entries = []
        for i, (code, (off, reason)) in enumerate(FOUND.items()):
            item = items[code]
            lost = Decimal(off) + SPREAD[(k + i) % len(SPREAD)]
            if member.username == HARSH:
                lost += HARSHER_BY
            points = min(item.points, max(Decimal(0), item.points - lost))
            why = (reason or "台账资料不够完整") if points < item.points else ""
            entries.append(SheetEntry(item, points, why))
        calibration_sheet_save(actor=member, exercise=exercise, entries=entries, via="demo")
