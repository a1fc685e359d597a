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
    # Public: the worker follows the transfer with the link on the receipt
    path("transfer/<str:token>/", views.transfer_status, name="transfer_status"),
]
