from django.urls import path

from . import views

app_name = "services"

urlpatterns = [
    # Public pages, phone first
    path("services/stations/", views.directory, name="directory"),
    path("services/stations/<int:pk>/", views.station_page, name="station_page"),
    path("services/qa/", views.qa, name="qa"),
    # Staff console: the service network
    path("services/network/", views.StationListView.as_view(), name="station_list"),
    path("services/network/new/", views.StationCreateView.as_view(), name="station_create"),
    path("services/network/<int:pk>/", views.StationDetailView.as_view(), name="station_detail"),
    path("services/network/<int:pk>/edit/", views.StationEditView.as_view(), name="station_edit"),
    # 12351 requests
    path("services/requests/", views.RequestListView.as_view(), name="request_list"),
    path("services/requests/new/", views.RequestCreateView.as_view(), name="request_create"),
    path("services/requests/<int:pk>/", views.RequestDetailView.as_view(), name="request_detail"),
    path("services/requests/<int:pk>/legal-aid/", views.request_legal_aid, name="request_legal_aid"),
    path("services/requests/<int:pk>/<slug:what>/", views.request_step, name="request_step"),
    path("services/attachments/<int:pk>/", views.attachment, name="attachment"),
    path("services/figures/", views.figures, name="figures"),
    # Request categories and their time limits (node-wide reference data)
    path("services/categories/", views.category_list, name="category_list"),
    path("services/categories/<int:pk>/edit/", views.CategoryEditView.as_view(), name="category_edit"),
    # Knowledge base
    path("services/knowledge/", views.KnowledgeListView.as_view(), name="knowledge_list"),
    path("services/knowledge/new/", views.KnowledgeFormView.as_view(), name="knowledge_create"),
    path("services/knowledge/<int:pk>/edit/", views.KnowledgeFormView.as_view(), name="knowledge_edit"),
    # Legal aid
    path("services/lawyers/", views.LawyerListView.as_view(), name="lawyer_list"),
    path("services/lawyers/new/", views.LawyerCreateView.as_view(), name="lawyer_create"),
    path("services/legal-aid/", views.CaseListView.as_view(), name="case_list"),
    path("services/legal-aid/<int:pk>/", views.CaseDetailView.as_view(), name="case_detail"),
    path("services/legal-aid/<int:pk>/milestone/", views.case_milestone, name="case_milestone"),
    # Universal benefits on the card (普惠服务)
    path("services/benefits/", views.BenefitListView.as_view(), name="benefit_list"),
    path("services/benefits/new/", views.BenefitFormView.as_view(), name="benefit_create"),
    path("services/benefits/<int:pk>/edit/", views.BenefitFormView.as_view(), name="benefit_edit"),
    path("services/benefits/providers/new/", views.ProviderFormView.as_view(), name="provider_create"),
    path(
        "services/benefits/providers/<int:pk>/edit/", views.ProviderFormView.as_view(), name="provider_edit"
    ),
    path("services/benefits/uses/", views.BenefitUseListView.as_view(), name="benefit_use_list"),
    path("services/benefits/figures/", views.benefit_figures, name="benefit_figures"),
]
