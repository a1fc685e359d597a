from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("members", views.MemberViewSet, basename="member")

urlpatterns = [path("cards/verify/", views.CardVerifyView.as_view(), name="card-verify"), *router.urls]
