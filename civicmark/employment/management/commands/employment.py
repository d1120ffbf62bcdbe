"""Daily chores of the employment stations, for cron:

civicmark employment reminders      posts expiring within 3 days (each told once)
civicmark employment overdue        zero-employment households past their deadline
civicmark employment anonymise [--years N]   residents who moved away N years ago
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser
from django.utils import timezone

from civicmark.core.commands import CivicCommand


class Command(CivicCommand):
    help = "Employment station chores: reminders, overdue cases, anonymisation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("task", choices=["reminders", "overdue", "anonymise"])
        parser.add_argument("--years", type=int, default=settings.CIVICMARK_RETENTION_YEARS)

    def handle(self, *args: Any, **options: Any) -> None:
        from civicmark.employment import services as svc
        from civicmark.employment.models import ZeroEmploymentCase

        today = timezone.localdate()
        if options["task"] == "reminders":
            for v in svc.vacancies_due(today):
                self.stdout.write(
                    f"{v.community.name}\t{v.employer.name}\t{v.title}\t{v.expires_on}"
                )
        elif options["task"] == "overdue":
            for case in ZeroEmploymentCase.objects.filter(
                closed_on__isnull=True, deadline__lt=today
            ).select_related("household__community"):
                self.stdout.write(
                    f"{case.household.community.name}\t{case.public_id}\t{case.deadline}"
                )
        else:
            if options["years"] < 1:
                self.stderr.write("--years must be at least 1")
                return
            n = svc.anonymise_closed(actor=None, today=today, years=options["years"])
            self.stdout.write(f"{n} anonymised")
