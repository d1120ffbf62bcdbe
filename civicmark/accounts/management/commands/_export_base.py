from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from civicmark.accounts.places import imports
from civicmark.core.commands import CivicCommand
from civicmark.core.tabular import format_for


class Command(CivicCommand):
    help = "Export divisions and community profiles to FILE (.xlsx or .csv)."
    exporter = staticmethod(imports.divisions_export)

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--chinese", action="store_true", help="write the header row in Chinese"
        )
        self.add_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            fmt = format_for(options["file"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        with open(options["file"], "wb") as target:
            count = self.exporter(
                user=self.acting_user(options), target=target, fmt=fmt, chinese=options["chinese"]
            )
        self.stdout.write(f"wrote {count} rows to {options['file']}")
