from django.urls import path

from . import views

app_name = "insurance"

# The paths users know from before these pages left the exchange app (bookmarks, receipts' links).
urlpatterns = [
    path("exchange/transfers/", views.TransferListView.as_view(), name="transfer_list"),
    path("exchange/transfers/new/", views.TransferCreateView.as_view(), name="transfer_create"),
    path("exchange/transfers/<int:pk>/", views.TransferDetailView.as_view(), name="transfer_detail"),
    path("exchange/transfers/<int:pk>/assign/", views.transfer_assign, name="transfer_assign"),
    path("exchange/transfers/<int:pk>/<slug:step>/", views.transfer_step, name="transfer_step"),
    path("exchange/rosters/", views.RosterListView.as_view(), name="roster_list"),
    path("exchange/rosters/new/", views.RosterImportView.as_view(), name="roster_create"),
    path("exchange/rosters/<int:pk>/", views.RosterDetailView.as_view(), name="roster_detail"),
    path("exchange/certification/", views.RunListView.as_view(), name="run_list"),
    path("exchange/certification/new/", views.RunCreateView.as_view(), name="run_create"),
    path("exchange/certification/figures/", views.certification_figures, name="certification_figures"),
    path("exchange/certification/<int:pk>/", views.RunDetailView.as_view(), name="run_detail"),
    path("exchange/certification/<int:pk>/decide/", views.findings_bulk, name="findings_bulk"),
    path("exchange/certification/<int:pk>/resend/", views.run_resend, name="run_resend"),
    path("exchange/findings/", views.FindingListView.as_view(), name="finding_list"),
    path("exchange/findings/<int:pk>/", views.FindingDetailView.as_view(), name="finding_detail"),
    path("exchange/findings/<int:pk>/decide/", views.finding_decide, name="finding_decide"),
    path("exchange/findings/<int:pk>/letter/", views.finding_letter, name="finding_letter"),
    # Public: the worker follows the transfer with the link on the receipt
    path("transfer/<str:token>/", views.transfer_status, name="transfer_status"),
]
