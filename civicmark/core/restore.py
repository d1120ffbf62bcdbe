"""Restore: a `civicmark backup` archive back into an empty database and an empty media folder,
verifying every checksum (the archive's members before anything is written, each table after the
database is restored, each file after it is written). The archive's layout and the checksums are
described in civicmark/core/backup.py."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _

from civicmark.core.backup import (
    CHUNK,
    FORMAT,
    MANIFEST,
    MEDIA,
    Hashing,
    engine_of,
    pg_env,
    pg_tool,
    pii_key_fingerprint,
    run_tool,
    sha256_of,
    table_checksums,
)
from civicmark.core.errors import ApplicationError
from civicmark.core.files import storage_place


class RestoreRefused(ApplicationError):
    """The archive or the installation is not fit for a restore; nothing was written."""

    code = "restore_refused"


class RestoreMismatch(ApplicationError):
    """What was restored differs from the manifest."""

    code = "restore_mismatch"


@dataclass
class RestoreResult:
    database: str
    engine: str
    written_at: str
    tables: int
    rows: int
    files: int
    file_bytes: int
    seconds: float
    pending_migrations: int
    unknown_migrations: list[str]
    pii_key_matches: bool
    missing_at_backup: list[str] = field(default_factory=list)


def _media_is_empty() -> bool:
    def empty(folder: str) -> bool:
        try:
            folders, files = default_storage.listdir(folder)
        except FileNotFoundError:
            return True
        return not files and all(empty(f"{folder}/{f}".lstrip("/")) for f in folders)

    return empty("")


def safe_path(path: str) -> str:
    """A relative path inside MEDIA_ROOT; an archive that names another place is refused."""
    pure = PurePosixPath(path)
    if not path or "\\" in path or pure.is_absolute() or ".." in pure.parts or path != str(pure):
        raise RestoreRefused(_("The archive names a file outside the media folder: %s") % path)
    return path


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    try:
        stream = tar.extractfile(MANIFEST)
        manifest = json.load(stream) if stream else None
    except (KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("application") != "civicmark":
        raise RestoreRefused(_("This is not a CivicMark backup: it has no readable manifest."))
    if manifest.get("format") != FORMAT:
        raise RestoreRefused(
            _("This backup is in format %(found)s; this version reads format %(known)s.")
            % {"found": manifest.get("format"), "known": FORMAT}
        )
    return manifest


def _check_empty(connection: BaseDatabaseWrapper, manifest: dict[str, Any]) -> None:
    engine = engine_of(connection)
    if manifest["engine"] != engine:
        raise RestoreRefused(
            _("This backup holds a %(archive)s database; this installation uses %(here)s.")
            % {"archive": manifest["engine"], "here": engine}
        )
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    if tables:
        raise RestoreRefused(
            _(
                "The database %(name)s is not empty (%(count)d tables): a restore goes into an "
                "empty database only. Create a new one, or point DATABASE_URL at one."
            )
            % {"name": connection.settings_dict["NAME"], "count": len(tables)}
        )
    if not _media_is_empty():
        raise RestoreRefused(
            _("The media folder %s is not empty: a restore goes into an empty one only.")
            % storage_place()
        )


def _verify_archive(tar: tarfile.TarFile, manifest: dict[str, Any], database: Path) -> None:
    """Every member's SHA-256 against the manifest, before anything is written. The database
    member is copied out to `database` on the way."""
    expected = {MEDIA + safe_path(p): f["sha256"] for p, f in manifest["files"].items()}
    expected[manifest["database"]["member"]] = manifest["database"]["sha256"]
    problems, seen = [], set()
    for member in tar:
        if member.name == MANIFEST:
            continue
        if member.name not in expected or not member.isfile():
            problems.append(_("%s is in the archive but not in its manifest.") % member.name)
            continue
        seen.add(member.name)
        stream = tar.extractfile(member)
        assert stream is not None  # a regular file, checked above
        if member.name == manifest["database"]["member"]:
            with database.open("wb") as out:
                reader = Hashing(stream)
                shutil.copyfileobj(reader, out, CHUNK)  # type: ignore[misc]
                sha = reader.digest.hexdigest()
        else:
            sha = sha256_of(stream)
        if sha != expected[member.name]:
            problems.append(_("%s does not match its SHA-256 in the manifest.") % member.name)
    problems += [
        _("%s is in the manifest but not in the archive.") % name
        for name in sorted(set(expected) - seen)
    ]
    if problems:
        raise RestoreRefused(_refusal(_("The archive is damaged or altered"), problems))


def _refusal(headline: str, problems: list[str]) -> str:
    shown = problems[:20]
    more = len(problems) - len(shown)
    tail = [_("… and %d more.") % more] if more else []
    return "\n".join([f"{headline}; nothing was restored:", *shown, *tail])


def _restore_database(connection: BaseDatabaseWrapper, database: Path) -> None:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        source = sqlite3.connect(database)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        return
    run_tool(
        [
            pg_tool("pg_restore"),
            "--exit-on-error",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            "--no-password",
            f"--dbname={connection.settings_dict['NAME']}",
            str(database),
        ],
        pg_env(connection.settings_dict),
    )


def _verify_tables(connection: BaseDatabaseWrapper, manifest: dict[str, Any]) -> None:
    with transaction.atomic(using=connection.alias):  # one snapshot on PostgreSQL
        found = table_checksums(connection)
    expected: dict[str, dict[str, Any]] = manifest["tables"]
    problems = []
    for table in sorted(set(expected) | set(found)):
        want, got = expected.get(table), found.get(table)
        if want is None or got is None:
            where = _("the manifest") if want is None else _("the restored database")
            problems.append(
                _("table %(table)s is missing from %(where)s") % {"table": table, "where": where}
            )
        elif want["rows"] != got["rows"]:
            problems.append(
                _("table %(table)s has %(got)d rows; the manifest says %(want)d")
                % {"table": table, "got": got["rows"], "want": want["rows"]}
            )
        elif want["sha256"] != got["sha256"]:
            problems.append(_("table %s: its rows differ from the manifest's checksum") % table)
    if problems:
        raise RestoreMismatch(
            "\n".join(
                [
                    _(
                        "The restored database does not match the manifest. Do not use it: "
                        "empty the database %s before restoring again. Files were not restored."
                    )
                    % connection.settings_dict["NAME"],
                    *problems[:20],
                ]
            )
        )


def _restore_files(tar: tarfile.TarFile, manifest: dict[str, Any]) -> int:
    """Write each file, then read it back from storage and check its SHA-256."""
    written = 0
    problems = []
    for member in tar:
        if not member.name.startswith(MEDIA):
            continue
        path = member.name[len(MEDIA) :]
        stream = tar.extractfile(member)
        assert stream is not None  # checked by _verify_archive
        if default_storage.save(path, File(stream, name=path)) != path:
            problems.append(_("%s could not be written under its own name.") % path)
            continue
        with default_storage.open(path, "rb") as back:
            if sha256_of(back) != manifest["files"][path]["sha256"]:
                problems.append(_("%s, read back after writing, differs from the archive.") % path)
        written += member.size
    if problems:
        raise RestoreMismatch("\n".join([_("Files were not restored faithfully:"), *problems[:20]]))
    return written


def _schema_against_code(connection: BaseDatabaseWrapper) -> tuple[int, list[str]]:
    """How many of this code's migrations the restored schema lacks, and which applied
    migrations this code does not know (an archive from a newer CivicMark)."""
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    unknown = sorted(
        f"{a}.{n}" for a, n in executor.loader.applied_migrations if (a, n) not in graph.nodes
    )
    return len(executor.migration_plan(graph.leaf_nodes())), unknown


def _open(archive: Path) -> tarfile.TarFile:
    if not archive.is_file():
        raise RestoreRefused(_("No such file: %s") % archive)
    try:
        return tarfile.open(archive, "r:*")
    except tarfile.TarError:
        raise RestoreRefused(
            _("%s is not a CivicMark backup (not a tar archive).") % archive
        ) from None


def backup_restore(*, archive: Path, using: str = "default") -> RestoreResult:
    """Bring an archive back into an empty database and an empty media folder, verifying every
    checksum: the archive's members before anything is written, each table after the database
    is restored, each file after it is written."""
    started = time.monotonic()
    connection = connections[using]
    with _open(archive) as tar, tempfile.TemporaryDirectory(prefix="civicmark-restore-") as work:
        try:
            manifest = _read_manifest(tar)
            _check_empty(connection, manifest)
            database = Path(work) / "database"
            _verify_archive(tar, manifest, database)
            _restore_database(connection, database)
            _verify_tables(connection, manifest)
            file_bytes = _restore_files(tar, manifest)
        except (tarfile.TarError, EOFError) as exc:
            raise RestoreRefused(_("The archive is damaged: %s") % exc) from None
    tables: dict[str, dict[str, Any]] = manifest["tables"]
    pending, unknown = _schema_against_code(connection)
    return RestoreResult(
        database=str(connection.settings_dict["NAME"]),
        engine=manifest["engine"],
        written_at=manifest["written_at"],
        tables=len(tables),
        rows=sum(t["rows"] for t in tables.values()),
        files=len(manifest["files"]),
        file_bytes=file_bytes,
        seconds=time.monotonic() - started,
        pending_migrations=pending,
        unknown_migrations=unknown,
        pii_key_matches=manifest["pii_key"] == pii_key_fingerprint(settings.PII_KEY),
        missing_at_backup=list(manifest["missing_files"]),
    )
