from django.urls import path

from . import views

urlpatterns = [
    path("workloads/", views.WorkloadListView.as_view(), name="workload_list"),
    path("workloads/add/", views.WorkloadKindsView.as_view(), name="workload_add"),
    path("workloads/add/yaml/", views.WorkloadYamlCreateView.as_view(), name="workload_add_yaml"),
    path("workloads/add/<slug:kind>/", views.WorkloadWizardView.as_view(), name="workload_wizard"),
    path(
        "workloads/add/<slug:kind>/quota/",
        views.WizardQuotaView.as_view(),
        name="workload_wizard_quota",
    ),
    path(
        "workloads/add/<slug:kind>/registry-secret/",
        views.WizardRegistrySecretView.as_view(),
        name="workload_wizard_registry_secret",
    ),
    path("workloads/wizard/cron/", views.WizardCronView.as_view(), name="workload_wizard_cron"),
    path("workloads/<int:pk>/edit/", views.WorkloadEditView.as_view(), name="workload_edit"),
    path(
        "workloads/<int:pk>/edit/quota/",
        views.WizardQuotaView.as_view(),
        name="workload_edit_quota",
    ),
    path(
        "workloads/<int:pk>/edit/registry-secret/",
        views.WizardRegistrySecretView.as_view(),
        name="workload_edit_registry_secret",
    ),
    path("workloads/<int:pk>/", views.WorkloadView.as_view(), name="workload"),
    path("workloads/<int:pk>/yaml/", views.WorkloadYamlView.as_view(), name="workload_yaml"),
    path("workloads/<int:pk>/scale/", views.WorkloadScaleView.as_view(), name="workload_scale"),
    path("workloads/<int:pk>/stop/", views.WorkloadStopView.as_view(), name="workload_stop"),
    path("workloads/<int:pk>/start/", views.WorkloadStartView.as_view(), name="workload_start"),
    path(
        "workloads/<int:pk>/redeploy/",
        views.WorkloadRedeployView.as_view(),
        name="workload_redeploy",
    ),
    path(
        "workloads/<int:pk>/rollback/",
        views.WorkloadRollbackView.as_view(),
        name="workload_rollback",
    ),
    path(
        "workloads/<int:pk>/autoscaling/",
        views.WorkloadAutoscalingView.as_view(),
        name="workload_autoscaling",
    ),
    path(
        "workloads/<int:pk>/autoscaling/delete/",
        views.WorkloadAutoscalingDeleteView.as_view(),
        name="workload_autoscaling_delete",
    ),
    path("workloads/<int:pk>/run/", views.WorkloadRunNowView.as_view(), name="workload_run"),
    path("workloads/<int:pk>/delete/", views.WorkloadDeleteView.as_view(), name="workload_delete"),
    path("workloads/<int:pk>/logs/", views.WorkloadLogsView.as_view(), name="workload_logs"),
    path(
        "workloads/<int:pk>/logs/stream/",
        views.WorkloadLogStreamView.as_view(),
        name="workload_logs_stream",
    ),
    path("pods/", views.PodListView.as_view(), name="pod_list"),
    path("pods/<int:pk>/", views.PodView.as_view(), name="pod"),
    path("pods/<int:pk>/yaml/", views.PodYamlView.as_view(), name="pod_yaml"),
    path("pods/<int:pk>/logs/", views.PodLogsView.as_view(), name="pod_logs"),
    path("pods/<int:pk>/logs/stream/", views.PodLogStreamView.as_view(), name="pod_logs_stream"),
    path("pods/<int:pk>/terminal/", views.PodTerminalView.as_view(), name="pod_terminal"),
    path("pods/<int:pk>/delete/", views.PodDeleteView.as_view(), name="pod_delete"),
]
