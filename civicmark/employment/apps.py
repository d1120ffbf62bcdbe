from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmploymentConfig(AppConfig):
    name = "civicmark.employment"
    label = "employment"
    verbose_name = _("Employment station")

    def ready(self) -> None:
        from civicmark.employment import pii

        pii.scrub_logs()  # no ID number ever reaches a log line, whoever logs it
