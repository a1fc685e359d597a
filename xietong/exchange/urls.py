from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    # Between nodes (signed, no session)
    path("exchange/inbox/", views.inbox, name="inbox"),
    path("exchange/registry/", views.registry, name="registry"),
    # Staff console
    path("exchange/", views.operations, name="operations"),
    path("exchange/messages/", views.MessageListView.as_view(), name="message_list"),
    path("exchange/nodes/<slug:node_id>/revoke/", views.node_revoke, name="node_revoke"),
    path("exchange/arrears/", views.ArrearsListView.as_view(), name="arrears_list"),
    path("exchange/arrears/new/", views.ArrearsCreateView.as_view(), name="arrears_create"),
    path("exchange/arrears/<int:pk>/", views.ArrearsDetailView.as_view(), name="arrears_detail"),
    path("exchange/arrears/<int:pk>/remove/", views.arrears_remove, name="arrears_remove"),
    path("exchange/transfers/", views.TransferListView.as_view(), name="transfer_list"),
    path("exchange/transfers/new/", views.TransferCreateView.as_view(), name="transfer_create"),
    path("exchange/transfers/<int:pk>/", views.TransferDetailView.as_view(), name="transfer_detail"),
    path("exchange/transfers/<int:pk>/<slug:step>/", views.transfer_step, name="transfer_step"),
    path("exchange/rosters/", views.RosterListView.as_view(), name="roster_list"),
    path("exchange/rosters/new/", views.RosterImportView.as_view(), name="roster_create"),
    path("exchange/rosters/<int:pk>/", views.RosterDetailView.as_view(), name="roster_detail"),
    path("exchange/certification/", views.RunListView.as_view(), name="run_list"),
    path("exchange/certification/new/", views.RunCreateView.as_view(), name="run_create"),
    path("exchange/certification/figures/", views.certification_figures, name="certification_figures"),
    path("exchange/certification/<int:pk>/", views.RunDetailView.as_view(), name="run_detail"),
    path("exchange/certification/<int:pk>/decide/", views.findings_bulk, name="findings_bulk"),
    path("exchange/findings/<int:pk>/", views.FindingDetailView.as_view(), name="finding_detail"),
    path("exchange/findings/<int:pk>/decide/", views.finding_decide, name="finding_decide"),
    path("exchange/findings/<int:pk>/letter/", views.finding_letter, name="finding_letter"),
    # Public: the worker follows the transfer with the link on the receipt
    path("transfer/<str:token>/", views.transfer_status, name="transfer_status"),
]
