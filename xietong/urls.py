"""URL map of a Xietong node: staff console, REST API with its OpenAPI schema, i18n."""

from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/", include("xietong.core.api.urls")),
    path("api/membership/", include("xietong.membership.api.urls")),
    # The insurance and inspection APIs keep the paths they had under the exchange app.
    path("api/exchange/", include("xietong.insurance.api.urls")),
    path("api/exchange/", include("xietong.inspection.api.urls")),
    path("", include("xietong.exchange.urls")),
    path("", include("xietong.insurance.urls")),
    path("", include("xietong.inspection.urls")),
    path("", include("xietong.membership.urls")),
    path("", include("xietong.core.urls")),
]
