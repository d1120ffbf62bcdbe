"""Uploaded files: type checked from the content, SHA-256 kept, stored under a generated name
outside the web root, and served only through views that check permission first.

Phone photos come as WebP or HEIC (an iPhone's camera) as often as JPEG: both are accepted and
converted to JPEG at upload, under the name the person gave it with a .jpg ending. Every photo
(JPEG and PNG too) is stored turned upright and with only the EXIF that says what took it and
when: its GPS position, its owner's name and its serial numbers are never stored, so evidence
does not publish where it was taken or whose phone took it. The SHA-256 kept is the stored
file's."""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.utils.translation import gettext as _

from civicmark.core.errors import ApplicationError
from civicmark.core.names import file_name

if TYPE_CHECKING:
    from PIL import Image

HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
CONVERTED = {"webp", "heic"}  # accepted, stored as JPEG
PHOTOS = {"jpeg", "png", *CONVERTED}  # stored without their personal EXIF
EXIF_IFD = 0x8769
# The EXIF a stored photo keeps: the camera's make and model and when it was taken (evidence
# that a photo is this year's). Everything else goes, whatever a phone adds next: the GPS
# position, the owner's name (Artist, CameraOwnerName), serial numbers (BodySerialNumber,
# LensSerialNumber, ImageUniqueID, and the maker notes that hide more), comments, the embedded
# thumbnail (the picture before an edit) and the orientation (applied to the pixels instead).
KEPT_TAGS = {0x010F, 0x0110, 0x0132}  # Make, Model, DateTime
KEPT_EXIF_TAGS = {0x9003, 0x9004, 0x9010, 0x9011, 0x9012}  # DateTimeOriginal/Digitized, OffsetTime*
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
    if kind in PHOTOS:
        data = clean_photo(data, name, kind)
    if kind in CONVERTED:
        kind, name, suffix = "jpeg", str(PurePosixPath(name).with_suffix(".jpg")), ".jpg"
    path = default_storage.save(f"{folder}/{uuid.uuid4().hex}{suffix}", ContentFile(data))
    return StoredFile(
        path=path,
        name=name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content_type=KINDS[kind],
    )


def clean_photo(data: bytes, name: str, kind: str) -> bytes:
    """The photo as it is stored: upright, with only the EXIF in KEPT_TAGS; a PNG stays a
    (lossless) PNG, anything else becomes a JPEG, a JPEG re-encoded with its own quantisation
    tables and subsampling so that it loses as little as a re-save can."""
    from PIL import Image, ImageOps, JpegImagePlugin, UnidentifiedImageError
    from pillow_heif import register_heif_opener

    register_heif_opener()
    try:
        with Image.open(BytesIO(data)) as opened:
            exif = _kept_exif(opened.getexif())
            icc = opened.info.get("icc_profile")
            image = ImageOps.exif_transpose(opened)
            image.info = {}  # nothing of the original's metadata (comments, XMP) rides along
            options: dict[str, object] = {"exif": exif.tobytes()}
            if icc:
                options["icc_profile"] = icc
            out = BytesIO()
            if kind == "png":
                if "transparency" in opened.info:
                    options["transparency"] = opened.info["transparency"]
                image.save(out, "PNG", **options)
            elif isinstance(opened, JpegImagePlugin.JpegImageFile):
                options["qtables"] = opened.quantization
                options["subsampling"] = JpegImagePlugin.get_sampling(opened)
                image.save(out, "JPEG", **options)
            else:
                image.convert("RGB").save(out, "JPEG", quality=88, **options)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        if kind in CONVERTED:
            message = _("“%s” could not be read as a photo: take it again or send it as JPEG.")
        else:
            message = _("“%s” could not be read as a picture: it may be damaged; send it again.")
        raise ApplicationError(message % name) from None
    return out.getvalue()


def _kept_exif(original: Image.Exif) -> Image.Exif:
    from PIL import Image

    kept = Image.Exif()
    for tag in KEPT_TAGS & set(original):
        kept[tag] = original[tag]
    details = original.get_ifd(EXIF_IFD)
    for tag in KEPT_EXIF_TAGS & set(details):
        kept.get_ifd(EXIF_IFD)[tag] = details[tag]
    return kept


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


def storage_place() -> str:
    """Where the stored files are, for a person reading a message: the media folder, or the
    bucket when they live in S3-compatible storage (ADR 27)."""
    bucket = getattr(default_storage, "bucket_name", None)
    if bucket:
        return f"s3://{bucket}/{getattr(default_storage, 'location', '')}".rstrip("/")
    return str(settings.MEDIA_ROOT)


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
