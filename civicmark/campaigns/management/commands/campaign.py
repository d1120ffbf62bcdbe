from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from civicmark.accounts import authz
from civicmark.campaigns.services import campaign_create
from civicmark.core.commands import CivicCommand
from civicmark.divisions.models import Division, Level
from civicmark.standards.models import Standard, Status


class Command(CivicCommand):
    help = (
        "Campaigns: `campaign create --slug S --name N --year Y --standard SLUG --division D "
        "[--communities C1,C2] [--pilots C1,C2]`; divisions and communities by name or code"
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser(
            "create", help="create a campaign with the plan's phases, tasks and rounds"
        )
        create.add_argument("--slug", required=True)
        create.add_argument("--name", required=True)
        create.add_argument("--year", type=int, required=True)
        create.add_argument(
            "--standard", required=True, help="slug of a published standard (latest version)"
        )
        create.add_argument(
            "--division", required=True, help="name or code of the city or county that runs it"
        )
        create.add_argument(
            "--communities",
            help="comma-separated community names or codes (default: all under it)",
        )
        create.add_argument(
            "--pilots", default="", help="comma-separated names or codes of pilot communities"
        )
        create.add_argument("--user", help="act as this username, within his scope")

    def handle(self, *args: Any, **options: Any) -> None:
        standard = (
            Standard.objects.filter(slug=options["standard"], status=Status.PUBLISHED)
            .order_by("-version")
            .first()
        )
        if standard is None:
            raise CommandError(f"No published standard {options['standard']!r}.")
        actor = self.acting_user(options)
        # Names as the pages read them, among what the acting person reaches (all, for the
        # operator): the service still checks he may run a campaign there.
        reach = Division.objects.all() if actor is None else authz.divisions_for_user(actor)
        division = self.named(
            reach.filter(level__in=[Level.CITY, Level.COUNTY]), options["division"]
        )
        communities = None
        under = reach.filter(level=Level.COMMUNITY, path__startswith=division.path)
        if options["communities"]:
            communities = self.named_many(under, options["communities"])
        pilots = self.named_many(under, options["pilots"]) if options["pilots"].strip() else []
        campaign = campaign_create(
            actor=actor,
            slug=options["slug"],
            name=options["name"],
            year=options["year"],
            division=division,
            standard=standard,
            communities=communities,
            pilots=[c.code for c in pilots],
            via="cli",
        )
        self.stdout.write(
            f"created {campaign.slug}: {campaign.enrollments.count()} communities, "
            f"{campaign.phases.count()} phases, {campaign.tasks.count()} tasks, {campaign.rounds.count()} rounds"
        )
