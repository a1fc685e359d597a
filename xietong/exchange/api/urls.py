from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("arrears", views.ArrearsListingViewSet, basename="arrears")
router.register("transfers", views.InsuranceTransferViewSet, basename="transfer")
router.register("certification/runs", views.EligibilityCheckViewSet, basename="certification-run")
router.register("certification/findings", views.CertificationFindingViewSet, basename="certification-finding")

urlpatterns = [
    path("arrears/check/", views.ArrearsCheckView.as_view(), name="arrears-check"),
    *router.urls,
]
