"""Nobody who manages a person signs in as him (issue 14): a county officer asked for a one-time
password link for a county assessor who had set his own password, set it, and scored as him;
setting a password through a link left no trace."""

from __future__ import annotations

from django.urls import reverse

from civicmark.accounts.models import User
from civicmark.accounts.services import password_link, person_create
from civicmark.core.models import AuditEvent


def test_a_manager_gets_no_link_for_a_person_who_set_his_password(world, client_for):
    assessor = world.users["assessor"]  # K1's assessor, who has a password of his own
    client = client_for(world.users["county_officer"])
    events, password = AuditEvent.objects.count(), assessor.password
    page = client.post(reverse("person_link", args=[assessor.public_id]), follow=True)
    assert "/accounts/set-password/" not in page.content.decode()
    assert "system administrator" in page.content.decode() or "系统管理员" in page.content.decode()
    assert AuditEvent.objects.count() == events
    assessor.refresh_from_db()
    assert assessor.password == password


def test_a_manager_still_gets_the_link_of_a_new_person_and_a_superuser_any(world, client_for):
    new = person_create(
        actor=world.users["county_officer"],
        username="newcomer",
        full_name="新人",
        role="viewer",
        division=world.d["K1"],
    )
    page = client_for(world.users["county_officer"]).post(
        reverse("person_link", args=[new.public_id])
    )
    assert "/accounts/set-password/" in page.content.decode()
    root = User.objects.create_superuser("root", password="x-root-password-1")
    page = client_for(root).post(reverse("person_link", args=[world.users["assessor"].public_id]))
    assert "/accounts/set-password/" in page.content.decode()


def test_setting_a_password_through_a_link_is_recorded(world, client):
    new = person_create(
        actor=None, username="newcomer", full_name="新人", role="viewer", division=world.d["K1"]
    )
    link = password_link(new)
    path = link[link.index("/accounts/") :]
    form = client.get(path, follow=True)
    password = "Qingyuan-Anping-2026"
    client.post(form.redirect_chain[-1][0], {"new_password1": password, "new_password2": password})
    new.refresh_from_db()
    assert new.check_password(password)
    event = AuditEvent.objects.get(action="person.password_set")
    assert event.actor == new and event.object_ref == "newcomer"
