from __future__ import annotations

from civicmark.accounts.management.commands import _export_base


class Command(_export_base.Command):
    pass
