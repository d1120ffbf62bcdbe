"""The demo's appeals (issue 17 item 3), on the July municipal round once it is signed off.

东关社区 contests the point July took off its floating-population register (I2, "two records
wrong"): its staff show that one of the two was corrected before the visit; the city gives the
appeal to the county's family planning assessor (the city's own scored it), who takes half a
point off instead of one, so the stored result follows (89 to 89.5: no rank, level or title
changes, and November still re-scores I2, which still lost points).
新华社区 contests the four points lost on its office space (C1): the county's finance assessor
upholds it, the office being 180 square metres whatever its plans. Everything goes through the
same services as real use; the staff accounts are made like the demo's assessors (no usable
password, audited)."""

from __future__ import annotations

from decimal import Decimal

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

# community code, staff account, its name, item, statement, the reason, and the points the
# reviewer takes off instead (None: he upholds the result)
APPEALS = (
    (
        "990121001001",
        "dongguan",
        "孙丽",
        "I2",
        "验收指出的两名流动人口信息中，一名已于六月底更正，附派出所更正记录。",
        "核对派出所更正记录，一名信息验收前已更正，改为扣零点五分。",
        Decimal("0.5"),
    ),
    (
        "990121100004",
        "xinhua",
        "吴强",
        "C1",
        "办公用房正在协调置换，新址三百二十平方米已签意向书，请按新址计分。",
        "意向书不等于已投入使用，验收时办公用房为一百八十平方米，维持原扣分。",
        None,
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
    for code, username, name, item_code, statement, reason, takes_off in APPEALS:
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
            change=takes_off is not None,
            reason=reason,
            points=None if takes_off is None else item.points - takes_off,
        )
        appeal_decide(actor=reviewer, appeal=appeal, decision=decision, via="demo")


def summary(url: str) -> list[str]:
    """What the demo prints of its appeals: each with its outcome, and the lead's page."""
    from civicmark.demo.loader import CAMPAIGN

    found = Appeal.objects.filter(round__campaign__slug=CAMPAIGN).select_related(
        "round", "enrollment__community", "item"
    )
    if not found:
        return []
    lines = [f"Appeals (sign in as city): {url}campaigns/{CAMPAIGN}/rounds/2/appeals/"]
    for a in found.order_by("pk"):
        change = f", {a.value_before} -> {a.value_after}" if a.status == "changed" else ""
        lines.append(
            f"  {a.enrollment.community.name} {a.subject_code} in {a.round.name}: {a.status}{change}"
        )
    return lines
