"""URL map of a Xietong node: staff console, REST API with its OpenAPI schema, i18n.

Every route is either covered by a generic scoping test or its view is marked ``public``
(``xietong.core.generic.public``); ``core/tests/test_url_walk.py`` checks it.
"""

from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated

from xietong.core import ratelimit
from xietong.core.generic import public

urlpatterns = [
    path(
        "accounts/login/",
        public(
            ratelimit.limit("login", username=lambda request: request.POST.get("username", ""))(
                auth_views.LoginView.as_view(redirect_authenticated_user=True)
            )
        ),
        name="login",
    ),
    path("accounts/logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    # What ``include("django.conf.urls.i18n")`` holds, with the public mark.
    path("i18n/setlang/", public(set_language), name="set_language"),
    # The API description is for signed-in staff: it maps an internal system (issue 11, defect 9).
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[IsAuthenticated]),
        name="schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", permission_classes=[IsAuthenticated]),
        name="swagger-ui",
    ),
    path("api/", include("xietong.core.api.urls")),
    path("api/membership/", include("xietong.membership.api.urls")),
    # The insurance and inspection APIs keep the paths they had under the exchange app.
    path("api/exchange/", include("xietong.insurance.api.urls")),
    path("api/exchange/", include("xietong.inspection.api.urls")),
    path("api/services/", include("xietong.services.api.urls")),
    path("", include("xietong.exchange.urls")),
    path("", include("xietong.insurance.urls")),
    path("", include("xietong.inspection.urls")),
    path("", include("xietong.membership.urls")),
    path("", include("xietong.services.urls")),
    path("", include("xietong.portal.urls")),
    path("", include("xietong.core.urls")),
]
