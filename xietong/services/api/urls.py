from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("stations", views.ServiceStationViewSet, basename="service-station")
router.register("requests", views.ServiceRequestViewSet, basename="service-request")

urlpatterns = router.urls
