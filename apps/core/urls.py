from django.urls import path

from . import views

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("operations/", views.OperationListView.as_view(), name="operation_list"),
    path("operations/<int:pk>/", views.OperationView.as_view(), name="operation"),
    path(
        "operations/<int:pk>/cancel/", views.OperationCancelView.as_view(), name="operation_cancel"
    ),
    path("audit/", views.AuditEventListView.as_view(), name="auditevent_list"),
    path("audit/export/", views.AuditEventExportView.as_view(), name="auditevent_export"),
    path("tokens/", views.ApiTokenListView.as_view(), name="apitoken_list"),
    path("tokens/add/", views.ApiTokenCreateView.as_view(), name="apitoken_add"),
    path("tokens/<int:pk>/revoke/", views.ApiTokenRevokeView.as_view(), name="apitoken_revoke"),
    path("system/", views.SystemView.as_view(), name="system"),
]
