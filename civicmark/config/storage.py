"""Where uploaded and generated files live: the filesystem (MEDIA_ROOT) by default, or an
S3-compatible bucket (AWS S3, MinIO, Ceph, a Chinese cloud's object storage) by configuration, so
that several application servers share one store (ADR 27).

    CIVICMARK_S3_BUCKET      the bucket (setting it turns S3 on)
    CIVICMARK_S3_ENDPOINT    the service's address, for anything but AWS (http://minio:9000)
    CIVICMARK_S3_ACCESS_KEY  and CIVICMARK_S3_SECRET_KEY: both or neither (neither: boto3's own
                             chain, such as an instance's role)
    CIVICMARK_S3_REGION      the region, when the service wants one
    CIVICMARK_S3_PREFIX      a folder inside the bucket ("" by default)

The bucket stays private: files go out only through the permission-checked views, which read them
through Django's storage API (`default_storage`), never by a public URL or a path on disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

FILESYSTEM: dict[str, Any] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def default_storage_from(env: Mapping[str, str]) -> dict[str, Any]:
    """STORAGES["default"] for this environment."""
    bucket = env.get("CIVICMARK_S3_BUCKET", "").strip()
    if not bucket:
        return FILESYSTEM
    access, secret = env.get("CIVICMARK_S3_ACCESS_KEY", ""), env.get("CIVICMARK_S3_SECRET_KEY", "")
    if bool(access) != bool(secret):
        raise ImproperlyConfigured(
            "CIVICMARK_S3_ACCESS_KEY and CIVICMARK_S3_SECRET_KEY are set together, or neither."
        )
    endpoint = env.get("CIVICMARK_S3_ENDPOINT", "").strip()
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "location": env.get("CIVICMARK_S3_PREFIX", "").strip("/"),
        # Never a public object, never a name reused: a second upload of the same generated name
        # gets its own (as on disk), and a restore that finds a name taken says so.
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,
        "signature_version": "s3v4",
    }
    if endpoint:
        # Services other than AWS answer at one address, the bucket in the path.
        options |= {"endpoint_url": endpoint, "addressing_style": "path"}
    if access:
        options |= {"access_key": access, "secret_key": secret}
    if env.get("CIVICMARK_S3_REGION"):
        options["region_name"] = env["CIVICMARK_S3_REGION"]
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
