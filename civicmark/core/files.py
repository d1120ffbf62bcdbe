"""Uploaded files: type checked from the content, SHA-256 kept, stored under a generated name
outside the web root, and served only through views that check permission first.

Phone photos come as WebP or HEIC (an iPhone's camera) as often as JPEG: both are accepted and
converted to JPEG at upload (turned upright, the EXIF GPS position dropped so a photo does not
publish where it was taken), under the name the person gave it with a .jpg ending."""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.utils.translation import gettext as _

from civicmark.core.errors import ApplicationError
from civicmark.core.names import file_name

HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
CONVERTED = {"webp", "heic"}  # accepted, stored as JPEG
GPS_IFD = 0x8825
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Word/Excel/WPS containers
KINDS = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ole": "application/octet-stream",
}
SUFFIXES = {
    "pdf": {".pdf"},
    "png": {".png"},
    "jpeg": {".jpg", ".jpeg"},
    "docx": {".docx"},
    "xlsx": {".xlsx"},
    "ole": {".doc", ".xls", ".wps", ".et"},
    "webp": {".webp"},
    "heic": {".heic", ".heif"},
}


@dataclass(frozen=True)
class StoredFile:
    path: str
    name: str
    size: int
    sha256: str
    content_type: str

    def fields(self) -> dict[str, object]:
        """The columns of a StoredFileRecord."""
        return {
            "path": self.path,
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "content_type": self.content_type,
        }


def sniff(head: bytes, data: bytes) -> str | None:
    """The kind of file the bytes really are, whatever its name says."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "heic"
    if head.startswith(OLE):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    return None


def store_upload(upload: UploadedFile, *, folder: str) -> StoredFile:
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size is None or upload.size > limit:
        raise ApplicationError(_("The file is larger than %d MB.") % (limit // 2**20))
    data = upload.read()
    kind = sniff(data[:16], data)
    name = PurePosixPath((upload.name or "file").replace("\\", "/")).name[:200] or "file"
    suffix = PurePosixPath(name).suffix.lower()
    if kind is None or suffix not in SUFFIXES[kind]:
        raise ApplicationError(
            _("“%s” is not a PDF, image, Word, Excel or WPS document (its content was checked).")
            % name
        )
    if kind in CONVERTED:
        data, kind = to_jpeg(data, name), "jpeg"
        name = str(PurePosixPath(name).with_suffix(".jpg"))
        suffix = ".jpg"
    path = default_storage.save(f"{folder}/{uuid.uuid4().hex}{suffix}", ContentFile(data))
    return StoredFile(
        path=path,
        name=name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content_type=KINDS[kind],
    )


def to_jpeg(data: bytes, name: str) -> bytes:
    """A WebP or HEIC photo as JPEG, upright, with its EXIF kept but for the GPS position."""
    from PIL import Image, ImageOps, UnidentifiedImageError
    from pillow_heif import register_heif_opener

    register_heif_opener()
    try:
        with Image.open(BytesIO(data)) as opened:
            image = ImageOps.exif_transpose(opened)
            exif = image.getexif()
            exif.pop(GPS_IFD, None)
            out = BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=88, exif=exif.tobytes())
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ApplicationError(
            _("“%s” could not be read as a photo: take it again or send it as JPEG.") % name
        ) from None
    return out.getvalue()


def thumbnail(path: str, content_type: str, size: int = 480) -> bytes | None:
    """A JPEG no larger than `size` pixels a side of a stored image, for the preview beside the
    card (a phone photo is megabytes): None for anything that is not an image."""
    from PIL import Image, ImageOps

    if content_type not in ("image/jpeg", "image/png"):
        return None
    try:
        with default_storage.open(path, "rb") as stored, Image.open(stored) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
            image.thumbnail((size, size))
            out = BytesIO()
            image.save(out, "JPEG", quality=80)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return out.getvalue()


def inline(path: str, name: str, content_type: str) -> FileResponse:
    """A PDF shown in the page's own preview frame (only this site may frame it)."""
    response = FileResponse(
        default_storage.open(path, "rb"),
        as_attachment=False,
        filename=file_name(name),
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "frame-ancestors 'self'; object-src 'none'"
    return response


def download(path: str, name: str, content_type: str) -> FileResponse:
    """Always an attachment, never rendered by the browser."""
    response = FileResponse(
        default_storage.open(path, "rb"),
        as_attachment=True,
        filename=file_name(name),
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
