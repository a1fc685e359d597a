from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("arrears", views.ArrearsListingViewSet, basename="arrears")

urlpatterns = [
    path("arrears/check/", views.ArrearsCheckView.as_view(), name="arrears-check"),
    *router.urls,
]
