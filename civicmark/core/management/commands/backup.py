"""civicmark backup FILE: one archive of the database and the evidence files, taken while the
server keeps serving (see civicmark/core/backup.py and the README's "Backup and restore")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from civicmark.core.backup import backup_write
from civicmark.core.commands import CivicCommand


def megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


class Command(CivicCommand):
    help = (
        "Write one consistent archive (.tar, or .tar.gz) of the database and the evidence "
        "files, with the SHA-256 of every table and file, while the server keeps serving."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the archive to write (replaced once complete)")
        parser.add_argument("--database", default="default", help="the database alias")

    def handle(self, *args: Any, **options: Any) -> None:
        done = backup_write(archive=Path(options["file"]), using=options["database"])
        say = self.stdout.write
        say(
            _(
                "Database (%(engine)s): one snapshot, %(tables)d tables, %(rows)d rows, a checksum per table."
            )
            % {"engine": done.engine, "tables": done.tables, "rows": done.rows}
        )
        say(
            _("Evidence files: %(files)d (%(size)s), each with its SHA-256.")
            % {"files": done.files, "size": megabytes(done.file_bytes)}
        )
        say(
            _("Archive: %(path)s (%(size)s), written in %(seconds).1f s.")
            % {"path": done.archive, "size": megabytes(done.archive_bytes), "seconds": done.seconds}
        )
        for path in done.missing:
            self.stderr.write(
                _("ERROR: the database names this file but it is not on disk: %s") % path
            )
        for path in done.altered:
            self.stderr.write(
                _("ERROR: this file differs from the SHA-256 kept when it was uploaded: %s") % path
            )
        if done.missing or done.altered:
            raise CommandError(
                _(
                    "The archive was written, but %(missing)d file(s) are missing and "
                    "%(altered)d altered: see above."
                )
                % {"missing": len(done.missing), "altered": len(done.altered)}
            )
