from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from civicmark.assessments.workflow import State, TransitionRefused, transition_apply
from civicmark.campaigns.models import Campaign
from civicmark.campaigns.selectors import enrolled_communities
from civicmark.core.commands import CivicCommand


class Command(CivicCommand):
    help = (
        "Move communities of a campaign to another workflow state, with the same permission "
        "checks and guards as the pages; all or nothing."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("campaign", help="the campaign's slug")
        parser.add_argument("--to", required=True, choices=State.values)
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--communities", help="comma-separated community names or codes")
        which.add_argument("--all", action="store_true", help="every community of the campaign")
        parser.add_argument("--user", required=True, help="the person making the step")
        parser.add_argument("--comment", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(slug=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"No campaign {options['campaign']!r}.")
        actor = self.acting_user(options)
        enrollments = campaign.enrollments.select_related("community")
        if not options["all"]:
            named = self.named_many(enrolled_communities(actor, campaign), options["communities"])
            enrollments = enrollments.filter(community__in=named)
        try:
            moved = transition_apply(
                actor=actor,
                campaign=campaign,
                enrollments=list(enrollments),
                to=options["to"],
                comment=options["comment"],
                via="cli",
            )
        except TransitionRefused as refused:
            for refusal in refused.refusals:
                self.stderr.write(str(refusal))
            raise CommandError(f"{len(refused.refusals)} refusal(s); nothing changed.") from None
        self.stdout.write(f"moved {moved} communities to {options['to']}")
