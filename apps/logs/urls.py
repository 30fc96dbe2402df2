from django.urls import path

from . import views

urlpatterns = [
    path("logs/", views.LogSearchView.as_view(), name="logs"),
    path("logs/histogram/", views.LogHistogramView.as_view(), name="logs_histogram"),
    path("logs/tail/", views.LogTailView.as_view(), name="logs_tail"),
    path("logs/export/", views.LogExportView.as_view(), name="logs_export"),
    path("logs/lines/<int:pk>/context/", views.LogContextView.as_view(), name="logs_context"),
    path("logs/ingest/", views.ingest, name="logs_ingest"),
    path("logs/shippers/", views.ShipperListView.as_view(), name="logshipper_list"),
    path(
        "logs/shippers/<int:pk>/<str:action>/",
        views.ShipperActionView.as_view(),
        name="logshipper_action",
    ),
]
