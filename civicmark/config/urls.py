from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import TemplateView

from civicmark.accounts import signin, token_views
from civicmark.accounts import views as accounts
from civicmark.accounts.places import views as divisions
from civicmark.api.api import api
from civicmark.assessments import notice_views
from civicmark.assessments import views as assessments
from civicmark.campaigns import views as campaigns
from civicmark.core import views as core
from civicmark.employment import views as employment
from civicmark.home import audit
from civicmark.home import views as home
from civicmark.results import views as results
from civicmark.standards import views as standards
from civicmark.surveys import views as surveys

urlpatterns = [
    path("", home.home, name="home"),
    path("health/", core.health, name="health"),
    path("audit/", audit.audit_list, name="audit_list"),
    path("audit/export.csv", audit.audit_export, name="audit_export"),
    path("accounts/login/", signin.SignInView.as_view(), name="login"),
    path("accounts/code/", signin.otp_verify, name="otp_verify"),
    path("accounts/code/new/", signin.otp_enrol, name="otp_enrol"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "accounts/set-password/<uidb64>/<token>/",
        accounts.SetPasswordView.as_view(),
        name="set_password",
    ),
    path(
        "accounts/set-password/done/",
        TemplateView.as_view(template_name="registration/set_password_done.html"),
        name="set_password_done",
    ),
    path("accounts/tokens/", token_views.token_list, name="token_list"),
    path("accounts/tokens/<uuid:public_id>/revoke/", token_views.token_revoke, name="token_revoke"),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("inbox/", include("civicmark.notifications.urls")),
    path("employment/", employment.station_home, name="employment_home"),
    path("employment/names/", employment.names, name="employment_names"),
    path(
        "employment/residents/<uuid:public_id>/",
        employment.resident_detail,
        name="employment_resident",
    ),
    path(
        "employment/referrals/<uuid:public_id>/slip/",
        employment.referral_slip,
        name="employment_slip",
    ),
    path("employment/fairs/<uuid:public_id>/", employment.fair_detail, name="employment_fair"),
    path("employment/<str:code>/", employment.ledger, name="employment_ledger"),
    path("employment/<str:code>/ledger.xlsx", employment.ledger_export, name="employment_export"),
    path("employment/<str:code>/fairs/", employment.fairs, name="employment_fairs"),
    path(
        "employment/<str:code>/reconcile/", employment.reconciliation, name="employment_reconcile"
    ),
    path("employment/<str:code>/coverage/", employment.coverage_page, name="employment_coverage"),
    path("employment/<str:code>/notice/", employment.recognition_notice, name="employment_notice"),
    path("employment/<str:code>/jobs/", employment.job_bank, name="employment_jobs"),
    path(
        "employment/<str:code>/indicators/", employment.indicator_page, name="employment_indicators"
    ),
    path("s/", surveys.answer_page, name="survey_answer_start"),
    path("s/<str:code>/", surveys.answer_page, name="survey_answer"),
    path("surveys/<uuid:public_id>/", surveys.survey_detail, name="survey_detail"),
    path("surveys/<uuid:public_id>/enter/", surveys.enter, name="survey_enter"),
    path("surveys/<uuid:public_id>/export/<str:kind>/", surveys.export, name="survey_export"),
    path("surveys/<uuid:public_id>/<str:code>/cards/", surveys.door_cards, name="survey_cards"),
    path(
        "surveys/<uuid:public_id>/<str:code>/substitutions/",
        surveys.substitutions,
        name="survey_substitutions",
    ),
    path("surveys/<uuid:public_id>/<str:code>/results/", surveys.results, name="survey_results"),
    path("survey-frames/<str:code>/", surveys.frame_upload, name="survey_frame"),
    path(
        "campaigns/<slug:slug>/rounds/<int:number>/surveys/",
        surveys.survey_list,
        name="survey_list",
    ),
    path("jobs/<str:code>/", employment.public_jobs, name="public_jobs"),
    path("jobs/<str:code>/poster/", employment.public_poster, name="public_poster"),
    path("names/", divisions.name_search, name="name_search"),
    path("divisions/", divisions.division_list, name="division_list"),
    path("divisions/import/", divisions.division_import, name="division_import"),
    path("divisions/export.<str:fmt>", divisions.division_export, name="division_export"),
    path("divisions/<str:code>/", divisions.division_detail, name="division_detail"),
    path("divisions/<str:code>/profile/", divisions.profile_edit, name="profile_edit"),
    path("divisions/<str:code>/edit/", divisions.division_edit, name="division_edit"),
    path("departments/", divisions.department_list, name="department_list"),
    path("departments/new/", divisions.department_edit, name="department_create"),
    path("departments/import/", divisions.department_import, name="department_import"),
    path("departments/export.<str:fmt>", divisions.department_export, name="department_export"),
    path("departments/<str:code>/edit/", divisions.department_edit, name="department_edit"),
    path("groups/", divisions.group_list, name="group_list"),
    path("groups/new/", divisions.group_create, name="group_create"),
    path("groups/<uuid:public_id>/", divisions.group_detail, name="group_detail"),
    path(
        "groups/<uuid:public_id>/members/<uuid:member_id>/remove/",
        divisions.group_member_remove,
        name="group_member_remove",
    ),
    path("people/", accounts.person_list, name="person_list"),
    path("people/new/", accounts.person_create, name="person_create"),
    path("people/import/", accounts.person_import, name="person_import"),
    path("people/<uuid:public_id>/", accounts.person_detail, name="person_detail"),
    path("people/<uuid:public_id>/roles/", accounts.role_grant, name="role_grant"),
    path(
        "people/<uuid:public_id>/roles/<uuid:role_id>/revoke/",
        accounts.role_revoke,
        name="role_revoke",
    ),
    path("people/<uuid:public_id>/link/", accounts.person_link, name="person_link"),
    path("standards/", standards.standard_list, name="standard_list"),
    path("standards/import/", standards.standard_import_view, name="standard_import"),
    path("standards/<uuid:public_id>/", standards.standard_detail, name="standard_detail"),
    path(
        "standards/<uuid:public_id>/export.<str:fmt>",
        standards.standard_export,
        name="standard_export",
    ),
    path(
        "standards/<uuid:public_id>/publish/", standards.standard_publish, name="standard_publish"
    ),
    path(
        "standards/<uuid:public_id>/new-draft/",
        standards.standard_new_draft,
        name="standard_new_draft",
    ),
    path("standards/<uuid:public_id>/retire/", standards.standard_retire, name="standard_retire"),
    path("campaigns/", campaigns.campaign_list, name="campaign_list"),
    path("campaigns/<slug:slug>/", campaigns.campaign_overview, name="campaign_overview"),
    path("campaigns/<slug:slug>/tasks/", campaigns.task_list, name="task_list"),
    path(
        "campaigns/<slug:slug>/tasks/<uuid:public_id>/", campaigns.task_update, name="task_update"
    ),
    path(
        "campaigns/<slug:slug>/tasks/<uuid:public_id>/attach/",
        campaigns.task_attach,
        name="task_attach",
    ),
    path(
        "campaigns/<slug:slug>/tasks/<uuid:public_id>/owner/",
        campaigns.task_assign,
        name="task_assign",
    ),
    path(
        "campaigns/<slug:slug>/tasks/<uuid:public_id>/files/<uuid:file_id>/",
        campaigns.task_file,
        name="task_file",
    ),
    path("campaigns/<slug:slug>/phases/<slug:key>/", campaigns.phase_edit, name="phase_edit"),
    path(
        "campaigns/<slug:slug>/communities/<str:code>/",
        campaigns.community_checklist,
        name="community_checklist",
    ),
    path(
        "campaigns/<slug:slug>/rounds/<int:number>/communities/<str:code>/",
        results.community_result,
        name="community_result",
    ),
    path(
        "campaigns/<slug:slug>/rounds/<int:number>/communities/<str:code>/sheet.xlsx",
        results.community_sheet,
        name="community_sheet",
    ),
    path("campaigns/<slug:slug>/rounds/<int:number>/ranking/", results.ranking, name="ranking"),
    path("campaigns/<slug:slug>/results/", results.results_home, name="results_home"),
    path("campaigns/<slug:slug>/dashboard/", results.dashboard, name="dashboard"),
    path(
        "campaigns/<slug:slug>/rounds/<int:number>/communities/<str:code>/report.pdf",
        results.community_report,
        name="community_report",
    ),
    path(
        "campaigns/<slug:slug>/rounds/<int:number>/certificates/",
        results.certificates,
        name="certificates",
    ),
    path(
        "campaigns/<slug:slug>/certificates/<uuid:public_id>.pdf",
        results.certificate_pdf,
        name="certificate_pdf",
    ),
    path(
        "campaigns/<slug:slug>/rounds/<int:number>/export/",
        results.round_export,
        name="round_export",
    ),
    path("exports/<uuid:public_id>/", results.export_job, name="export_job"),
    path("exports/<uuid:public_id>/file/", results.export_file, name="export_file"),
    path("v/<str:code>/", results.verify, name="verify"),
    # The public notice before naming (ADR 22): public pages, then the city's.
    path("notice/", notice_views.notice_list, name="notice_list"),
    path("notice/<uuid:public_id>/", notice_views.notice_public, name="notice_public"),
    path(
        "notice/<uuid:public_id>/received/<str:reference>/",
        notice_views.notice_received,
        name="notice_received",
    ),
    path(
        "campaigns/<slug:slug>/rounds/<int:number>/notices/",
        notice_views.round_notices,
        name="round_notices",
    ),
    path(
        "campaigns/<slug:slug>/notices/<uuid:public_id>/",
        notice_views.notice_detail,
        name="notice_detail",
    ),
    path("campaigns/<slug:slug>/acceptance/", assessments.communities, name="communities"),
    path(
        "campaigns/<slug:slug>/self-assessment/",
        assessments.self_assessment,
        name="self_assessment",
    ),
    path(
        "campaigns/<slug:slug>/self-assessment/<str:code>/item/<str:item>/",
        assessments.self_assessment_item,
        name="self_assessment_item",
    ),
    path(
        "campaigns/<slug:slug>/evidence/<uuid:public_id>/",
        assessments.evidence_file,
        name="evidence_file",
    ),
    path(
        "campaigns/<slug:slug>/evidence/<uuid:public_id>/preview/",
        assessments.evidence_preview,
        name="evidence_preview",
    ),
    path(
        "campaigns/<slug:slug>/evidence/<uuid:public_id>/remove/",
        assessments.evidence_remove,
        name="evidence_remove",
    ),
    path(
        "campaigns/<slug:slug>/rounds/<int:number>/",
        assessments.round_detail,
        name="round_detail",
    ),
    path(
        "campaigns/<slug:slug>/rounds/<int:number>/disagreements/",
        assessments.round_disagreements,
        name="round_disagreements",
    ),
    path(
        "campaigns/<slug:slug>/rounds/<int:number>/sheet/",
        assessments.score_sheet,
        name="score_sheet",
    ),
    path("campaigns/<slug:slug>/rectification/", assessments.rectifications, name="rectifications"),
    path("campaigns/<slug:slug>/commendation/", assessments.commendation, name="commendation"),
    path(
        "campaigns/<slug:slug>/rectification/files/<uuid:public_id>/",
        assessments.rectification_file,
        name="rectification_file",
    ),
    path(
        "campaigns/<slug:slug>/rounds/<int:number>/score/",
        assessments.score_home,
        name="score_home",
    ),
    path(
        "campaigns/<slug:slug>/rounds/<int:number>/score/<str:code>/",
        assessments.score_community,
        name="score_community",
    ),
    path(
        "campaigns/<slug:slug>/rounds/<int:number>/score/<str:code>/items/<str:item>/",
        assessments.score_item,
        name="score_item",
    ),
    path(
        "campaigns/<slug:slug>/rounds/<int:number>/score/<str:code>/vetoes/",
        assessments.score_vetoes,
        name="score_vetoes",
    ),
    path(
        "campaigns/<slug:slug>/rounds/<int:number>/score/<str:code>/employment-figures/",
        employment.sign_employment_figures,
        name="sign_employment_figures",
    ),
    path("campaigns/<slug:slug>/meetings/", campaigns.meeting_list, name="meeting_list"),
    path(
        "campaigns/<slug:slug>/meetings/<uuid:public_id>/",
        campaigns.meeting_detail,
        name="meeting_detail",
    ),
    path("", include("civicmark.quality.urls")),
    path("", include("civicmark.results.urls")),
    path("admin/", admin.site.urls),
]
