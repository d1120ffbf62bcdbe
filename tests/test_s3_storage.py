"""Evidence and exports in an S3-compatible bucket by configuration (issue 19 item 3, ADR 27),
against a local S3-compatible server (moto's) started here on a free port; the filesystem stays
the default."""

from __future__ import annotations

import hashlib
import socket
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.urls import reverse
from moto.server import ThreadedMotoServer

from civicmark.accounts.models import User
from civicmark.assessments.models import Evidence
from civicmark.config.storage import FILESYSTEM, default_storage_from
from civicmark.core.files import storage_place
from civicmark.results import jobs
from tests.test_evidence import PDF, attach, photo

BUCKET = "civicmark-evidence"
KEYS = {"CIVICMARK_S3_ACCESS_KEY": "local-key", "CIVICMARK_S3_SECRET_KEY": "local-secret"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def bucket(settings, tmp_path) -> Iterator[Any]:
    """A bucket on a local S3 server, made Django's default storage as the settings would make
    it from the environment; MEDIA_ROOT an empty folder that must stay empty."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEYS["CIVICMARK_S3_ACCESS_KEY"],
        aws_secret_access_key=KEYS["CIVICMARK_S3_SECRET_KEY"],
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket=BUCKET)
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": default_storage_from(
            {"CIVICMARK_S3_BUCKET": BUCKET, "CIVICMARK_S3_ENDPOINT": endpoint, **KEYS}
        ),
    }
    try:
        yield s3
    finally:
        # moto keeps its buckets in the process, not per server: each test starts empty.
        reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310
        urllib.request.urlopen(reset).close()  # noqa: S310  (the local server started above)
        server.stop()


def keys(s3: Any) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


@pytest.fixture
def staff(world, client_for):  # noqa: ANN001, ANN201
    return client_for(world.users["community_staff"])


def test_it_stores_evidence_in_the_bucket_and_serves_it_through_the_page(
    scoring, world, staff, bucket, tmp_path, client_for
):
    assert default_storage.__class__.__name__ == "S3Storage"
    assert storage_place() == f"s3://{BUCKET}"  # what the restore's messages name
    assert attach(staff, scoring, "台账.pdf", PDF).status_code == 200
    evidence = Evidence.objects.get()
    # The object is in the bucket, under the generated name the record keeps; nothing on disk.
    assert keys(bucket) == {evidence.path}
    body = bucket.get_object(Bucket=BUCKET, Key=evidence.path)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == evidence.sha256
    assert list(tmp_path.iterdir()) == []
    # Downloaded through the permission-checked page, not from the bucket's address.
    url = reverse("evidence_file", args=["c", evidence.public_id])
    response = client_for(world.users["town_officer"]).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment")
    assert client_for(world.users["other_staff"]).get(url).status_code == 404


def test_it_converts_a_photo_and_previews_it_from_the_bucket(scoring, staff, bucket):
    assert attach(staff, scoring, "门口.webp", photo("WEBP")).status_code == 200
    evidence = Evidence.objects.get()
    assert evidence.path.endswith(".jpg") and keys(bucket) == {evidence.path}
    preview = staff.get(reverse("evidence_preview", args=["c", evidence.public_id]))
    assert preview.status_code == 200 and preview["Content-Type"] == "image/jpeg"


def test_removing_a_wrong_attachment_deletes_its_object(
    scoring, staff, bucket, django_capture_on_commit_callbacks
):
    attach(staff, scoring, "错的.pdf", PDF, item="B1")
    evidence = Evidence.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("evidence_remove", args=["c", evidence.public_id]), {"card": "B1"}
        )
    assert response.status_code == 302
    assert keys(bucket) == set()


def test_a_long_export_is_written_to_the_bucket_and_downloaded_through_the_page(
    demo, bucket, client, django_capture_on_commit_callbacks
):
    city = User.objects.get(username="city")
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start(
            actor=city,
            kind="summary-xlsx",
            campaign=demo,
            round_number=2,
            params={"headers": "zh"},
        )
    job.refresh_from_db()
    assert job.status == "done", job.message
    assert keys(bucket) == {job.path} and job.path.startswith("exports/")
    client.force_login(city)
    response = client.get(reverse("export_file", args=[job.public_id]))
    assert response.status_code == 200
    stored = bucket.get_object(Bucket=BUCKET, Key=job.path)["Body"].read()
    assert b"".join(response.streaming_content) == stored and stored.startswith(b"PK")


def test_the_filesystem_stays_the_default_and_s3_is_configured_from_the_environment():
    assert default_storage_from({}) == FILESYSTEM
    assert default_storage_from({"CIVICMARK_S3_BUCKET": " "}) == FILESYSTEM
    s3 = default_storage_from(
        {
            "CIVICMARK_S3_BUCKET": "b",
            "CIVICMARK_S3_ENDPOINT": "http://minio:9000",
            "CIVICMARK_S3_PREFIX": "/city/",
            "CIVICMARK_S3_REGION": "cn-north-1",
            **KEYS,
        }
    )
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
    options = s3["OPTIONS"]
    assert options["bucket_name"] == "b" and options["location"] == "city"
    assert options["endpoint_url"] == "http://minio:9000" and options["addressing_style"] == "path"
    assert options["default_acl"] is None and options["file_overwrite"] is False
    assert options["region_name"] == "cn-north-1"
    # Without keys boto3's own chain (an instance's role) is used; one key alone is a mistake.
    assert "access_key" not in default_storage_from({"CIVICMARK_S3_BUCKET": "b"})["OPTIONS"]
    with pytest.raises(ImproperlyConfigured, match="CIVICMARK_S3_SECRET_KEY"):
        default_storage_from({"CIVICMARK_S3_BUCKET": "b", "CIVICMARK_S3_ACCESS_KEY": "k"})
