from django.urls import path

from . import metrics, views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("health/", views.health, name="health"),
    path("health/<slug:name>/", views.health_process, name="health_process"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("notifications/", views.NotificationListView.as_view(), name="notification_list"),
    path("notifications/read/", views.notification_read, name="notification_read"),
    path("notifications/read-all/", views.notifications_read_all, name="notifications_read_all"),
    path("orgs/", views.OrganizationTreeView.as_view(), name="organization_tree"),
    path("orgs/<int:pk>/", views.OrganizationDetailView.as_view(), name="organization_detail"),
    path("employers/", views.EmployerListView.as_view(), name="employer_list"),
    path("employers/new/", views.EmployerFormView.as_view(), name="employer_create"),
    path("employers/<int:pk>/", views.EmployerDetailView.as_view(), name="employer_detail"),
    path("employers/<int:pk>/edit/", views.EmployerFormView.as_view(), name="employer_edit"),
    path("people/", views.PersonListView.as_view(), name="person_list"),
    path("people/new/", views.PersonCreateView.as_view(), name="person_create"),
    path("people/lookup/", views.person_lookup, name="person_lookup"),
    path("people/<int:pk>/", views.PersonDetailView.as_view(), name="person_detail"),
    path("people/<int:pk>/reveal/", views.person_reveal, name="person_reveal"),
    path("audit/", views.AuditListView.as_view(), name="audit_list"),
    path("calendar/", views.CalendarView.as_view(), name="calendar"),
    path("exports/<int:pk>/", views.ExportDetailView.as_view(), name="export_detail"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("accounts/users/", views.UserListView.as_view(), name="user_list"),
    path("accounts/users/new/", views.UserCreateView.as_view(), name="user_create"),
    path("accounts/users/<int:pk>/", views.user_detail, name="user_detail"),
    path("accounts/users/<int:pk>/toggle/", views.user_toggle_active, name="user_toggle_active"),
    path("accounts/users/<int:pk>/revoke/<int:assignment_pk>/", views.user_revoke, name="user_revoke"),
]
