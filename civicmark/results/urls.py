"""The re-checks of a campaign's titles (issue 17 item 4), included from the root URLs."""

from __future__ import annotations

from django.urls import path

from civicmark.results import title_views, upward_views

TITLES = "campaigns/<slug:slug>/titles/"
UPWARD = "campaigns/<slug:slug>/reports-to-city/"

urlpatterns = [
    path(TITLES, title_views.titles_page, name="titles"),
    path(f"{TITLES}draw/", title_views.titles_draw, name="titles_draw"),
    path(f"{TITLES}<uuid:public_id>/record/", title_views.title_recheck, name="title_recheck"),
    path(
        f"{TITLES}<uuid:public_id>/follow-up/",
        title_views.title_follow_up,
        name="title_follow_up",
    ),
    path(f"{TITLES}<uuid:public_id>/withdraw/", title_views.title_withdraw, name="title_withdraw"),
    path(
        f"{TITLES}files/<uuid:public_id>/",
        title_views.title_recheck_file,
        name="title_recheck_file",
    ),
    # The county's reports to the city (issue 18 item 6, ADR 25).
    path(UPWARD, upward_views.upward_reports, name="upward_reports"),
    path(f"{UPWARD}<uuid:public_id>/", upward_views.upward_report, name="upward_report"),
    path(
        f"{UPWARD}<uuid:public_id>/rebuild/",
        upward_views.upward_report_rebuild,
        name="upward_report_rebuild",
    ),
    path(
        f"{UPWARD}<uuid:public_id>/<str:kind>/",
        upward_views.upward_report_file,
        name="upward_report_file",
    ),
]
