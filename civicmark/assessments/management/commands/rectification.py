"""A rectification from the command line (issue 15, item 6), through the rectification page's
own service: `rectification SLUG COMMUNITY ITEM --status S --note TEXT --user U`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from civicmark.assessments.models import Rectification, RectificationStatus
from civicmark.core.commands import CivicCommand


class Command(CivicCommand):
    help = (
        "Report on a rectification task: the item (or veto) code that lost points for the "
        "community, in the latest finalised round that found it; same checks as the page."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("campaign", help="the campaign's slug")
        parser.add_argument("community", help="the community's name or code")
        parser.add_argument("item", help="the item's (or veto's) code")
        parser.add_argument("--status", required=True, choices=RectificationStatus.values)
        parser.add_argument("--note", default="", help="what was done")
        parser.add_argument("--round", type=int, help="the round that found it (default: latest)")
        parser.add_argument("--user", required=True, help="the person reporting")

    def handle(self, *args: Any, **options: Any) -> None:
        from civicmark.accounts import authz
        from civicmark.assessments.services import rectification_update
        from civicmark.campaigns.models import Campaign
        from civicmark.campaigns.selectors import enrolled_communities

        actor = self.acting_user(options)
        campaign = Campaign.objects.filter(slug=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"No campaign {options['campaign']!r}.")
        community = self.named(enrolled_communities(actor, campaign), options["community"])
        found = Rectification.objects.filter(
            round__campaign=campaign, enrollment__community=community
        ).select_related("enrollment__community", "item", "veto", "round")
        if options["round"] is not None:
            found = found.filter(round__number=options["round"])
        code = options["item"]
        task = (
            found.filter(item__code=code).order_by("-round__number").first()
            or found.filter(veto__code=code).order_by("-round__number").first()
        )
        # One answer for a task that does not exist and one he may not see.
        if task is None or not authz.can_see_division(actor, task.enrollment.community):
            raise CommandError(
                f"No rectification of {code!r} for community {options['community']!r} "
                f"in campaign {options['campaign']!r}."
            )
        rectification_update(
            actor=actor, rectification=task, status=options["status"], note=options["note"]
        )
        self.stdout.write(f"{task}: {task.status} (round {task.round.number})")
