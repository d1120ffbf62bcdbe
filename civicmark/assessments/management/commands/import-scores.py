from __future__ import annotations

from typing import Any

from civicmark.assessments.sheets import import_sheet
from civicmark.core.commands import CivicCommand


class Command(CivicCommand):
    help = (
        "Import a filled-in offline score sheet as the given assessor (all or nothing, idempotent)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        self.add_user_argument(parser, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        result = import_sheet(actor=self.acting_user(options), data=self.read_file(options["file"]))
        self.stdout.write(
            f"saved {result.saved}, unchanged {result.unchanged}, vetoes {result.vetoes}"
        )
