"""Work waiting for each role in the demo, so that every account has something to do.

The July story leaves every community either finished or without a staff account. This adds,
through the same services as real use and idempotently:

- 朝阳社区 (staff `zhaoyang`) half-way through its self-assessment, with a ledger attached;
- 滨河社区 submitted to 东关街道, whose town officer (`town2`) is to review it (and may return
  朝阳社区's once it is submitted);
- the November round (3) covering 东关社区 as well as the communities the workflow brings, as
  the city's spot re-check: 东关社区 lost points in July on the family planning commission's
  item I2, so the `assessor` has a community to score in the open round.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from civicmark.assessments import panels
from civicmark.assessments.models import Evidence, SelfScore
from civicmark.assessments.services import (
    SelfEntry,
    evidence_attach,
    round_configure,
    self_scores_save,
)
from civicmark.assessments.workflow import State, transition_apply
from civicmark.campaigns.models import Campaign, Enrollment

CHAOYANG, BINHE, DONGGUAN = "990121001003", "990121001004", "990121001001"
ANSWERED = 12  # of 朝阳社区's items, the first ones in the standard's order
# A one-page PDF: the community's ledger scanned for its first items.
LEDGER = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def load_everyday_work() -> None:
    from civicmark.demo.loader import CAMPAIGN

    campaign = Campaign.objects.get(slug=CAMPAIGN)
    enrollments = {
        e.community.code: e
        for e in campaign.enrollments.select_related("community", "campaign").filter(
            community__code__in=(CHAOYANG, BINHE, DONGGUAN)
        )
    }
    _self_assessing(campaign, enrollments[CHAOYANG])
    if enrollments[BINHE].status == State.SELF_ASSESSING:
        transition_apply(
            actor=None,
            campaign=campaign,
            enrollments=[enrollments[BINHE]],
            to=State.SUBMITTED,
            comment="自评完成，报街道审核",
            via="demo",
        )
    _spot_check(campaign, enrollments[DONGGUAN])


def _self_assessing(campaign: Campaign, enrollment: Enrollment) -> None:
    if enrollment.status != State.SELF_ASSESSING:
        return
    staff = get_user_model().objects.get(username="zhaoyang")
    items = list(campaign.standard.items.order_by("order")[:ANSWERED])
    if not SelfScore.objects.filter(enrollment=enrollment).exists():
        # Full points but on the first two items, where the ledger shows a gap.
        self_scores_save(
            actor=staff,
            enrollment=enrollment,
            entries=[
                SelfEntry(
                    item,
                    item.points - (Decimal(1) if n < 2 and item.points >= 1 else Decimal(0)),
                    "对照标准逐项自查" if n >= 2 else "台账尚缺一个季度的记录",
                )
                for n, item in enumerate(items)
            ],
        )
    if not Evidence.objects.filter(enrollment=enrollment).exists():
        evidence_attach(
            actor=staff,
            enrollment=enrollment,
            items=items[:2],
            upload=SimpleUploadedFile("朝阳社区工作台账.pdf", LEDGER, "application/pdf"),
        )


def _spot_check(campaign: Campaign, enrollment: Enrollment) -> None:
    round_ = campaign.rounds.get(number=3)
    covered = list(panels.covered(round_))
    if round_.finalised_at or any(e.pk == enrollment.pk for e in covered):
        return
    round_configure(
        actor=get_user_model().objects.get(username="city"),
        round_=round_,
        opens_on=round_.opens_on,
        closes_on=round_.closes_on,
        combine_rule=round_.combine_rule,
        rescore=round_.rescore,
        lead=round_.lead,
        panel=list(round_.panel.all()),
        covers=[*covered, enrollment],
        via="demo",
    )
