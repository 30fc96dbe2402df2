from django.urls import path

from . import views

urlpatterns = [
    path("applications/", views.ApplicationListView.as_view(), name="application_list"),
    path("applications/add/", views.ApplicationCreateView.as_view(), name="application_add"),
    path(
        "applications/add/<str:key>/",
        views.ApplicationDraftView.as_view(),
        name="application_draft",
    ),
    path(
        "applications/add/<str:key>/workload/<slug:kind>/",
        views.DraftWorkloadView.as_view(),
        name="application_draft_workload",
    ),
    path(
        "applications/add/<str:key>/service/<int:index>/",
        views.DraftServiceView.as_view(),
        name="application_draft_service",
    ),
    path("applications/import/", views.ApplicationImportView.as_view(), name="application_import"),
    path("applications/group/", views.ApplicationGroupView.as_view(), name="application_group"),
    path("applications/<int:pk>/", views.ApplicationView.as_view(), name="application"),
    path(
        "applications/<int:pk>/yaml/", views.ApplicationYamlView.as_view(), name="application_yaml"
    ),
    path(
        "applications/<int:pk>/add/", views.ApplicationAddView.as_view(), name="application_addto"
    ),
    path(
        "applications/<int:pk>/associate/",
        views.ApplicationAssociateView.as_view(),
        name="application_associate",
    ),
    path(
        "applications/<int:pk>/detach/",
        views.ApplicationDetachView.as_view(),
        name="application_detach",
    ),
    path(
        "applications/<int:pk>/start/",
        views.ApplicationStartView.as_view(),
        name="application_start",
    ),
    path(
        "applications/<int:pk>/stop/", views.ApplicationStopView.as_view(), name="application_stop"
    ),
    path(
        "applications/<int:pk>/redeploy/",
        views.ApplicationRedeployView.as_view(),
        name="application_redeploy",
    ),
    path(
        "applications/<int:pk>/delete/",
        views.ApplicationDeleteView.as_view(),
        name="application_delete",
    ),
    path(
        "applications/<int:pk>/export/",
        views.ApplicationExportView.as_view(),
        name="application_export",
    ),
    path(
        "applications/imports/<int:pk>/retry/",
        views.ImportRetryView.as_view(),
        name="import_retry",
    ),
    path(
        "namespaces/<int:pk>/export/", views.NamespaceExportView.as_view(), name="namespace_export"
    ),
]
