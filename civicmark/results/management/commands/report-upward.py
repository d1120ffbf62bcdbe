"""`civicmark report-upward`: a county's report to the city from the command line, through the
same service as the page of reports (results.upward.report_upward, ADR 25)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from civicmark.accounts import authz
from civicmark.assessments.workflow import TransitionRefused
from civicmark.campaigns.models import Campaign
from civicmark.core.commands import CivicCommand
from civicmark.divisions.models import Division, Level
from civicmark.results import upward


class Command(CivicCommand):
    help = (
        "Report a county's pre-accepted communities to the city with the county's statement: "
        "the workflow step, the report's record and its PDF and list, all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("campaign", help="the campaign's slug")
        parser.add_argument("--county", required=True, help="the county, by name or code")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--communities", help="comma-separated community names or codes")
        which.add_argument(
            "--all",
            action="store_true",
            help="every community of the county waiting to be reported",
        )
        parser.add_argument("--statement", required=True, help="the county's statement")
        self.add_user_argument(parser, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        campaign = Campaign.objects.filter(slug=options["campaign"]).first()
        if campaign is None:
            raise CommandError(f"No campaign {options['campaign']!r}.")
        actor = self.acting_user(options)
        county = self.named(
            authz.divisions_for_user(actor).filter(level=Level.COUNTY), options["county"]
        )
        assert isinstance(county, Division)
        waiting = upward.waiting(campaign, county)
        if not options["all"]:
            named = self.named_many(
                authz.divisions_for_user(actor).filter(path__startswith=county.path),
                options["communities"],
            )
            waiting = waiting.filter(community__in=named)
        try:
            report = upward.report_upward(
                actor=actor,
                campaign=campaign,
                county=county,
                enrollments=list(waiting),
                statement=options["statement"],
                via="cli",
            )
        except TransitionRefused as refused:
            for refusal in refused.refusals:
                self.stderr.write(str(refusal))
            raise CommandError(f"{len(refused.refusals)} refusal(s); nothing changed.") from None
        self.stdout.write(
            f"report {report.number} of {report.county_name}: {report.lines.count()} communities, "
            f"documents {report.documents} ({report.public_id})"
        )
        if report.failure:
            self.stderr.write(report.failure)
