"""The demo's resident survey: an instrument for the three survey items of the table (E4 sense
of security, I3 family-planning service, J1 satisfaction with community services), a household
list for every community, a draw, and answers; 和平里 has too few answers to be scored by itself."""

from __future__ import annotations

import random

from civicmark.campaigns.models import Campaign
from civicmark.surveys import services as svc
from civicmark.surveys.models import Collector, Mode, SurveyRound

SCALE = [
    {"code": "5", "label": "很满意", "weight": 100},
    {"code": "4", "label": "满意", "weight": 80},
    {"code": "3", "label": "基本满意", "weight": 60},
    {"code": "2", "label": "不满意", "weight": 0},
    {"code": "9", "label": "不了解/说不清", "weight": 0},
]
SAFE = [
    {"code": "5", "label": "很安全", "weight": 100},
    {"code": "4", "label": "安全", "weight": 80},
    {"code": "3", "label": "基本安全", "weight": 60},
    {"code": "2", "label": "不安全", "weight": 0},
    {"code": "9", "label": "说不清", "weight": 0},
]
SHORT = "990121100002"  # 和平里: answers stop short of the minimum sample


def load_surveys() -> None:
    if SurveyRound.objects.exists():
        return
    from civicmark.demo.loader import CAMPAIGN

    campaign = Campaign.objects.get(slug=CAMPAIGN)
    standard = campaign.standard
    instrument = svc.instrument_create(
        actor=None,
        standard=standard,
        slug="resident-satisfaction",
        name="社区居民满意度与安全感调查",
        questions=[
            {"code": "Q1", "text": "您在本社区生活，感到安全吗？", "item": "E4", "scale": SAFE},
            {
                "code": "Q2",
                "text": "您对社区计划生育优质服务满意吗？",
                "item": "I3",
                "scale": SCALE,
            },
            {"code": "Q3", "text": "您对社区服务和管理总体满意吗？", "item": "J1", "scale": SCALE},
            {"code": "Q4", "text": "您对社区就业服务满意吗？", "scale": SCALE},
        ],
    )
    svc.instrument_publish(actor=None, instrument=instrument)
    items = {i.code: i for i in standard.items.filter(code__in=["E4", "I3", "J1"])}
    # 平安社区: at least 80% feel safe for the full 4 points; 60-80% (80 itself falls short)
    # loses half; below 60, nothing.
    svc.rule_set(
        actor=None,
        item=items["E4"],
        method="rate",
        satisfied=["5", "4", "3"],
        excluded=["9"],
        min_sample=45,  # valid answers: the 55 drawn less refusals and "don't know"
        bands=[
            {"low": "80", "low_in": True, "high": None, "points": "4"},
            {"low": "60", "low_in": True, "high": "80", "high_in": False, "points": "2"},
            {"low": None, "high": "60", "high_in": False, "points": "0"},
        ],
    )
    svc.rule_set(
        actor=None,
        item=items["I3"],
        method="rate",
        satisfied=["5", "4"],
        excluded=["9"],
        min_sample=45,  # valid answers: the 55 drawn less refusals and "don't know"
        bands=[
            {"low": "85", "low_in": True, "high": None, "points": "2"},
            {"low": "70", "low_in": True, "high": "85", "high_in": False, "points": "1"},
            {"low": None, "high": "70", "high_in": False, "points": "0"},
        ],
    )
    svc.rule_set(
        actor=None,
        item=items["J1"],
        method="mean",
        excluded=["9"],
        min_sample=45,  # valid answers: the 55 drawn less refusals and "don't know"
        bands=[
            {"low": "85", "low_in": True, "high": None, "points": "6"},
            {"low": "75", "low_in": True, "high": "85", "high_in": False, "points": "4"},
            {"low": "60", "low_in": True, "high": "75", "high_in": False, "points": "2"},
            {"low": None, "high": "60", "high_in": False, "points": "0"},
        ],
    )
    round_ = campaign.rounds.get(number=3)
    survey = svc.survey_create(
        actor=None, round_=round_, instrument=instrument, sample_size=55, reserve_size=20
    )
    for enrollment in campaign.enrollments.select_related("community").order_by("community__code"):
        community = enrollment.community
        rng = random.Random(community.code)  # noqa: S311  (the demo's answers, the same every time)
        lines = ["小区,楼栋,门牌,户序"]
        for building in range(1, rng.randint(7, 10)):
            for floor in range(1, 7):
                for door in (1, 2):
                    lines.append(f"{community.name[:3]}小区,{building}号楼,{floor}0{door},")
        lines.append(f"{community.name[:3]}小区,1号楼,101,2")  # two households behind one door
        svc.frame_import(
            actor=None, community=community, data="\n".join(lines).encode(), filename="frame.csv"
        )
        draw = svc.draw_households(
            actor=None, survey=survey, community=community, seed=f"demo-{community.code}"
        )
        sample = list(draw.households.filter(in_sample=True).order_by("position"))
        # Three refusals replaced from the reserve, in order.
        for drawn, reason in zip(sample[:3], ("refused", "nobody_home", "refused"), strict=True):
            svc.substitute(actor=None, drawn=drawn, reason=reason)
        sample = list(draw.households.filter(in_sample=True).order_by("slot", "position"))
        mood = rng.uniform(0.72, 0.95)
        answered = 32 if community.code == SHORT else rng.randint(50, 55)
        for n, drawn in enumerate(sample[:answered]):

            def pick(good: float, rng: random.Random = rng) -> str:
                x = rng.random()
                if x < 0.04:
                    return "9"
                if x < good:
                    return rng.choice(["5", "4", "4"])
                return rng.choice(["3", "2"])

            answers = {
                "Q1": pick(mood),
                "Q2": pick(mood - 0.05),
                "Q3": pick(mood - 0.1),
                "Q4": pick(mood - 0.15),
            }
            if n % 3 == 0:
                svc.answer(code=drawn.code, answers=answers)
            else:
                svc.answer(
                    code=drawn.code,
                    answers=answers,
                    mode=Mode.TABLET,
                    collector=Collector.THIRD_PARTY,
                    actor=None,
                )
