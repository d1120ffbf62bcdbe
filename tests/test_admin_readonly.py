"""The admin site writes nothing that a service owns (issue 14, item 7).

A superuser tries to add, change and delete through /admin/ every model our apps register there
(the people admin, in accounts, has its own tests): nothing changes and no audit event appears.
The one model the admin still edits, the level names, goes through its service and its event.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import models, transaction
from django.test import RequestFactory
from django.urls import reverse

from civicmark.core import audit
from civicmark.core.models import AuditEvent
from civicmark.divisions.models import Division, LevelLabel
from tests.factories import person

# The people admin (accounts) has its own tests, with its own owner.
OWN_APPS = {c.label for c in apps.get_app_configs() if c.name.startswith("civicmark.")}
OWN_APPS.discard("accounts")
ROUTED = {"divisions.LevelLabel"}  # changed through its service, tested below
REGISTERED = sorted(
    model._meta.label
    for model in admin.site._registry
    if model._meta.app_label in OWN_APPS and model._meta.label not in ROUTED
)


def fingerprint() -> str:
    """Every row of every table of our apps (and the people and their roles)."""
    digest = hashlib.sha256()
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        if model._meta.app_label in OWN_APPS | {"accounts"}:
            digest.update(model._meta.label.encode())
            digest.update(repr(list(model.objects.order_by("pk").values())).encode())
    return digest.hexdigest()


def an_instance(world: Any, label: str) -> models.Model:
    """A row to try to change: for a division, a town, which the test tries to move."""
    if label == "divisions.Division":
        return world.d["T11"]
    if label == "core.AuditEvent":
        with transaction.atomic():
            return audit.record(actor=None, action="test.event", object_type="test")
    if label.startswith("notifications."):
        _told(world)
    model = apps.get_model(label)
    instance = model.objects.order_by("pk").first()
    assert instance is not None, f"the world has no {label} to try"
    return instance


def _told(world: Any) -> None:
    """A notification and its email delivery (the world tells nobody anything by itself)."""
    from civicmark.notifications.models import Delivery
    from civicmark.notifications.services import notify

    with transaction.atomic():
        note = notify(
            [world.users["community_staff"]], event="task_due", key="admin", title="任务"
        )[0]
    delivery = Delivery.objects.create(
        recipient=note.recipient, channel="email", key="n:admin", subject="任务", text="任务"
    )
    delivery.notifications.add(note)


def form_data(instance: models.Model, superuser: Any) -> dict[str, Any]:
    """What the admin's change form would post for this row, plus empty inline formsets."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.primary_key or not field.editable:
            continue
        value = field.value_from_object(instance)
        if isinstance(value, bool):
            if value:
                data[field.name] = "on"
        elif value is not None:
            data[field.name] = str(value)
    model_admin = admin.site._registry[type(instance)]
    request = RequestFactory().get("/")
    request.user = superuser
    for inline in model_admin.get_inline_instances(request, instance):
        prefix = inline.get_formset(request, instance).get_default_prefix()
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data


def changed(instance: models.Model, data: dict[str, Any], world: Any) -> dict[str, Any]:
    """The same form with every plain text field edited (and a town moved to another county)."""
    out = dict(data)
    for field in instance._meta.concrete_fields:
        if (
            isinstance(field, models.CharField | models.TextField)
            and field.name in out
            and not field.choices
            and not field.unique
        ):
            out[field.name] = out[field.name] + "改"
    if isinstance(instance, Division):
        out["parent"] = str(world.d["K2"].pk)
    return out


def added(instance: models.Model, data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for field in instance._meta.concrete_fields:
        if isinstance(field, models.CharField) and field.unique and field.name in out:
            out[field.name] = "NEW" + out[field.name][:20]
    return out


def _url(instance: models.Model, view: str, *args: Any) -> str:
    return reverse(
        f"admin:{instance._meta.app_label}_{instance._meta.model_name}_{view}", args=args
    )


@pytest.fixture
def superuser(db):  # noqa: ANN001, ANN201
    return person("root", is_superuser=True, is_staff=True)


def test_every_model_of_ours_in_the_admin_is_tried():
    assert {"divisions.Division", "divisions.CommunityProfile", "core.AuditEvent"} <= set(
        REGISTERED
    )


@pytest.mark.django_db
@pytest.mark.parametrize("label", REGISTERED)
def test_the_admin_adds_changes_and_deletes_nothing(world, superuser, client_for, label):
    instance = an_instance(world, label)
    client = client_for(superuser)
    data = form_data(instance, superuser)
    before, events = fingerprint(), AuditEvent.objects.count()
    attempts = [
        (_url(instance, "add"), added(instance, data)),
        (_url(instance, "change", instance.pk), changed(instance, data, world)),
        (_url(instance, "delete", instance.pk), {"post": "yes"}),
        (
            _url(instance, "changelist"),
            {"action": "delete_selected", "_selected_action": [instance.pk], "post": "yes"},
        ),
    ]
    for url, payload in attempts:
        response = client.post(url, payload)
        assert response.status_code < 500, (url, response.status_code)
        assert fingerprint() == before, (url, "changed a row")
        assert AuditEvent.objects.count() == events, (url, "wrote an event")
    # Reading stays possible: the admin is a window on the data.
    assert client.get(_url(instance, "change", instance.pk)).status_code == 200
    assert client.get(_url(instance, "changelist")).status_code == 200


@pytest.mark.django_db
def test_a_town_moved_in_the_admin_stays_where_it_was(world, superuser, client_for):
    """The finding: the admin moved a division and kept its old path, without an event."""
    town = world.d["T11"]
    data = changed(town, form_data(town, superuser), world)
    client_for(superuser).post(_url(town, "change", town.pk), data)
    town.refresh_from_db()
    assert (town.parent_id, town.path) == (world.d["K1"].pk, "/C/K1/T11/")
    assert not AuditEvent.objects.filter(object_ref="T11").exists()


@pytest.mark.django_db
def test_level_names_are_set_in_the_admin_through_their_service(world, superuser, client_for):
    client = client_for(superuser)
    label = LevelLabel.objects.get(level="town")  # one per level, made by a migration
    old = {"name_zh": label.name_zh, "name_en": label.name_en}
    change = reverse("admin:divisions_levellabel_change", args=[label.pk])
    response = client.post(change, {"name_zh": "街道", "name_en": "Subdistrict"})
    assert response.status_code == 302
    label.refresh_from_db()
    assert (label.name_zh, label.name_en) == ("街道", "Subdistrict")
    event = AuditEvent.objects.get(action="level_label.saved")
    changed_names = [f for f in old if old[f] != getattr(label, f)]
    assert (event.actor, event.via, event.object_ref) == (superuser, "admin", "town")
    assert event.before == {f: old[f] for f in changed_names}
    assert event.after == {f: getattr(label, f) for f in changed_names}
    # Never added, deleted or moved to another level here.
    before, events = fingerprint(), AuditEvent.objects.count()
    client.post(reverse("admin:divisions_levellabel_delete", args=[label.pk]), {"post": "yes"})
    client.post(
        reverse("admin:divisions_levellabel_add"),
        {"level": "town", "name_zh": "镇", "name_en": "Town"},
    )
    client.post(change, {"level": "county", "name_zh": "街道", "name_en": "Subdistrict"})
    assert fingerprint() == before and AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "label",
    [
        "auth.Group",
        "otp_totp.TOTPDevice",
        "axes.AccessAttempt",
        "axes.AccessLog",
        "axes.AccessFailureLog",
    ],
)
def test_groups_and_second_factor_devices_are_read_only_in_the_admin(label, rf):
    """A group's permissions (revealing ID numbers) and a person's second factor change only
    through audited services, never in the admin."""
    model = apps.get_model(label)
    model_admin = admin.site._registry[model]
    request = rf.get("/admin/")
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


@pytest.mark.django_db
def test_the_admin_shows_no_second_factor_key(client_for, superuser):
    """A superuser reading the device pages must not learn anyone's TOTP key (or its QR code)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    page = client_for(superuser).get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200
    assert device.key not in page.content.decode()
    assert "qrcode" not in page.content.decode().lower()


@pytest.mark.django_db
def test_the_admin_sets_no_password(world, client_for, superuser):
    """A superuser who set an assessor's password in the admin signed in as him, with no trace."""
    assessor = world.users["assessor"]
    before, events = assessor.password, AuditEvent.objects.count()
    url = f"/admin/accounts/user/{assessor.pk}/password/"
    new = "Anping-Qingyuan-2026"
    response = client_for(superuser).post(url, {"password1": new, "password2": new})
    assert response.status_code == 403
    assessor.refresh_from_db()
    assert assessor.password == before and AuditEvent.objects.count() == events
