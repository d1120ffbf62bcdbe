from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResultsConfig(AppConfig):
    name = "civicmark.results"
    label = "results"
    verbose_name = _("Results")

    def ready(self) -> None:
        from civicmark.results import writers  # noqa: F401  (registers the long exports)
