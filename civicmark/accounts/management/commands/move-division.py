from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from civicmark.accounts import authz
from civicmark.accounts.places import services
from civicmark.core.commands import CivicCommand
from civicmark.divisions.models import Division


class Command(CivicCommand):
    help = (
        "Rename a division or move it, with everything below it, under another parent "
        "(the same service and checks as the division's edit page; audited)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("code", help="the division's code")
        parser.add_argument(
            "--parent", help="the new parent's code (a division of the level above)"
        )
        parser.add_argument("--name", help="a new name")
        self.add_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.acting_user(options)
        # Looked up within the acting person's sight: a code outside it is simply unknown.
        visible = authz.divisions_for_user(actor).select_related("parent")
        division = self._find(visible, options["code"])
        parent = (
            division.parent if options["parent"] is None else self._find(visible, options["parent"])
        )
        moved = services.division_update(
            actor=actor,
            division=division,
            name=options["name"] if options["name"] is not None else division.name,
            parent=parent,
            via="cli",
        )
        self.stdout.write(f"{moved.code} {moved.name} {moved.path}")

    def _find(self, visible: Any, code: str) -> Division:
        try:
            return visible.get(code=code)
        except Division.DoesNotExist:
            raise CommandError(f"No division with code {code!r} in your area.") from None
