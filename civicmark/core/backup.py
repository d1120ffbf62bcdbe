"""Backup and restore: one archive that holds the database and the evidence files it refers to,
with a manifest of checksums that the restore verifies.

The archive is a tar file (gzip-compressed when its name ends in .gz or .tgz):

    database.sqlite3 | database.pgdump   the snapshot (SQLite's online backup API; pg_dump -Fc)
    media/<path>                         each file a StoredFileRecord row of the snapshot names
    manifest.json                        written last: engine, time, latest migration per app,
                                         per-table row count and SHA-256, per-file SHA-256

Consistency, while the server keeps serving: the database is read as one snapshot (one backup
step of SQLite, which never blocks writers in WAL mode; on PostgreSQL one REPEATABLE READ
transaction whose snapshot pg_dump imports), the checksums and the list of files are read from
that same snapshot, and the files are copied after it. A file's row commits only after its file
is stored, and evidence files are never rewritten, so every file the snapshot names is on disk;
one that is not is reported as an error, never skipped in silence.

A table's checksum is a SHA-256 over its rows ordered by primary key, each row written out the
same way at both ends (`table_checksums`). It is read through Django's connection, so it compares
databases of one engine, which is what a restore is.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess  # noqa: S404 - pg_dump and pg_restore, with an argument list and no shell
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any, cast
from uuid import UUID

import django
from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import CharField, ForeignKey, Model, TextField
from django.utils import timezone
from django.utils.translation import gettext as _

from civicmark.core.errors import ApplicationError
from civicmark.core.models import StoredFileRecord

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media/"
DATABASE_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CHUNK = 1024 * 1024
ROWS_PER_FETCH = 2000


class BackupError(ApplicationError):
    code = "backup_failed"


@dataclass
class BackupResult:
    archive: Path
    engine: str
    tables: int
    rows: int
    files: int
    file_bytes: int
    archive_bytes: int
    seconds: float
    missing: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)


# --- Checksums ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A value as JSON, tagged with its type where JSON would blur it (1.0 and 1, text and a
    date), so that a changed type is a changed checksum."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, Decimal):
        return ["decimal", str(value)]
    if isinstance(value, bytes | bytearray | memoryview):
        return ["bytes", bytes(value).hex()]
    if isinstance(value, datetime):
        return ["datetime", (value.astimezone(UTC) if value.tzinfo else value).isoformat()]
    if isinstance(value, date | clock):
        return [type(value).__name__, value.isoformat()]
    if isinstance(value, timedelta):
        return ["timedelta", repr(value.total_seconds())]
    if isinstance(value, UUID):
        return ["uuid", str(value)]
    if isinstance(value, dict | list):
        return ["json", json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)]
    return [type(value).__name__, str(value)]


@cache
def _model_keys() -> dict[str, list[tuple[str, bool]]]:
    """table -> its primary key's (column, holds text), read from the models: introspecting
    each table costs a catalogue query on PostgreSQL and a parse of its SQL on SQLite."""
    keys = {}
    recorded = cast("type[Model]", MigrationRecorder.Migration)  # django_migrations
    for model in [*apps.get_models(include_auto_created=True), recorded]:
        pk = model._meta.pk
        if pk is not None and pk.column:
            target = pk.target_field if isinstance(pk, ForeignKey) else pk
            keys[model._meta.db_table] = [(pk.column, isinstance(target, CharField | TextField))]
    return keys


def _order_by(connection: BaseDatabaseWrapper, table: str) -> str:
    """The primary key's columns (every column, by position, for a table without one). On
    PostgreSQL text keys are compared byte by byte, so that the order does not hang on the
    server's collation; SQLite compares text byte by byte anyway."""
    quote = connection.ops.quote_name
    keys = _model_keys().get(table)
    if keys is None:  # a table no model describes
        with connection.cursor() as cursor:
            columns = connection.introspection.get_primary_key_columns(cursor, table)
            if not columns:
                cursor.execute(f"SELECT * FROM {quote(table)} WHERE 1 = 0")  # noqa: S608
                return ", ".join(str(n + 1) for n in range(len(cursor.description)))
            text = {
                c.name
                for c in connection.introspection.get_table_description(cursor, table)
                if connection.introspection.get_field_type(c.type_code, c)
                in ("CharField", "TextField")
            }
        keys = [(column, column in text) for column in columns]
    byte_order = connection.vendor == "postgresql"
    return ", ".join(
        quote(column) + (' COLLATE "C"' if text and byte_order else "") for column, text in keys
    )


def table_checksum(connection: BaseDatabaseWrapper, table: str) -> dict[str, Any]:
    """{"rows": n, "sha256": ...} of one table, read in primary-key order."""
    order = _order_by(connection, table)
    digest, rows = hashlib.sha256(), 0
    # A server-side cursor on PostgreSQL: a table of millions of audit events is never in memory.
    with connection.chunked_cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY {order}"  # noqa: S608
        )
        while batch := cursor.fetchmany(ROWS_PER_FETCH):
            for row in batch:
                line = json.dumps([_plain(v) for v in row], ensure_ascii=False)
                digest.update(line.encode() + b"\n")
            rows += len(batch)
    return {"rows": rows, "sha256": digest.hexdigest()}


def table_checksums(connection: BaseDatabaseWrapper) -> dict[str, dict[str, Any]]:
    """Every table of the database (Django's, the project's, any other), by name."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    return {
        table: table_checksum(connection, table)
        for table in sorted(tables)
        if not table.startswith("sqlite_")
    }


def _latest_migrations(connection: BaseDatabaseWrapper) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
        return dict(cursor.fetchall())


def pii_key_fingerprint(key: str) -> str:
    """Tells whether two installations use the same PII_KEY without telling the key."""
    return hashlib.sha256(b"civicmark-backup-pii-key:" + key.encode()).hexdigest()[:16]


# --- Connections ----------------------------------------------------------------------------


@contextmanager
def database_alias(connection: BaseDatabaseWrapper, name: str) -> Iterator[str]:
    """A connection alias, for the time of the block and in this thread, to another database (a
    snapshot file, an empty database to restore into) of the same engine and options."""
    alias = f"civicmark-{uuid.uuid4().hex[:12]}"
    connection = connections[connection.alias]  # the wrapper itself, not django.db.connection
    wrapper = type(connection)({**connection.settings_dict, "NAME": name}, alias)
    connections[alias] = wrapper
    try:
        yield alias
    finally:
        wrapper.close()
        del connections[alias]


def engine_of(connection: BaseDatabaseWrapper) -> str:
    if connection.vendor not in DATABASE_MEMBER:
        raise BackupError(_("Backups support SQLite and PostgreSQL, not %s.") % connection.vendor)
    return str(connection.vendor)


def pg_env(settings_dict: dict[str, Any]) -> dict[str, str]:
    """libpq's variables for pg_dump and pg_restore: the password never on a command line."""
    env = dict(os.environ)
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("NAME", "PGDATABASE"),
    ):
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    options = settings_dict.get("OPTIONS") or {}
    for option in ("sslmode", "sslrootcert", "sslcert", "sslkey", "passfile", "service"):
        if options.get(option):
            env[f"PG{option.upper()}"] = str(options[option])
    return env


def pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            _("%s was not found: install PostgreSQL's client programs (postgresql-client).") % name
        )
    return path


def run_tool(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(
            _("%(program)s failed: %(error)s")
            % {"program": Path(args[0]).name, "error": done.stderr.strip()[-2000:]}
        )


# --- Files ----------------------------------------------------------------------------------


def _referenced_files(alias: str) -> dict[str, str]:
    """path -> SHA-256 kept at upload, for every file row in the database `alias` sees."""
    files: dict[str, str] = {}
    for model in apps.get_models():
        if issubclass(model, StoredFileRecord):
            files.update(model._default_manager.using(alias).values_list("path", "sha256"))
    return dict(sorted(files.items()))


class Hashing:
    """A reader that hashes what passes through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.digest, self.size = raw, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


def sha256_of(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _add(tar: tarfile.TarFile, name: str, stream: IO[bytes], size: int) -> str:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(time.time()), 0o600
    reader = Hashing(stream)
    tar.addfile(info, reader)  # type: ignore[arg-type]
    return reader.digest.hexdigest()


# --- Backup ---------------------------------------------------------------------------------


@dataclass
class _Snapshot:
    migrations: dict[str, str]
    tables: dict[str, dict[str, Any]]
    files: dict[str, str]


def _sqlite_snapshot(connection: BaseDatabaseWrapper, dest: Path) -> _Snapshot:
    # One step (pages=-1): the copy is one read transaction, a snapshot that writers in WAL mode
    # go on around. Several smaller steps would restart whenever someone writes meanwhile.
    source = sqlite3.connect(connection.settings_dict["NAME"], timeout=20)
    target = sqlite3.connect(dest)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    with database_alias(connection, str(dest)) as alias:
        snapshot = connections[alias]
        return _Snapshot(
            _latest_migrations(snapshot), table_checksums(snapshot), _referenced_files(alias)
        )


def _postgresql_snapshot(connection: BaseDatabaseWrapper, dest: Path) -> _Snapshot:
    if connection.in_atomic_block:
        raise BackupError(_("A backup cannot run inside a transaction."))
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot_id,) = cursor.fetchone()
        # pg_dump reads the very snapshot this transaction holds, so the dump, the checksums
        # and the list of files below describe one moment.
        run_tool(
            [
                pg_tool("pg_dump"),
                "--format=custom",
                f"--snapshot={snapshot_id}",
                f"--file={dest}",
                "--no-password",
            ],
            pg_env(connection.settings_dict),
        )
        return _Snapshot(
            _latest_migrations(connection),
            table_checksums(connection),
            _referenced_files(connection.alias),
        )


def backup_write(*, archive: Path, using: str = "default") -> BackupResult:
    """Write one archive of the database `using` and the files it refers to. The archive
    appears under its name only once it is complete."""
    started = time.monotonic()
    connection = connections[using]
    engine = engine_of(connection)
    archive = archive.resolve()
    if not archive.parent.is_dir():
        raise BackupError(_("The folder %s does not exist.") % archive.parent)
    with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".civicmark-backup-") as work:
        database = Path(work) / DATABASE_MEMBER[engine]
        take = _sqlite_snapshot if engine == "sqlite" else _postgresql_snapshot
        snapshot = take(connection, database)
        if not snapshot.migrations:
            raise BackupError(_("The database has no schema yet: nothing to back up."))
        partial = Path(work) / "archive.partial"
        mode = "w:gz" if archive.name.endswith((".gz", ".tgz")) else "w"
        with tarfile.open(partial, mode) as tar:  # type: ignore[call-overload]
            with database.open("rb") as stream:
                database_sha = _add(tar, database.name, stream, database.stat().st_size)
            files, missing, altered = _add_files(tar, snapshot.files)
            manifest = _manifest(engine, snapshot, database, database_sha, files, missing)
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            _add(tar, MANIFEST, io.BytesIO(data), len(data))
        os.replace(partial, archive)
    return BackupResult(
        archive=archive,
        engine=engine,
        tables=len(snapshot.tables),
        rows=sum(t["rows"] for t in snapshot.tables.values()),
        files=len(files),
        file_bytes=sum(f["size"] for f in files.values()),
        archive_bytes=archive.stat().st_size,
        seconds=time.monotonic() - started,
        missing=missing,
        altered=altered,
    )


def _add_files(
    tar: tarfile.TarFile, referenced: dict[str, str]
) -> tuple[dict[str, dict[str, Any]], list[str], list[str]]:
    """Copy each file the snapshot names. Missing: recorded, not skipped in silence. Altered
    (not the bytes that were uploaded): archived as found, and reported."""
    files: dict[str, dict[str, Any]] = {}
    missing, altered = [], []
    for path, uploaded_sha in referenced.items():
        try:
            size = default_storage.size(path)
            with default_storage.open(path, "rb") as stream:
                sha = _add(tar, MEDIA + path, stream, size)
        except FileNotFoundError:
            missing.append(path)
            continue
        files[path] = {"size": size, "sha256": sha}
        if sha != uploaded_sha:
            altered.append(path)
    return files, missing, altered


def _manifest(
    engine: str,
    snapshot: _Snapshot,
    database: Path,
    database_sha: str,
    files: dict[str, dict[str, Any]],
    missing: list[str],
) -> dict[str, Any]:
    try:
        civicmark = version("civicmark")
    except PackageNotFoundError:
        civicmark = "unknown"
    return {
        "application": "civicmark",
        "format": FORMAT,
        "written_at": timezone.now().isoformat(),
        "civicmark": civicmark,
        "django": django.get_version(),
        "engine": engine,
        "migrations": snapshot.migrations,
        "pii_key": pii_key_fingerprint(settings.PII_KEY),
        "database": {
            "member": database.name,
            "size": database.stat().st_size,
            "sha256": database_sha,
        },
        "tables": snapshot.tables,
        "files": files,
        "missing_files": missing,
    }
