"""The demo's county sample (issue 17 item 1): once 安平县 has reported what it pre-accepted, the
city draws its re-check sample for the July round (two fifths of the county's list, seed 2026),
before it scores. The county's pre-acceptance took off only the first two points it found short
of each community; the city finds them all, so the county page shows how lenient the county
was, by item, and the November round's draw would be enlarged for it."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model

from civicmark.campaigns.models import Campaign
from civicmark.quality.sampling import sample_draw, sampling_settings_save

SEED = 2026


def draw_county_sample(campaign: Campaign) -> None:
    city = get_user_model().objects.get(username="city")
    round_ = campaign.rounds.get(number=2)
    sampling_settings_save(
        actor=city,
        round_=round_,
        kind="share",
        base=40,
        enlarged=80,
        threshold=Decimal(2),
        via="demo",
    )
    sample_draw(actor=city, round_=round_, seed=SEED, via="demo")


def summary(url: str) -> list[str]:
    """What the demo prints of the sample: each county's size and deviation, and the page."""
    from civicmark.demo.loader import CAMPAIGN
    from civicmark.quality.sampling import draw_of, figures_of

    campaign = Campaign.objects.get(slug=CAMPAIGN)
    draw = draw_of(campaign.rounds.get(number=2))
    if draw is None:
        return []
    lines = [
        f"County accuracy (sign in as city or county): {url}campaigns/{CAMPAIGN}/rounds/2/sample/"
    ]
    for f in figures_of(draw):
        lines.append(
            f"  {f.stratum.county.name}: {f.stratum.size} of {f.stratum.population} drawn "
            f"(seed {draw.seed}), mean deviation city - county {f.mean}, "
            f"outcome changed {f.changed_share}%"
        )
    return lines
