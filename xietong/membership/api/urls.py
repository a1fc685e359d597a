from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("members", views.MemberViewSet, basename="member")

urlpatterns = [path("cards/verify/", views.card_verify_endpoint, name="card-verify"), *router.urls]
