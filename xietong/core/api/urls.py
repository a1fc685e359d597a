from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("regions", views.RegionViewSet, basename="region")
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("employers", views.EmployerViewSet, basename="employer")
router.register("people", views.PersonViewSet, basename="person")

urlpatterns = router.urls
