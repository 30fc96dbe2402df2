from django.urls import path

from . import views

urlpatterns = [
    path("storage/classes/", views.StorageClassListView.as_view(), name="storageclass_list"),
    path("storage/classes/add/", views.StorageClassCreateView.as_view(), name="storageclass_add"),
    path("storage/classes/<int:pk>/", views.StorageClassView.as_view(), name="storageclass"),
    path(
        "storage/classes/<int:pk>/default/",
        views.StorageClassDefaultView.as_view(),
        name="storageclass_default",
    ),
    path(
        "storage/classes/<int:pk>/undefault/",
        views.StorageClassUndefaultView.as_view(),
        name="storageclass_undefault",
    ),
    path(
        "storage/classes/<int:pk>/yaml/",
        views.StorageClassYamlView.as_view(),
        name="storageclass_yaml",
    ),
    path(
        "storage/classes/<int:pk>/delete/",
        views.StorageClassDeleteView.as_view(),
        name="storageclass_delete",
    ),
    path(
        "storage/volumes/", views.PersistentVolumeListView.as_view(), name="persistentvolume_list"
    ),
    path(
        "storage/volumes/<int:pk>/",
        views.PersistentVolumeView.as_view(),
        name="persistentvolume",
    ),
    path(
        "storage/volumes/<int:pk>/yaml/",
        views.PersistentVolumeYamlView.as_view(),
        name="persistentvolume_yaml",
    ),
    path(
        "storage/volumes/<int:pk>/delete/",
        views.PersistentVolumeDeleteView.as_view(),
        name="persistentvolume_delete",
    ),
    path(
        "storage/claims/",
        views.PersistentVolumeClaimListView.as_view(),
        name="persistentvolumeclaim_list",
    ),
    path(
        "storage/claims/add/",
        views.PersistentVolumeClaimCreateView.as_view(),
        name="persistentvolumeclaim_add",
    ),
    path(
        "storage/claims/add/yaml/",
        views.PersistentVolumeClaimYamlCreateView.as_view(),
        name="persistentvolumeclaim_add_yaml",
    ),
    path(
        "storage/claims/<int:pk>/",
        views.PersistentVolumeClaimView.as_view(),
        name="persistentvolumeclaim",
    ),
    path(
        "storage/claims/<int:pk>/yaml/",
        views.PersistentVolumeClaimYamlView.as_view(),
        name="persistentvolumeclaim_yaml",
    ),
    path(
        "storage/claims/<int:pk>/expand/",
        views.PersistentVolumeClaimExpandView.as_view(),
        name="persistentvolumeclaim_expand",
    ),
    path(
        "storage/claims/<int:pk>/delete/",
        views.PersistentVolumeClaimDeleteView.as_view(),
        name="persistentvolumeclaim_delete",
    ),
]
