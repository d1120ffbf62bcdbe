from __future__ import annotations

from pathlib import Path
from typing import Any

from civicmark.core.commands import CivicCommand
from civicmark.divisions.imports import departments_import


class Command(CivicCommand):
    help = "Import departments (code, name, division_code) from .xlsx or .csv (all or nothing, idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        self.add_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        summary = departments_import(
            actor=self.acting_user(options),
            data=self.read_file(options["file"]),
            filename=Path(options["file"]).name,
            via="cli",
        )
        self.stdout.write(
            f"created {len(summary.created)}, updated {len(summary.updated)}, "
            f"unchanged {summary.unchanged}"
        )
