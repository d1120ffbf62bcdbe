from __future__ import annotations

from pathlib import Path
from typing import Any

from civicmark.accounts.services import users_import
from civicmark.core.commands import CivicCommand


class Command(CivicCommand):
    help = (
        "Import people (username, name, role, division_code, department_code). "
        "Prints each new person's one-time password link once."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        self.add_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        result = users_import(
            actor=self.acting_user(options),
            data=self.read_file(options["file"]),
            filename=Path(options["file"]).name,
            via="cli",
        )
        for user, link in result.created:
            self.stdout.write(f"{user.username}\t{link}")
        self.stdout.write(
            f"created {len(result.created)}, roles granted {len(result.granted)}, "
            f"unchanged {result.unchanged}"
        )
