"""Evidence that helps (issue 16, item 8): phone photos in WebP and HEIC accepted and converted,
a preview beside the card, a wrong attachment removed before submission, and the campaign
deciding whether missing evidence only warns or blocks the submission."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from civicmark.assessments.models import Evidence

PDF = b"%PDF-1.4\n%%EOF\n"
GPS = 0x8825


def card_url(item: str = "A1") -> str:
    return reverse("self_assessment_item", args=["c", "C111", item])


def photo(kind: str, *, gps: bool = True) -> bytes:
    """A real photo in `kind` (WEBP or HEIF), carrying an EXIF GPS position like a phone's."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "Phone"  # Make
    if gps:
        exif.get_ifd(GPS)[2] = (31.0, 14.0, 0.0)  # GPSLatitude
    out = BytesIO()
    if kind == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    image.save(out, kind, exif=exif.tobytes())
    return out.getvalue()


def attach(client, scoring, name: str, data: bytes, item: str = "A1"):  # noqa: ANN001, ANN201
    pk = scoring["items"][item].pk
    return client.post(
        card_url(item), {f"i{pk}-points": "", f"i{pk}-photo": SimpleUploadedFile(name, data)}
    )


@pytest.fixture
def staff(world, client_for):  # noqa: ANN001, ANN201
    return client_for(world.users["community_staff"])


@pytest.mark.parametrize(("name", "kind"), [("门口.webp", "WEBP"), ("IMG_0042.HEIC", "HEIF")])
def test_it_accepts_a_phone_photo_and_stores_it_as_jpeg_without_its_position(
    scoring, staff, name, kind
):
    """The finding: a .webp was refused (and an iPhone's HEIC with it)."""
    data = photo(kind)
    with Image.open(BytesIO(data)) as original:
        assert GPS in original.getexif()  # the photo sent does carry a position
    response = attach(staff, scoring, name, data)
    assert response.status_code == 200, response.content.decode()
    evidence = Evidence.objects.get()
    stem = name.rsplit(".", 1)[0]
    assert evidence.name == f"{stem}.jpg" and evidence.content_type == "image/jpeg"
    with default_storage.open(evidence.path, "rb") as stored, Image.open(stored) as converted:
        assert converted.format == "JPEG" and converted.size == (64, 48)
        exif = converted.getexif()
        assert exif.get(0x010F) == "Phone"  # the rest of the EXIF is kept
        assert GPS not in exif  # but not where it was taken


def test_it_refuses_a_file_named_webp_that_is_not_a_photo(scoring, staff):
    response = attach(staff, scoring, "假的.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 garbage")
    assert response.status_code == 422
    assert "假的.webp" in response.content.decode()
    assert not Evidence.objects.exists()
