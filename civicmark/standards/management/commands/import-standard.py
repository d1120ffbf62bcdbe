from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from civicmark.core.commands import CivicCommand
from civicmark.divisions.models import Division
from civicmark.standards import formats
from civicmark.standards.services import standard_import


class Command(CivicCommand):
    help = (
        "Import a standard (Annex 1 and Annex 2) from .xlsx or .yaml; all or nothing, idempotent."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--publish", action="store_true", help="publish the version after importing it"
        )
        parser.add_argument(
            "--division", help="code of the city the standard belongs to (default: the only city)"
        )
        self.add_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        raw = self.read_file(options["file"])
        suffix = Path(options["file"]).suffix.lower()
        if suffix == ".xlsx":
            data = formats.read_xlsx(raw)
        elif suffix in (".yaml", ".yml"):
            data = formats.from_yaml(raw)
        else:
            raise CommandError("Use a .xlsx or .yaml file.")
        division = None
        if options["division"]:
            division = Division.objects.filter(code=options["division"]).first()
            if division is None:
                raise CommandError(f"No division with code {options['division']}.")
        standard, changed = standard_import(
            actor=self.acting_user(options),
            data=data,
            division=division,
            publish=options["publish"],
            via="cli",
        )
        state = "imported" if changed else "unchanged"
        self.stdout.write(f"{standard.slug} v{standard.version} ({standard.status}): {state}")
