from __future__ import annotations

from django.urls import path

from civicmark.notifications import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read/", views.notifications_read_all, name="notifications_read_all"),
    path("preferences/", views.notification_preferences, name="notification_preferences"),
    path("<uuid:public_id>/read/", views.notification_read, name="notification_read"),
]
