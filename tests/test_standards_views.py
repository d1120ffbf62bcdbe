"""Standards pages: everyone in the city reads them; only the municipal office changes them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from civicmark.core.models import AuditEvent
from civicmark.standards import formats
from civicmark.standards.models import Standard, Status
from civicmark.standards.services import standard_data, standard_import

from .test_authz_matrix import PERSONAS
from .test_standards import default_yaml


@pytest.fixture
def standard(city):
    return standard_import(
        actor=None, data=formats.from_yaml(default_yaml()), division=city, publish=True
    )[0]


@pytest.mark.parametrize("persona", PERSONAS)
def test_everyone_in_the_city_reads_the_standard_and_only_the_office_changes_it(
    world, client_for, standard, persona
):
    client = client_for(world.users[persona])
    reads = persona != "nobody"
    detail = client.get(reverse("standard_detail", args=[standard.public_id]))
    assert detail.status_code == (200 if reads else 404)
    if reads:
        page = detail.content.decode()
        assert "社区治安综合治理" in page and "一票否决" in page and "V2" in page
    for fmt in ("xlsx", "yaml"):
        assert client.get(
            reverse("standard_export", args=[standard.public_id, fmt])
        ).status_code == (200 if reads else 404)
    manages = persona == "city_admin"
    assert client.get(reverse("standard_import")).status_code == (200 if manages else 404)
    events = AuditEvent.objects.count()
    client.post(reverse("standard_new_draft", args=[standard.public_id]))
    assert Standard.objects.filter(slug=standard.slug).count() == (2 if manages else 1)
    assert (AuditEvent.objects.count() > events) == manages


def test_the_office_imports_a_workbook_and_publishes_it(world, client_for, standard):
    client = client_for(world.users["city_admin"])
    data = standard_data(standard)
    data.version = 2
    upload = SimpleUploadedFile("s.xlsx", formats.write_xlsx(data, chinese=True))
    response = client.post(reverse("standard_import"), {"file": upload, "publish": "on"})
    assert response.status_code == 302
    assert Standard.objects.get(slug=standard.slug, version=2).status == Status.PUBLISHED


def test_a_bad_upload_lists_its_errors_and_changes_nothing(world, client_for, standard):
    client = client_for(world.users["city_admin"])
    text = formats.to_yaml(standard_data(standard)).replace("department: FP", "department: NOPE")
    text = text.replace("version: 1", "version: 3")
    response = client.post(
        reverse("standard_import"), {"file": SimpleUploadedFile("s.yaml", text.encode())}
    )
    assert response.status_code == 422
    assert "NOPE" in response.content.decode()
    assert not Standard.objects.filter(version=3).exists()
    wrong = client.post(reverse("standard_import"), {"file": SimpleUploadedFile("s.pdf", b"%PDF")})
    assert wrong.status_code == 200 and not Standard.objects.filter(version=3).exists()
