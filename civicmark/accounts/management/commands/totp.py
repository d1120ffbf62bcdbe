from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from civicmark.accounts import twofactor
from civicmark.accounts.models import User
from civicmark.core.commands import CivicCommand


class Command(CivicCommand):
    help = (
        "Print the current TOTP code of a demo account (made by `civicmark demo`), or with "
        "--reset forget a person's second factor (a lost phone): he enrols again at sign-in."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--reset", action="store_true", help="remove the person's devices (audited)"
        )
        self.add_user_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist:
            raise CommandError(f"No user named {options['username']!r}.") from None
        if options["reset"]:
            removed = twofactor.totp_devices_reset(actor=self.acting_user(options), user=user)
            self.stdout.write(
                f"{removed} device(s) removed; {user.username} enrols at next sign-in."
            )
            return
        device = TOTPDevice.objects.filter(
            user=user, confirmed=True, name=twofactor.DEMO_DEVICE
        ).first()
        if device is None:
            # A real person's code is on his phone only: the operator cannot print it.
            raise CommandError(
                f"{user.username} has no demo device; codes are printed for demo accounts only."
            )
        self.stdout.write(twofactor.current_code(device))
