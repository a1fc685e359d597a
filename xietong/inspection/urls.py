from django.urls import path

from . import views

app_name = "inspection"

# The paths users know from before the blacklist left the exchange app (bookmarks, the user guide).
urlpatterns = [
    path("exchange/arrears/", views.ArrearsListView.as_view(), name="arrears_list"),
    path("exchange/arrears/new/", views.ArrearsCreateView.as_view(), name="arrears_create"),
    path("exchange/arrears/<int:pk>/", views.ArrearsDetailView.as_view(), name="arrears_detail"),
    path("exchange/arrears/<int:pk>/remove/", views.arrears_remove, name="arrears_remove"),
]
