"""The quality pages (issue 17), included from the root URLs under a round's address."""

from __future__ import annotations

from django.urls import path

from civicmark.quality import appeal_views, sampling_views, views

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
    path(f"{ROUND}sample/", sampling_views.sample_overview, name="sample_overview"),
    path(f"{ROUND}sample/settings/", sampling_views.sample_settings, name="sample_settings"),
    path(f"{ROUND}sample/draw/", sampling_views.sample_draw, name="sample_draw"),
    path(f"{ROUND}sample/<str:code>/", sampling_views.sample_county, name="sample_county"),
    path(f"{ROUND}appeals/", appeal_views.appeal_round, name="appeal_round"),
    path(f"{ROUND}appeals/new/<str:code>/", appeal_views.appeal_new, name="appeal_new"),
    path(f"{ROUND}appeals/<uuid:public_id>/", appeal_views.appeal_detail, name="appeal_detail"),
    path(
        f"{ROUND}appeals/<uuid:public_id>/assign/",
        appeal_views.appeal_assign,
        name="appeal_assign",
    ),
    path(
        f"{ROUND}appeals/<uuid:public_id>/files/<uuid:file_id>/",
        appeal_views.appeal_document,
        name="appeal_document",
    ),
    path(
        "campaigns/<slug:slug>/appeals/<str:code>/",
        appeal_views.appeal_community,
        name="appeal_community",
    ),
]
