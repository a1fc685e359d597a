from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    # Between nodes (signed, no session)
    path("exchange/inbox/", views.inbox, name="inbox"),
    path("exchange/registry/", views.registry, name="registry"),
    path("exchange/files/<slug:message_id>/<str:name>/", views.file_transfer, name="file_transfer"),
    # Staff console
    path("exchange/", views.operations, name="operations"),
    path("exchange/messages/", views.MessageListView.as_view(), name="message_list"),
    path("exchange/nodes/<slug:node_id>/revoke/", views.node_revoke, name="node_revoke"),
]
