from django.urls import path

from . import views

urlpatterns = [
    path("clusters/", views.ClusterListView.as_view(), name="cluster_list"),
    path("clusters/add/", views.ClusterProviderChoiceView.as_view(), name="cluster_add"),
    path(
        "clusters/add/contexts/",
        views.KubeconfigContextsView.as_view(),
        name="cluster_kubeconfig_contexts",
    ),
    path(
        "clusters/add/<str:provider>/",
        views.ClusterCreateView.as_view(),
        name="cluster_add_with",
    ),
    path("clusters/<int:pk>/", views.ClusterView.as_view(), name="cluster"),
    path("clusters/<int:pk>/status/", views.ClusterStatusView.as_view(), name="cluster_status"),
    path(
        "clusters/<int:pk>/scale-out/",
        views.ClusterScaleOutView.as_view(),
        name="cluster_scale_out",
    ),
    path("clusters/<int:pk>/edit/", views.ClusterEditView.as_view(), name="cluster_edit"),
    path("clusters/<int:pk>/retry/", views.ClusterRetryView.as_view(), name="cluster_retry"),
    path("clusters/<int:pk>/delete/", views.ClusterDeleteView.as_view(), name="cluster_delete"),
    path(
        "clusters/<int:pk>/kubeconfig/",
        views.KubeconfigDownloadView.as_view(),
        name="cluster_kubeconfig",
    ),
    path("nodes/", views.NodeListView.as_view(), name="node_list"),
    path("nodes/<int:pk>/", views.NodeView.as_view(), name="node"),
    path("nodes/<int:pk>/labels/", views.NodeLabelsView.as_view(), name="node_labels"),
    path("nodes/<int:pk>/taints/", views.NodeTaintsView.as_view(), name="node_taints"),
    path("nodes/<int:pk>/cordon/", views.NodeCordonView.as_view(), name="node_cordon"),
    path("nodes/<int:pk>/uncordon/", views.NodeUncordonView.as_view(), name="node_uncordon"),
    path("nodes/<int:pk>/drain/", views.NodeDrainView.as_view(), name="node_drain"),
]
