"""The second factor (TOTP, through django-otp): who must use it, and every write to devices.

MLPS level 3 asks administrators for two factors. Here that means superusers, municipal office
administrators and county officers: they grant roles and lead rounds. Anyone else may enrol a
device of his own; once he has one, he is asked for it like them.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from civicmark.accounts import authz
from civicmark.accounts.models import User
from civicmark.accounts.roles import Role
from civicmark.core import audit
from civicmark.core.errors import ApplicationError

PRIVILEGED_ROLES = {Role.CITY_ADMIN, Role.COUNTY_OFFICER}
# A device made by `civicmark demo`: its code may be printed by `civicmark totp`.
DEMO_DEVICE = "demo"


def is_privileged(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_superuser or authz.roles_of(user) & PRIVILEGED_ROLES)


def has_device(user: Any) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def new_secret() -> str:
    """A fresh key for enrolment, hex-encoded as django-otp stores it (20 bytes, as RFC 6238)."""
    return random_hex(20)


def secret_text(key_hex: str) -> str:
    """The key as an authenticator app takes it typed: base32, in groups of four."""
    b32 = base64.b32encode(bytes.fromhex(key_hex)).decode()
    return " ".join(b32[i : i + 4] for i in range(0, len(b32), 4))


def provisioning_uri(user: User, key_hex: str) -> str:
    return TOTPDevice(user=user, key=key_hex).config_url


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG (the page's CSP allows no external image)."""
    return segno.make(uri, error="m").svg_inline(scale=4, title=_("TOTP QR code"))


def matching_step(key_hex: str, code: str) -> int | None:
    """The time step that this code belongs to (now, or one step either side), or None."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = TOTP(bytes.fromhex(key_hex))
    totp.time = time.time()
    return totp.t() if totp.verify(int(code), tolerance=1) else None


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def totp_device_confirm(
    *, actor: Any, user: User, key: str, step: int, name: str = "phone", via: str = "web"
) -> TOTPDevice:
    """Store the person's confirmed device; the code that confirmed it may not be used again."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(
            user=user, name=name, key=key, confirmed=True, last_t=step
        )
        audit.record(
            actor=actor,
            via=via,
            action="otp.enrolled",
            object_type="user",
            object_ref=user.username,
            scope_path=_scope(user),
            summary=name,
        )
    return device


def totp_devices_reset(*, actor: Any, user: User, via: str = "cli") -> int:
    """Forget the person's devices (a lost phone): at his next sign-in he enrols again."""
    if actor is not None and not authz.can_manage_user(actor, user):
        raise ApplicationError(_("You may not change this person."))
    with transaction.atomic():
        deleted, _detail = TOTPDevice.objects.filter(user=user).delete()
        if deleted:
            audit.record(
                actor=actor,
                via=via,
                action="otp.reset",
                object_type="user",
                object_ref=user.username,
                scope_path=_scope(user),
                before={"devices": deleted},
            )
    return deleted


def _scope(user: User) -> str:
    paths = sorted(g.path for g in authz.grants(user))
    return paths[0] if paths else ""


def otp_required() -> bool:
    return bool(settings.CIVICMARK_OTP_REQUIRED)
