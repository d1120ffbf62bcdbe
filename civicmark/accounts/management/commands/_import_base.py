from __future__ import annotations

from pathlib import Path
from typing import Any

from civicmark.accounts.places.imports import ImportSummary
from civicmark.core.commands import CivicCommand


class Command(CivicCommand):
    """Import a table file through one import service (all or nothing, idempotent)."""

    importer: Any = None

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        self.add_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        summary: ImportSummary = self.importer(
            actor=self.acting_user(options),
            data=self.read_file(options["file"]),
            filename=Path(options["file"]).name,
            via="cli",
        )
        self.stdout.write(
            f"created {len(summary.created)}, updated {len(summary.updated)}, "
            f"unchanged {summary.unchanged}"
        )
