from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "civicmark.notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Email and the webhook are channels of `notify` like any other (ADR 28).
        from civicmark.notifications.delivery import dispatch
        from civicmark.notifications.services import DISPATCHERS

        if dispatch not in DISPATCHERS:
            DISPATCHERS.append(dispatch)
