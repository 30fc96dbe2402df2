from django.urls import path

from . import views

urlpatterns = [
    path("configmaps/", views.ConfigMapListView.as_view(), name="configmap_list"),
    path("configmaps/add/", views.ConfigMapCreateView.as_view(), name="configmap_add"),
    path(
        "configmaps/add/yaml/", views.ConfigMapYamlCreateView.as_view(), name="configmap_add_yaml"
    ),
    path("configmaps/<int:pk>/", views.ConfigMapView.as_view(), name="configmap"),
    path("configmaps/<int:pk>/edit/", views.ConfigMapEditView.as_view(), name="configmap_edit"),
    path("configmaps/<int:pk>/yaml/", views.ConfigMapYamlView.as_view(), name="configmap_yaml"),
    path(
        "configmaps/<int:pk>/delete/", views.ConfigMapDeleteView.as_view(), name="configmap_delete"
    ),
    path("secrets/", views.SecretListView.as_view(), name="secret_list"),
    path("secrets/add/", views.SecretTypeChoiceView.as_view(), name="secret_add"),
    path("secrets/add/yaml/", views.SecretYamlCreateView.as_view(), name="secret_add_yaml"),
    path("secrets/add/<str:kind>/", views.SecretCreateView.as_view(), name="secret_add_with"),
    path("secrets/<int:pk>/", views.SecretView.as_view(), name="secret"),
    path("secrets/<int:pk>/reveal/", views.SecretRevealView.as_view(), name="secret_reveal"),
    path("secrets/<int:pk>/edit/", views.SecretEditView.as_view(), name="secret_edit"),
    path("secrets/<int:pk>/yaml/", views.SecretYamlView.as_view(), name="secret_yaml"),
    path(
        "secrets/<int:pk>/yaml/reveal/",
        views.SecretYamlRevealView.as_view(),
        name="secret_yaml_reveal",
    ),
    path("secrets/<int:pk>/delete/", views.SecretDeleteView.as_view(), name="secret_delete"),
]
