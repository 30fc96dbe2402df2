from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from apps.applications.urls import urlpatterns as applications_urls
from apps.clusters.urls import urlpatterns as clusters_urls
from apps.configs.urls import urlpatterns as configs_urls
from apps.core import views as core_views
from apps.core.api.docs import SwaggerView
from apps.core.urls import urlpatterns as core_urls
from apps.events.urls import urlpatterns as events_urls
from apps.logs.urls import urlpatterns as logs_urls
from apps.monitoring.urls import urlpatterns as monitoring_urls
from apps.namespaces.urls import urlpatterns as namespaces_urls
from apps.networking.urls import urlpatterns as networking_urls
from apps.storage.urls import urlpatterns as storage_urls
from apps.tenancy.urls import urlpatterns as tenancy_urls
from apps.workloads.urls import urlpatterns as workloads_urls

from .api import router

portal = [
    *core_urls,
    *tenancy_urls,
    *clusters_urls,
    *storage_urls,
    *namespaces_urls,
    *configs_urls,
    *workloads_urls,
    *networking_urls,
    *applications_urls,
    *logs_urls,
    *events_urls,
    *monitoring_urls,
]

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("", include((portal, "portal"))),
]

# The API answers JSON even for paths no endpoint has; the portal its own pages.
handler404 = "apps.core.views.not_found"
handler500 = "apps.core.views.server_error"
