from django.urls import path

from . import views

urlpatterns = [
    path(
        "monitoring/<slug:kind>/<int:pk>/",
        views.MetricsView.as_view(),
        name="metrics",
    ),
]
