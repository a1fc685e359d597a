from django.urls import path

from . import views

app_name = "membership"

urlpatterns = [
    # Public pages a phone opens from a QR code
    path("join/status/", views.join_find, name="join_find"),
    path("join/<slug:org_code>/", views.join, name="join"),
    path("join/e/<slug:event_code>/", views.join, name="join_event"),
    path("join/status/<str:token>/", views.join_status, name="join_status"),
    path("join/status/<str:token>/card/", views.ecard, name="ecard"),
    path("membership/public-key/", views.public_key, name="public_key"),
    # Staff console
    path("membership/applications/", views.ApplicationListView.as_view(), name="application_list"),
    path("membership/applications/approve/", views.application_approve_bulk, name="application_approve_bulk"),
    path("membership/applications/<int:pk>/approve/", views.application_approve, name="application_approve"),
    path("membership/applications/<int:pk>/reject/", views.application_reject, name="application_reject"),
    path("membership/members/", views.MemberListView.as_view(), name="member_list"),
    path("membership/members/<int:pk>/", views.MemberDetailView.as_view(), name="member_detail"),
    path("membership/members/<int:pk>/transfer/", views.transfer_request, name="transfer_request"),
    path("membership/members/<int:pk>/status/", views.member_status, name="member_status"),
    path("membership/members/<int:pk>/employer/", views.member_employer, name="member_employer"),
    path("membership/members/<int:pk>/card/", views.member_card_issue, name="member_card_issue"),
    path("membership/members/cards/issue/", views.members_card_issue_bulk, name="members_card_issue_bulk"),
    path("membership/transfers/", views.TransferListView.as_view(), name="transfer_list"),
    path("membership/transfers/<int:pk>/<slug:what>/", views.transfer_decide, name="transfer_decide"),
    path("membership/cards/print/", views.card_print, name="card_print"),
    path("membership/cards/print/<int:pk>/", views.CardPrintJobView.as_view(), name="card_print_job"),
    path("membership/cards/print/<int:pk>/cards.pdf", views.card_print_file, name="card_print_file"),
    path("membership/cards/<int:pk>/<slug:what>/", views.card_action, name="card_action"),
    path("membership/events/", views.EventListView.as_view(), name="event_list"),
    path("membership/events/new/", views.EventCreateView.as_view(), name="event_create"),
    path("membership/events/<int:pk>/", views.EventDetailView.as_view(), name="event_detail"),
    path("membership/verify/", views.verify, name="verify"),
    path("membership/figures/", views.figures, name="figures"),
    path("membership/imports/new/", views.ImportCreateView.as_view(), name="import_create"),
    path("membership/imports/template.xlsx", views.import_template, name="import_template"),
    path("membership/imports/<int:pk>/", views.ImportDetailView.as_view(), name="import_detail"),
    path("membership/imports/<int:pk>/report.xlsx", views.import_report, name="import_report"),
]
