from django.urls import path

from . import views

urlpatterns = [
    path("namespaces/", views.NamespaceListView.as_view(), name="namespace_list"),
    path("namespaces/add/", views.NamespaceCreateView.as_view(), name="namespace_add"),
    path(
        "namespaces/unassigned/",
        views.UnassignedNamespaceListView.as_view(),
        name="namespace_unassigned",
    ),
    path("namespaces/<int:pk>/", views.NamespaceView.as_view(), name="namespace"),
    path("namespaces/<int:pk>/quota/", views.NamespaceQuotaView.as_view(), name="namespace_quota"),
    path(
        "namespaces/<int:pk>/members/",
        views.NamespaceMembersView.as_view(),
        name="namespace_members",
    ),
    path(
        "namespaces/<int:pk>/assign/", views.NamespaceAssignView.as_view(), name="namespace_assign"
    ),
    path(
        "namespaces/<int:pk>/delete/", views.NamespaceDeleteView.as_view(), name="namespace_delete"
    ),
    path("namespaces/<int:pk>/yaml/", views.NamespaceYamlView.as_view(), name="namespace_yaml"),
]
