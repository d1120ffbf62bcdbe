"""Commendation: the advanced units are proposed, and the municipal office confirms the list."""

from __future__ import annotations

from django.urls import reverse

from civicmark.accounts.models import User
from civicmark.assessments.models import Transition


def test_the_city_confirms_the_proposed_list(demo, client):
    url = reverse("commendation", args=[demo.slug])
    jiefang = demo.enrollments.get(community__code="990121100001")
    assert jiefang.status == "proposed"
    # The town officer sees the list but may not confirm it.
    client.force_login(User.objects.get(username="town"))
    page = client.get(url).content.decode()
    assert "解放路社区" in page and 'value="confirm"' not in page
    client.post(url, {"action": "confirm", "enrollment": [jiefang.pk]})
    jiefang.refresh_from_db()
    assert jiefang.status == "proposed"
    city = User.objects.get(username="city")
    client.force_login(city)
    page = client.get(url).content.decode()
    assert 'value="confirm"' in page and "99.50" in page
    # Declining needs a reason; without one nothing changes.
    client.post(url, {"action": "decline", "enrollment": [jiefang.pk], "comment": ""})
    jiefang.refresh_from_db()
    assert jiefang.status == "proposed"
    client.post(url, {"action": "confirm", "enrollment": [jiefang.pk]})
    jiefang.refresh_from_db()
    assert jiefang.status == "commended"
    last = Transition.objects.filter(enrollment=jiefang).latest("at", "id")
    assert (last.from_status, last.to_status, last.actor) == ("proposed", "commended", city)
    page = client.get(url).content.decode()
    assert 'data-testid="commended"' in page and "解放路社区" in page


def test_a_standard_unit_below_the_highest_level_cannot_be_proposed(demo, client):
    client.force_login(User.objects.get(username="city"))
    hepingli = demo.enrollments.get(community__code="990121100002")  # 86.5: standard, not advanced
    client.post(
        reverse("commendation", args=[demo.slug]),
        {"action": "propose", "enrollment": [hepingli.pk]},
    )
    hepingli.refresh_from_db()
    assert hepingli.status == "standard_unit"
