"""Backup and restore (issue 14, item 12): the restore drill under write load, and the refusals.

Every test here is transactional: a backup reads what is committed, through its own snapshot
(a second SQLite connection, or pg_dump), so nothing may hide in the test's transaction.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction

from civicmark.assessments.models import Evidence, RectificationEvidence
from civicmark.assessments.services import evidence_attach
from civicmark.campaigns.models import TaskAttachment
from civicmark.core import audit, backup
from civicmark.core.models import AuditEvent
from civicmark.results.models import UpwardDocument
from tests.factories import person

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

PDF = b"%PDF-1.4\n% CivicMark restore drill\n"


@pytest.fixture
def media(settings, tmp_path):  # noqa: ANN001, ANN201
    """Evidence goes to a folder of this test's own; commands speak English here."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"
    return settings.MEDIA_ROOT


def staff_of_an_open_community(campaign: Any) -> tuple[Any, Any]:
    enrollment = (
        campaign.enrollments.filter(status__in=["enrolled", "self_assessing"])
        .select_related("community", "campaign")
        .order_by("pk")
        .first()
    )
    return person(f"staff{enrollment.pk}", "community_staff", enrollment.community), enrollment


def attach(user: Any, enrollment: Any, n: int) -> Evidence:
    item = enrollment.campaign.standard.items.order_by("pk").first()
    upload = SimpleUploadedFile(f"proof-{n}.pdf", PDF + f"page {n}\n".encode(), "application/pdf")
    return evidence_attach(actor=user, enrollment=enrollment, items=[item], upload=upload)


@contextmanager
def empty_database(tmp_path: Path) -> Iterator[str]:
    """An empty database of the test's engine, as an alias: on SQLite a second file; on
    PostgreSQL a scratch database, dropped afterwards."""
    default = connections["default"].settings_dict
    if connection.vendor == "sqlite":
        with backup.database_alias(connection, str(tmp_path / "restored.sqlite3")) as alias:
            yield alias
        return
    import psycopg

    name = f"test_restore_{os.getpid()}"
    server = {
        key: str(default[setting])
        for key, setting in (
            ("host", "HOST"),
            ("port", "PORT"),
            ("user", "USER"),
            ("password", "PASSWORD"),
        )
        if default.get(setting)
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:  # type: ignore[arg-type]
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            with backup.database_alias(connection, name) as alias:
                yield alias
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manifest_of(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive) as tar:
        stream = tar.extractfile(backup.MANIFEST)
        assert stream is not None
        return json.load(stream)


Change = Callable[[str, bytes], tuple[str, bytes]]


def rewrite(archive: Path, change: Change) -> None:
    """The archive with each member passed through `change`: (name, bytes) -> (name, bytes)."""
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar]  # type: ignore[union-attr]
    with tarfile.open(archive, "w") as tar:
        for member, data in members:
            member.name, new = change(member.name, data)
            member.size = len(new)
            tar.addfile(member, io.BytesIO(new))


def files_under(folder: Path) -> dict[str, str]:
    """relative path -> SHA-256 of every file under `folder`."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def table_names(alias: str) -> set[str]:
    conn = connections[alias]
    with conn.cursor() as cursor:
        return {t for t in conn.introspection.table_names(cursor) if not t.startswith("sqlite_")}


class Writer(threading.Thread):
    """Keeps writing through the services on its own connection: an audit event each turn, and
    every third turn a new evidence file with its row (the file stored before its row commits)."""

    def __init__(self, user: Any, enrollment: Any) -> None:
        super().__init__(daemon=True)
        self.user, self.enrollment = user, enrollment
        self.stop, self.written, self.error = threading.Event(), 0, None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                with transaction.atomic():
                    audit.record(
                        actor=self.user,
                        action="drill.write",
                        object_type="drill",
                        object_ref=str(self.written),
                        via="system",
                    )
                if self.written % 3 == 0:
                    attach(self.user, self.enrollment, 1000 + self.written)
                self.written += 1
        except Exception as exc:  # the test asserts there was none
            self.error = exc
        finally:
            connections.close_all()

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 30
        while self.written < count and self.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.error is None and self.written >= count, (self.error, self.written)


def test_it_restores_the_demo_backed_up_under_write_load_with_every_checksum_equal(
    media, demo, tmp_path, settings, monkeypatch
):
    # (media first: the demo attaches a document of its own, which must land in this test's
    # media folder, not in the one before it)
    # Given the demo, a few evidence files, and someone who keeps writing
    user, enrollment = staff_of_an_open_community(demo)
    for n in range(3):
        attach(user, enrollment, n)
    writer = Writer(user, enrollment)
    writer.start()
    writer.wait_for(3)
    # The files are copied after the snapshot; the writer is made to add rows and files in
    # exactly that gap, the moment where an archive could come out inconsistent.
    referenced = backup._referenced_files
    written_in_the_gap: list[int] = []

    def after_the_snapshot(alias: str) -> dict[str, str]:
        start = writer.written
        writer.wait_for(start + 4)
        written_in_the_gap.append(writer.written - start)
        return referenced(alias)

    monkeypatch.setattr(backup, "_referenced_files", after_the_snapshot)

    # When the server operator takes a backup
    archive, out = tmp_path / "civicmark.tar", io.StringIO()
    try:
        call_command("backup", str(archive), stdout=out)
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None and written_in_the_gap and written_in_the_gap[0] >= 4
    manifest = manifest_of(archive)
    assert "one snapshot" in out.getvalue() and manifest["engine"] == connection.vendor
    assert manifest["missing_files"] == []
    # The archive is one moment: every table of the database, and fewer events than now.
    assert set(manifest["tables"]) == table_names("default")
    assert manifest["tables"]["core_auditevent"]["rows"] < AuditEvent.objects.count()
    assert manifest["migrations"]["core"] and manifest["migrations"]["assessments"]

    # And restores it into an empty database and an empty media folder
    settings.MEDIA_ROOT = tmp_path / "restored-media"
    with empty_database(tmp_path) as alias:
        out = io.StringIO()
        call_command("restore", str(archive), "--database", alias, stdout=out)
        said = out.getvalue()
        restored = connections[alias]

        # Then every table's row count and checksum equal the manifest's
        assert table_names(alias) == set(manifest["tables"])
        for table, expected in manifest["tables"].items():
            with restored.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM {restored.ops.quote_name(table)}")  # noqa: S608
                assert cursor.fetchone()[0] == expected["rows"], table
            assert backup.table_checksum(restored, table) == expected, table
        # and every file the restored rows name is there, with the hash kept at upload
        rows = {
            path: sha
            # (and the demo's report to the city, its PDF and list: ADR 25)
            for model in (Evidence, RectificationEvidence, TaskAttachment, UpwardDocument)
            for path, sha in model.objects.using(alias).values_list("path", "sha256")
        }
        on_disk = files_under(tmp_path / "restored-media")
        assert on_disk == rows == {p: f["sha256"] for p, f in manifest["files"].items()}
        assert len(rows) >= 4  # the three attached first, and the writer's before the snapshot
    # and nothing written after the snapshot came along (the writer kept going)
    assert Evidence.objects.count() > len(rows)
    assert "every table's row count and checksum equal" in said
    assert f"{len(rows)} files" in said and "SHA-256 equal" in said


@pytest.fixture
def archived(scoring, media, tmp_path):  # noqa: ANN001, ANN201
    """A small installation with two evidence files, and its archive."""
    user, enrollment = staff_of_an_open_community(scoring["campaign"])
    evidence = [attach(user, enrollment, n) for n in range(2)]
    archive = tmp_path / "small.tar.gz"
    call_command("backup", str(archive), stdout=io.StringIO())
    return {"archive": archive, "evidence": evidence}


def tamper(kind: str, evidence: Evidence) -> Change:
    """One byte of one evidence file or of the database changed, one row count changed, or one
    file sent outside the media folder."""

    def change(name: str, data: bytes) -> tuple[str, bytes]:
        if kind == "file byte" and name == backup.MEDIA + evidence.path:
            return name, data[:-2] + bytes([data[-2] ^ 1]) + data[-1:]
        if kind == "database byte" and name.startswith("database."):
            return name, data[:100] + bytes([data[100] ^ 1]) + data[101:]
        if kind == "path outside" and name == backup.MEDIA + evidence.path:
            return backup.MEDIA + "../outside.pdf", data
        if name == backup.MANIFEST and kind in ("row count", "path outside"):
            manifest = json.loads(data)
            if kind == "row count":
                manifest["tables"]["core_auditevent"]["rows"] += 1
            else:
                manifest["files"]["../outside.pdf"] = manifest["files"].pop(evidence.path)
            return name, json.dumps(manifest).encode()
        return name, data

    return change


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("file byte", r"media/evidence/\S+ does not match its SHA-256 in the manifest"),
        ("database byte", r"database\.\S+ does not match its SHA-256 in the manifest"),
        ("row count", r"table core_auditevent has \d+ rows; the manifest says \d+"),
        ("path outside", r"a file outside the media folder: \.\./outside\.pdf"),
    ],
)
def test_it_refuses_a_tampered_archive_and_restores_no_file(
    archived, tmp_path, settings, kind, message
):
    rewrite(archived["archive"], tamper(kind, archived["evidence"][0]))
    settings.MEDIA_ROOT = tmp_path / "restored-media"
    with empty_database(tmp_path) as alias:
        with pytest.raises(CommandError, match=message):
            call_command("restore", str(archived["archive"]), "--database", alias)
        if kind != "row count":  # refused before anything was written
            assert table_names(alias) == set()
    assert not (tmp_path / "restored-media").exists()
    assert not (tmp_path / "outside.pdf").exists()


def test_it_refuses_to_restore_over_a_database_that_has_data(archived, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "restored-media"
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(archived["archive"]))
    assert AuditEvent.objects.count() == events
    assert not (tmp_path / "restored-media").exists()


def test_it_refuses_to_restore_into_a_media_folder_that_has_files(archived, tmp_path, media):
    # media still holds the two evidence files
    with empty_database(tmp_path) as alias:
        with pytest.raises(CommandError, match="media folder .* is not empty"):
            call_command("restore", str(archived["archive"]), "--database", alias)
        assert table_names(alias) == set()


def test_it_reports_files_missing_or_altered_on_disk_as_errors_and_still_writes_the_archive(
    scoring, media, tmp_path
):
    user, enrollment = staff_of_an_open_community(scoring["campaign"])
    kept, lost, altered = (attach(user, enrollment, n) for n in range(3))
    (media / lost.path).unlink()
    (media / altered.path).write_bytes(PDF + b"not what was uploaded")
    archive, err = tmp_path / "with-a-hole.tar", io.StringIO()
    with pytest.raises(CommandError, match=r"1 file\(s\) are missing and 1 altered"):
        call_command("backup", str(archive), stdout=io.StringIO(), stderr=err)
    assert lost.path in err.getvalue() and altered.path in err.getvalue()
    manifest = manifest_of(archive)
    assert manifest["missing_files"] == [lost.path]
    assert set(manifest["files"]) == {kept.path, altered.path}  # archived as found


def test_it_refuses_a_file_that_is_not_a_backup(media, tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all")
    with pytest.raises(CommandError, match="not a CivicMark backup"):
        call_command("restore", str(junk))
