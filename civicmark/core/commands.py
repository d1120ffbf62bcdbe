"""What every command shares: acting as a person, and reporting refusals the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from civicmark.core.errors import ApplicationError, ImportRefused


class CivicCommand(BaseCommand):
    """A command that can act as a named person (same scope checks as the web) or as the operator."""

    def add_user_argument(self, parser: CommandParser, *, required: bool = False) -> None:
        parser.add_argument(
            "--user",
            required=required,
            help="act as this username, within his scope (default: the server operator)",
        )

    def acting_user(self, options: dict[str, Any]) -> Any:
        User = get_user_model()  # noqa: N806 - the model class, read once the apps are ready

        if not options.get("user"):
            return None
        try:
            return User.objects.get(username=options["user"], is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"No active user named {options['user']!r}.") from None

    def named(self, queryset: Any, text: str) -> Any:
        """The one division (or department) of `queryset` that `text` names, by code or by name,
        read as the pages read a name box (core.lookup); an unknown or ambiguous name, or one
        outside `queryset` (which the command scopes to the acting person), is a one-line
        refusal."""
        from django import forms

        from civicmark.core.lookup import resolve

        try:
            return resolve(queryset, text)
        except forms.ValidationError as refused:
            raise CommandError(" ".join(refused.messages)) from None

    def named_many(self, queryset: Any, text: str) -> list[Any]:
        """Several, by codes or names separated by commas (or 、 ; or new lines), in order and
        once each; every unknown or ambiguous one reported together on one line."""
        from django import forms

        from civicmark.core.lookup import resolve_many

        try:
            found = resolve_many(queryset, text)
        except forms.ValidationError as refused:
            raise CommandError(" ".join(refused.messages)) from None
        if not found:
            raise CommandError("Name at least one community, by its name or code.")
        return found

    def read_file(self, path: str) -> bytes:
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No such file: {path}")
        return file.read_bytes()

    def execute(self, *args: Any, **options: Any) -> Any:
        # Commands speak the configured default language, like the pages do.
        from django.conf import settings

        with translation.override(settings.LANGUAGE_CODE):
            try:
                return super().execute(*args, **options)
            except ImportRefused as refused:
                for error in refused.errors:
                    self.stderr.write(str(error))
                raise CommandError(
                    f"{len(refused.errors)} error(s); nothing was imported."
                ) from None
            except ApplicationError as exc:
                raise CommandError(exc.message) from None
