"""Daily chores of the employment stations, for cron:

civicmark employment reminders      posts expiring within 3 days (each told once)
civicmark employment overdue        zero-employment households past their deadline
civicmark employment anonymise [--years N]   residents who moved away N years ago
civicmark employment rekey          after PII_KEY changed: re-encrypt the ID numbers, reading
                                    them with the old key given in the OLD_PII_KEY variable
                                    (never on the command line, where `ps` would show it)
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.core.commands import CivicCommand


class Command(CivicCommand):
    help = "Employment station chores: reminders, overdue cases, anonymisation, re-keying."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "task", choices=["reminders", "overdue", "anonymise", "calendar", "groups", "rekey"]
        )
        parser.add_argument("--file")
        parser.add_argument("--province")
        self.add_user_argument(parser)
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
        elif options["task"] in ("calendar", "groups"):
            self._lists(options)
        elif options["task"] == "rekey":
            import os

            n = svc.pii_rekey(
                actor=self.acting_user(options), old_key=os.environ.get("OLD_PII_KEY", "")
            )
            self.stdout.write(f"{n} re-keyed")
        else:
            if options["years"] < 1:
                self.stderr.write("--years must be at least 1")
                return
            n = svc.anonymise_closed(actor=None, today=today, years=options["years"])
            self.stdout.write(f"{n} anonymised")

    def _lists(self, options: dict[str, Any]) -> None:
        import datetime as dt

        from django.core.management.base import CommandError

        from civicmark.core.errors import ImportRefused, PlaceError
        from civicmark.core.parsing import ParseError, parse_date, parse_int
        from civicmark.core.tabular import Column, read_table
        from civicmark.divisions.models import Division
        from civicmark.employment import services as svc

        if not options.get("file"):
            raise CommandError("--file is required")
        data = self.read_file(options["file"])
        errors: list[PlaceError] = []

        def day(raw: str, row: int, column: str) -> dt.date:
            try:
                found = parse_date(raw)
            except ParseError as exc:
                errors.append(PlaceError(exc.message, row=row, column=column, value=raw))
                return dt.date.min
            if found is None:
                errors.append(PlaceError(_("Not a date (YYYY-MM-DD)."), row=row, column=column))
                return dt.date.min
            return found

        if options["task"] == "calendar":
            table = read_table(
                data,
                options["file"],
                [Column("day", ("日期",)), Column("name", ("名称",)), Column("working", ("上班",))],
            )
            rows = [
                (day(r["day"], n, "day"), r["name"], r["working"].strip() in ("1", "是", "yes"))
                for n, r in table.rows
            ]
            if errors:
                raise ImportRefused(errors=errors)
            self.stdout.write(f"{svc.calendar_import(actor=None, rows=rows)} days")
            return
        province = Division.objects.filter(code=options.get("province") or "").first()
        if province is None:
            raise CommandError("--province names no division")
        table = read_table(
            data,
            options["file"],
            [
                Column("code", ("编码",)),
                Column("name", ("名称",)),
                Column("from", ("生效日期",)),
                Column("package", ("年度服务次数",)),
            ],
        )
        groups = []
        for n, r in table.rows:
            try:  # a yearly package: a small count (the column is a PositiveSmallIntegerField)
                package = parse_int(r["package"], min_value=0, max_value=32_767)
            except ParseError as exc:
                errors.append(PlaceError(exc.message, row=n, column="package"))
                continue
            if package is None:
                errors.append(PlaceError(_("A whole number."), row=n, column="package"))
                continue
            groups.append(
                (r["code"].strip(), r["name"].strip(), day(r["from"], n, "from"), package)
            )
        if errors:
            raise ImportRefused(errors=errors)
        made = svc.groups_import(actor=self.acting_user(options), province=province, rows=groups)
        self.stdout.write(f"{made} new versions")
