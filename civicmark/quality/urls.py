"""The quality pages (issue 17), included from the root URLs under a round's address."""

from __future__ import annotations

from django.urls import path

from civicmark.quality import views

ROUND = "campaigns/<slug:slug>/rounds/<int:number>/"

urlpatterns = [
    path(f"{ROUND}calibration/", views.calibration_list, name="calibration_list"),
    path(
        f"{ROUND}calibration/<uuid:public_id>/",
        views.calibration_detail,
        name="calibration_detail",
    ),
    path(
        f"{ROUND}calibration/<uuid:public_id>/close/",
        views.calibration_close,
        name="calibration_close",
    ),
    path(
        f"{ROUND}calibration/<uuid:public_id>/sheet/",
        views.calibration_sheet,
        name="calibration_sheet",
    ),
    path(f"{ROUND}drift/", views.round_drift, name="round_drift"),
]
