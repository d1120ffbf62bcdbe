"""Evidence that helps (issue 16, item 8): phone photos in WebP and HEIC accepted and converted,
a preview beside the card, a wrong attachment removed before submission, and the campaign
deciding whether missing evidence only warns or blocks the submission."""

from __future__ import annotations

import hashlib
from io import BytesIO

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from civicmark.assessments.models import Evidence
from civicmark.core.models import AuditEvent

PDF = b"%PDF-1.4\n%%EOF\n"
GPS = 0x8825
EXIF_IFD = 0x8769
OWNER, SERIAL, LENS_SERIAL, ARTIST = 0xA430, 0xA431, 0xA435, 0x013B
TAKEN, ORIENTATION = 0x9003, 0x0112
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    b'syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
    b'exif:GPSLatitude="31,14.0N"/></rdf:RDF></x:xmpmeta>'
)


def card_url(item: str = "A1") -> str:
    return reverse("self_assessment_item", args=["c", "C111", item])


def photo(kind: str, *, gps: bool = True, orientation: int = 1) -> bytes:
    """A real photo in `kind` (JPEG, PNG, WEBP or HEIF), carrying what a phone writes into its
    EXIF: a GPS position, the owner's name, serial numbers, when it was taken and which way up."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "Phone"  # Make
    exif[ARTIST] = "Zhang Owner"
    exif[ORIENTATION] = orientation
    details = exif.get_ifd(EXIF_IFD)
    details[TAKEN] = "2026:11:30 09:15:00"
    details[OWNER] = "Zhang Owner"
    details[SERIAL] = "SN-BODY-0042"
    details[LENS_SERIAL] = "SN-LENS-0043"
    if gps:
        exif.get_ifd(GPS)[2] = (31.0, 14.0, 0.0)  # GPSLatitude
    out = BytesIO()
    if kind == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    extra = {"xmp": XMP, "comment": b"Zhang Owner's phone"} if kind == "JPEG" else {}
    image.save(out, kind, exif=exif.tobytes(), **extra)
    return out.getvalue()


def attach(client, scoring, name: str, data: bytes, item: str = "A1"):  # noqa: ANN001, ANN201
    pk = scoring["items"][item].pk
    return client.post(
        card_url(item), {f"i{pk}-points": "", f"i{pk}-photo": SimpleUploadedFile(name, data)}
    )


@pytest.fixture
def staff(world, client_for, settings):  # noqa: ANN001, ANN201
    """The community's staff, reading in English (the messages asserted are the English ones)."""
    client = client_for(world.users["community_staff"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


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


@pytest.mark.parametrize(
    ("name", "kind", "stored_as"),
    [
        ("现场.jpg", "JPEG", "JPEG"),
        ("现场.png", "PNG", "PNG"),
        ("门口.webp", "WEBP", "JPEG"),
        ("IMG_0042.HEIC", "HEIF", "JPEG"),
    ],
)
def test_it_stores_a_photo_without_its_position_owner_or_serial_numbers(
    scoring, staff, name, kind, stored_as
):
    """The finding (issue 16): a JPEG or PNG was stored as sent, its GPS position, its owner's
    name and its camera's serial numbers with it, and a converted photo kept all but the GPS."""
    data = photo(kind)
    with Image.open(BytesIO(data)) as original:
        sent = original.getexif()
        assert GPS in sent and sent.get_ifd(EXIF_IFD)[SERIAL] == "SN-BODY-0042"
    response = attach(staff, scoring, name, data)
    assert response.status_code == 200, response.content.decode()
    evidence = Evidence.objects.get()
    with default_storage.open(evidence.path, "rb") as stored:
        kept = stored.read()
    for personal in (b"Zhang Owner", b"SN-BODY", b"SN-LENS", b"GPSLatitude"):
        assert personal not in kept
    with Image.open(BytesIO(kept)) as image:
        assert image.format == stored_as and image.size == (64, 48)
        exif = image.getexif()
        assert GPS not in exif and ARTIST not in exif
        details = exif.get_ifd(EXIF_IFD)
        assert not {OWNER, SERIAL, LENS_SERIAL} & set(details)
        assert exif[0x010F] == "Phone" and details[TAKEN] == "2026:11:30 09:15:00"
    # What the row and the audit trail say is what is on the disk.
    digest = hashlib.sha256(kept).hexdigest()
    assert (evidence.sha256, evidence.size) == (digest, len(kept))
    assert AuditEvent.objects.get(action="evidence.added").after["sha256"] == digest


@pytest.mark.parametrize(("name", "kind"), [("现场.jpg", "JPEG"), ("现场.png", "PNG")])
def test_it_stores_a_photo_taken_sideways_upright(scoring, staff, name, kind):
    """The orientation is applied to the pixels, not left as a tag the EXIF no longer has."""
    response = attach(staff, scoring, name, photo(kind, orientation=6))
    assert response.status_code == 200, response.content.decode()
    with (
        default_storage.open(Evidence.objects.get().path, "rb") as stored,
        Image.open(stored) as image,
    ):
        assert image.size == (48, 64)
        assert ORIENTATION not in image.getexif()


def test_it_refuses_a_damaged_jpeg_and_stores_nothing(scoring, staff):
    response = attach(staff, scoring, "坏的.jpg", b"\xff\xd8\xff\xe0 not a picture")
    assert response.status_code == 422
    page = response.content.decode()
    assert "坏的.jpg" in page and "could not be read as a picture" in page
    assert not Evidence.objects.exists()
    assert not AuditEvent.objects.filter(action="evidence.added").exists()


def test_it_refuses_a_file_named_webp_that_is_not_a_photo(scoring, staff):
    response = attach(staff, scoring, "假的.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 garbage")
    assert response.status_code == 422
    assert "假的.webp" in response.content.decode()
    assert not Evidence.objects.exists()


# --- Previews in the page ---------------------------------------------------------------------


def test_it_shows_a_thumbnail_of_a_photo_on_its_card(scoring, staff):
    """The finding: nothing previewed; a photo was a file name to download."""
    attach(staff, scoring, "门口.webp", photo("WEBP"))
    evidence = Evidence.objects.get()
    page = staff.get(reverse("self_assessment", args=["c"]) + "?community=C111").content.decode()
    preview = reverse("evidence_preview", args=["c", evidence.public_id])
    assert 'data-testid="evidence-thumb"' in page and preview in page
    response = staff.get(preview)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    with Image.open(BytesIO(response.content)) as thumb:
        assert max(thumb.size) <= 480


def test_it_previews_a_pdf_in_the_page_behind_a_click(scoring, staff):
    attach(staff, scoring, "台账.pdf", PDF)
    evidence = Evidence.objects.get()
    page = staff.get(reverse("self_assessment", args=["c"]) + "?community=C111").content.decode()
    assert 'data-testid="evidence-pdf"' in page and "<details" in page
    response = staff.get(reverse("evidence_preview", args=["c", evidence.public_id]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert not response["Content-Disposition"].startswith("attachment")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]


@pytest.mark.parametrize("view", ["evidence_file", "evidence_preview"])
def test_it_serves_evidence_to_no_one_outside_the_community(scoring, world, client_for, view):
    attach(client_for(world.users["community_staff"]), scoring, "台账.pdf", PDF)
    evidence = Evidence.objects.get()
    url = reverse(view, args=["c", evidence.public_id])
    for outsider in ("other_staff", "other_town_officer", "other_county_officer", "nobody"):
        assert client_for(world.users[outsider]).get(url).status_code == 404, outsider
    assert client_for(world.users["town_officer"]).get(url).status_code == 200


# --- A wrong attachment removed before submission ----------------------------------------------


def remove_url(evidence: Evidence) -> str:
    return reverse("evidence_remove", args=["c", evidence.public_id])


def test_it_removes_a_wrong_attachment_before_submission_and_audits_it(
    scoring, staff, django_capture_on_commit_callbacks
):
    """The finding: a wrong attachment could not be removed."""
    attach(staff, scoring, "错的.pdf", PDF, item="B1")
    evidence = Evidence.objects.get()
    page = staff.get(reverse("self_assessment", args=["c"]) + "?community=C111").content.decode()
    assert 'data-testid="evidence-remove"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(remove_url(evidence), {"card": "B1"})
    assert response.status_code == 302 and response["Location"].endswith("#card-B1")
    assert not Evidence.objects.exists()
    assert not default_storage.exists(evidence.path)
    event = AuditEvent.objects.get(action="evidence.removed")
    assert event.summary == "错的.pdf" and event.before["items"] == ["B1"]
    assert event.before["sha256"] == evidence.sha256


def test_it_refuses_to_remove_evidence_after_submission(scoring, staff):
    from civicmark.campaigns.models import Enrollment

    attach(staff, scoring, "台账.pdf", PDF)
    evidence = Evidence.objects.get()
    Enrollment.objects.filter(pk=scoring["enrollments"]["C111"].pk).update(status="submitted")
    before = (Evidence.objects.count(), AuditEvent.objects.count())
    response = staff.post(remove_url(evidence), follow=True)
    assert (Evidence.objects.count(), AuditEvent.objects.count()) == before
    assert default_storage.exists(evidence.path)
    assert "can no longer be removed" in response.content.decode()
    page = staff.get(reverse("self_assessment", args=["c"]) + "?community=C111").content.decode()
    assert 'data-testid="evidence-remove"' not in page


@pytest.mark.parametrize("who", ["town_officer", "other_staff", "viewer", "nobody"])
def test_it_lets_no_one_but_the_communitys_staff_remove_evidence(scoring, world, client_for, who):
    attach(client_for(world.users["community_staff"]), scoring, "台账.pdf", PDF)
    evidence = Evidence.objects.get()
    before = (Evidence.objects.count(), AuditEvent.objects.count())
    response = client_for(world.users[who]).post(remove_url(evidence))
    assert response.status_code == 404
    assert (Evidence.objects.count(), AuditEvent.objects.count()) == before


# --- The campaign decides: missing evidence warns or blocks the submission ---------------------


def ready_to_submit(scoring, world):  # noqa: ANN001, ANN201
    """C111 self-assessing, every item scored; A1 and B1 ask for evidence, none is attached."""
    from civicmark.assessments.services import self_score_save
    from civicmark.campaigns.models import Enrollment

    scoring["standard"].items.filter(code__in=["A1", "B1"]).update(evidence="台账、照片")
    enrollment = scoring["enrollments"]["C111"]
    Enrollment.objects.filter(pk=enrollment.pk).update(status="self_assessing")
    enrollment.refresh_from_db()
    for item in scoring["items"].values():
        self_score_save(
            actor=world.users["community_staff"],
            enrollment=enrollment,
            item=item,
            points=item.points,
            explanation="自评",
        )
    return enrollment


def attach_to(client, scoring, name, item):  # noqa: ANN001, ANN201
    """The page's own document form (a card with a stored score posts its points too)."""
    return client.post(
        reverse("self_assessment", args=["c"]),
        {
            "community": "C111",
            "action": "evidence",
            "items": [scoring["items"][item].pk],
            "file": SimpleUploadedFile(name, PDF),
        },
    )


def submit(client, enrollment):  # noqa: ANN001, ANN201
    return client.post(
        reverse("communities", args=["c"]),
        {"action": "move", "to": "submitted", "enrollment": [enrollment.pk]},
        follow=True,
    )


def test_it_blocks_a_submission_without_evidence_when_the_campaign_says_so(scoring, world, staff):
    """The finding: a community was submitted and passed on with most items lacking evidence."""
    enrollment = ready_to_submit(scoring, world)
    type(scoring["campaign"]).objects.filter(pk=scoring["campaign"].pk).update(
        missing_evidence="block"
    )
    before = AuditEvent.objects.count()
    page = submit(staff, enrollment).content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == "self_assessing" and AuditEvent.objects.count() == before
    assert "2 items have no evidence yet" in page and "A1, B1" in page
    self_page = staff.get(reverse("self_assessment", args=["c"]) + "?community=C111")
    assert "accepts no submission while an item lacks its evidence" in self_page.content.decode()
    # With the evidence attached, the same submission goes through.
    attach_to(staff, scoring, "台账.pdf", "A1")
    attach_to(staff, scoring, "照片.pdf", "B1")
    submit(staff, enrollment)
    enrollment.refresh_from_db()
    assert enrollment.status == "submitted"


def test_it_only_warns_by_default_and_lists_the_items_without_evidence(scoring, world, staff):
    enrollment = ready_to_submit(scoring, world)
    assert scoring["campaign"].missing_evidence == "warn"
    attach_to(staff, scoring, "台账.pdf", "A1")
    page = staff.get(reverse("self_assessment", args=["c"]) + "?community=C111").content.decode()
    assert 'data-testid="evidence-rule"' in page and "B1" in page
    page = submit(staff, enrollment).content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == "submitted"
    assert "submitted with 1 items without evidence: B1" in page


def test_a_campaign_is_created_warning_unless_told_to_block(world, city):
    from civicmark.campaigns.services import campaign_create
    from civicmark.core.errors import ApplicationError
    from tests.factories import small_standard

    standard = small_standard(world)
    made = campaign_create(
        actor=None,
        slug="b",
        name="b",
        year=2026,
        division=world.d["C"],
        standard=standard,
        missing_evidence="block",
    )
    assert made.missing_evidence == "block"
    with pytest.raises(ApplicationError):
        campaign_create(
            actor=None,
            slug="x",
            name="x",
            year=2026,
            division=world.d["C"],
            standard=standard,
            missing_evidence="maybe",
        )
