from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from civicmark.assessments.sheets import export_sheet
from civicmark.campaigns.models import Campaign
from civicmark.campaigns.selectors import enrolled_communities
from civicmark.core.commands import CivicCommand
from civicmark.divisions.models import Department


class Command(CivicCommand):
    help = (
        "Write the offline score sheet of one round and one department (optionally one community)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("campaign")
        parser.add_argument("round", type=int)
        parser.add_argument("file")
        parser.add_argument("--department", required=True)
        parser.add_argument("--community", help="only this community's rows (name or code)")
        # The assessor whose scores and their versions the sheet carries (an import refuses a
        # row whose score changed since): without one, every row is exported unscored.
        self.add_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(slug=options["campaign"]).first()
        round_ = campaign.rounds.filter(number=options["round"]).first() if campaign else None
        department = Department.objects.filter(code=options["department"]).first()
        if campaign is None or round_ is None or department is None:
            raise CommandError("Unknown campaign, round or department.")
        assessor = self.acting_user(options)
        community = None
        if options["community"]:
            community = self.named(enrolled_communities(assessor, campaign), options["community"])
        Path(options["file"]).write_bytes(
            export_sheet(
                round_=round_,
                department=department,
                community=community,
                assessor=assessor,
            )
        )
        self.stdout.write(f"wrote {options['file']}")
