"""civicmark restore FILE: bring a `civicmark backup` archive back into an empty database and an
empty media folder, verifying every checksum on the way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _

from civicmark.core.commands import CivicCommand
from civicmark.core.files import storage_place
from civicmark.core.management.commands.backup import megabytes
from civicmark.core.restore import backup_restore


class Command(CivicCommand):
    help = (
        "Restore a backup archive into an EMPTY database and an EMPTY media folder, and verify "
        "every table's row count and checksum and every file's SHA-256."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="an archive written by `civicmark backup`")
        parser.add_argument("--database", default="default", help="the database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        done = backup_restore(archive=Path(options["file"]), using=options["database"])
        say = self.stdout.write
        say(
            _("Restored the %(engine)s backup written at %(at)s into %(database)s.")
            % {"engine": done.engine, "at": done.written_at, "database": done.database}
        )
        say(_("Verified: the archive's database and files match their SHA-256 in the manifest."))
        say(
            _(
                "Verified: %(tables)d tables, %(rows)d rows; every table's row count and checksum equal the manifest's."
            )
            % {"tables": done.tables, "rows": done.rows}
        )
        say(
            _(
                "Verified: %(files)d files (%(size)s) in %(media)s, each read back with its SHA-256 equal."
            )
            % {
                "files": done.files,
                "size": megabytes(done.file_bytes),
                "media": storage_place(),
            }
        )
        for path in done.missing_at_backup:
            self.stderr.write(
                _("WARNING: this file was already missing when the backup was taken: %s") % path
            )
        if not done.pii_key_matches:
            self.stderr.write(
                _(
                    "WARNING: PII_KEY is not the key in use when the backup was taken: residents' "
                    "ID numbers cannot be read until PII_KEY is set to that key."
                )
            )
        if done.unknown_migrations:
            self.stderr.write(
                _(
                    "WARNING: the archive comes from a newer CivicMark (migrations this code does "
                    "not know: %s): run the version that wrote it."
                )
                % ", ".join(done.unknown_migrations)
            )
        if done.pending_migrations:
            say(
                _("This code has %d migration(s) newer than the archive: run `civicmark migrate`.")
                % done.pending_migrations
            )
        say(_("Done in %.1f s.") % done.seconds)
