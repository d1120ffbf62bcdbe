"""The implementation plan's six work steps, as the default phases and tasks of a campaign."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext_lazy as _

from civicmark.campaigns.models import TaskFollows

# Lower units must finish before the unit above them: a task's default due date is its phase's
# date minus this many days. Moving a phase's date moves every task that follows it.
LEAD_DAYS = {"city": 0, "county": 2, "town": 4, "community": 6}


@dataclass(frozen=True)
class Step:
    key: str
    name: object
    start: tuple[int, int]
    due: tuple[int, int]
    # (which units, task title); units: county, town, pilot (the pilot communities),
    # pilot_town and pilot_county (the offices above them), community (non-pilot),
    # every_community
    tasks: tuple[tuple[str, object], ...]


STEPS = (
    Step(
        "team_up",
        _("Form working groups"),
        (5, 1),
        (5, 15),
        (
            ("county", _("Set up the county working group led by civil affairs")),
            ("town", _("Set up the town working group")),
        ),
    ),
    Step(
        "mobilise",
        _("Mobilise and deploy"),
        (5, 16),
        (5, 31),
        (("town", _("Hold the meeting of the leading group's member units and assign the work")),),
    ),
    # The county and town civil affairs offices run the pilot before 29 May (every task of
    # this step falls due by 27 May), and the county holds the on-the-spot meeting at the pilot
    # before 1 June: a task of this step, not of the full start that runs to 30 June.
    Step(
        "pilot",
        _("Run the pilot"),
        (5, 16),
        (5, 29),
        (
            ("pilot", _("Complete the pilot community's work against the basic standards")),
            ("pilot_town", _("Run the pilot with the county civil affairs office")),
            ("pilot_county", _("Run the pilot with the town civil affairs office")),
            (
                "pilot_county",
                _("Hold the on-the-spot meeting at the pilot community before 1 June"),
            ),
        ),
    ),
    # Every community finishes its self-assessment within this step (due 24 June), before the
    # county round opens on 1 July.
    Step(
        "start",
        _("Start completely"),
        (5, 29),
        (6, 30),
        (
            ("community", _("Carry out the work in full against the basic standards")),
            (
                "every_community",
                _(
                    "Finish the self-assessment with evidence for every item, before the county "
                    "round opens"
                ),
            ),
        ),
    ),
    Step(
        "training",
        _("Organise training"),
        (6, 25),
        (7, 10),
        (("town", _("Train the neighbourhood committee cadres")),),
    ),
    Step(
        "acceptance",
        _("Evaluation and acceptance"),
        (7, 1),
        (7, 15),
        # The county reports upward only once its round is finalised: due 13 July, after the
        # county round closes on 10 July.
        (
            (
                "county",
                _(
                    "Report the communities that reach the standard, once the county round is "
                    "finalised"
                ),
            ),
        ),
    ),
)

# The tasks that follow the work, by (step, units): the workflow marks them done when the work
# is done, and open again if it is undone (a self-assessment returned, a county round reopened);
# nobody ticks them by hand (civicmark.assessments.followers says when each kind is done).
FOLLOWS = {
    ("start", "every_community"): TaskFollows.SUBMISSION,
    ("acceptance", "county"): TaskFollows.COUNTY_ROUND,
}

# (number, name, level, opens, closes, carries scores over from round)
ROUNDS = (
    (1, _("County pre-acceptance"), "county", (7, 1), (7, 10), None),
    (2, _("Municipal acceptance, first round (mid-July)"), "city", (7, 13), (7, 20), None),
    (3, _("Municipal acceptance, second round (November)"), "city", (11, 10), (11, 20), 2),
)


def on(year: int, month_day: tuple[int, int]) -> date:
    return date(year, *month_day)


def task_due(phase_due: date, level: str) -> date:
    return phase_due - timedelta(days=LEAD_DAYS[level])
