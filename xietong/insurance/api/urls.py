from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("transfers", views.InsuranceTransferViewSet, basename="transfer")
router.register("certification/runs", views.EligibilityCheckViewSet, basename="certification-run")
router.register("certification/findings", views.CertificationFindingViewSet, basename="certification-finding")

urlpatterns = router.urls
