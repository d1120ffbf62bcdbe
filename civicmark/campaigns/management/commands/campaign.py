from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from civicmark.campaigns.services import campaign_create
from civicmark.core.commands import CivicCommand
from civicmark.divisions.models import Division
from civicmark.standards.models import Standard, Status


class Command(CivicCommand):
    help = "Campaigns: `campaign create --slug S --name N --year Y --standard SLUG --division CODE [--communities C1,C2]`"

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
            "--division", required=True, help="code of the city or county that runs it"
        )
        create.add_argument(
            "--communities", help="comma-separated community codes (default: all under it)"
        )
        create.add_argument(
            "--pilots", default="", help="comma-separated codes of pilot communities"
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
        division = Division.objects.filter(code=options["division"]).first()
        if division is None:
            raise CommandError(f"No division with code {options['division']}.")
        communities = None
        if options["communities"]:
            codes = [c.strip() for c in options["communities"].split(",") if c.strip()]
            communities = list(Division.objects.filter(code__in=codes))
            missing = set(codes) - {c.code for c in communities}
            if missing:
                raise CommandError(f"Unknown community codes: {', '.join(sorted(missing))}")
        campaign = campaign_create(
            actor=self.acting_user(options),
            slug=options["slug"],
            name=options["name"],
            year=options["year"],
            division=division,
            standard=standard,
            communities=communities,
            pilots=[c.strip() for c in options["pilots"].split(",") if c.strip()],
            via="cli",
        )
        self.stdout.write(
            f"created {campaign.slug}: {campaign.enrollments.count()} communities, "
            f"{campaign.phases.count()} phases, {campaign.tasks.count()} tasks, {campaign.rounds.count()} rounds"
        )
