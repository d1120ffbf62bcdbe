from __future__ import annotations

from civicmark.divisions.imports import divisions_import
from civicmark.divisions.management.commands import _import_base


class Command(_import_base.Command):
    help = (
        "Import divisions and community profiles from .xlsx or .csv (all or nothing, idempotent)."
    )
    importer = staticmethod(divisions_import)
