from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    # Public: signing in, installing
    path("portal/signin/", views.signin, name="signin"),
    path("portal/signin/code/", views.code, name="code"),
    path("portal/signout/", views.signout, name="signout"),
    path("portal/manifest.webmanifest", views.manifest, name="manifest"),
    path("portal/sw.js", views.service_worker, name="service_worker"),
    # The member's screens (session.member_required)
    path("portal/", views.home, name="home"),
    path("portal/card/", views.card, name="card"),
    path("portal/union/", views.union, name="union"),
    path("portal/benefits/", views.benefits, name="benefits"),
    path("portal/requests/", views.requests, name="requests"),
    path("portal/requests/new/", views.request_new, name="request_new"),
    path("portal/requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("portal/applications/", views.applications, name="applications"),
    path("portal/notifications/", views.notifications, name="notifications"),
]
