"""The demo's appeals (issue 17 item 3), on the July municipal round once it is signed off.

和平里社区 contests the point July took off its public notice board (B2): its staff show the
quarterly notices, the city gives the appeal to the county's civil affairs assessor (the city's
own scored it), who changes B2 to full marks, so the stored result and the ranking follow.
新华社区 contests the four points lost on its office space (C1): the county's finance assessor
upholds it, the office being 180 square metres whatever its plans. Everything goes through the
same services as real use; the staff accounts are made like the demo's assessors (no usable
password, audited)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from civicmark.accounts.services import person_create
from civicmark.campaigns.models import Campaign
from civicmark.divisions.models import Division
from civicmark.quality.appeals import (
    Decision,
    appeal_assign,
    appeal_decide,
    appeal_file,
    reviewer_candidates,
)
from civicmark.quality.models import Appeal

# community code, staff account, its name, item, statement, the reason, and whether the
# reviewer restores the item's full marks (else he upholds the result)
APPEALS = (
    (
        "990121100002",
        "hepingli",
        "孙丽",
        "B2",
        "公开栏每季度都有更新，验收当天刚换下第二季度的内容，附四个季度的公开照片。",
        "核对照片和登记簿，四个季度均按时公开，恢复该项满分。",
        True,
    ),
    (
        "990121100004",
        "xinhua",
        "吴强",
        "C1",
        "办公用房正在协调置换，新址三百二十平方米已签意向书，请按新址计分。",
        "意向书不等于已投入使用，验收时办公用房为一百八十平方米，维持原扣分。",
        False,
    ),
)


def _staff(code: str, username: str, name: str) -> object:
    User = get_user_model()
    found = User.objects.filter(username=username).first()
    if found is not None:
        return found
    return person_create(
        actor=None,
        username=username,
        full_name=name,
        role="community_staff",
        division=Division.objects.get(code=code),
        via="demo",
    )


def load_appeals() -> None:
    from civicmark.demo.loader import CAMPAIGN

    campaign = Campaign.objects.get(slug=CAMPAIGN)
    round_ = campaign.rounds.get(number=2)
    if Appeal.objects.filter(round=round_).exists():
        return
    lead = get_user_model().objects.get(username="city")
    for code, username, name, item_code, statement, reason, restores in APPEALS:
        enrollment = campaign.enrollments.get(community__code=code)
        item = campaign.standard.items.get(code=item_code)
        appeal = appeal_file(
            actor=_staff(code, username, name),
            round_=round_,
            enrollment=enrollment,
            item=item,
            statement=statement,
            via="demo",
        )
        reviewer = reviewer_candidates(appeal)[0]  # the county's assessor of the department
        appeal_assign(actor=lead, appeal=appeal, reviewer=reviewer, via="demo")
        decision = Decision(
            change=restores, reason=reason, points=item.points if restores else None
        )
        appeal_decide(actor=reviewer, appeal=appeal, decision=decision, via="demo")
