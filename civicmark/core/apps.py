from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "civicmark.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.models.signals import pre_save

        from civicmark.core.lengths import refuse_text_past_its_column

        # Every model's rows, whoever writes them (see core/lengths.py).
        pre_save.connect(refuse_text_past_its_column, dispatch_uid="core.text_lengths")
        # The task framework's own periodic job (pruning finished tasks), declared beside it.
        from civicmark.core import tasks  # noqa: F401
