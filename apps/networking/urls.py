from django.urls import path

from . import views

urlpatterns = [
    path("services/", views.ServiceListView.as_view(), name="service_list"),
    path("services/add/", views.ServiceCreateView.as_view(), name="service_add"),
    path("services/add/yaml/", views.ServiceYamlCreateView.as_view(), name="service_add_yaml"),
    path("services/<int:pk>/", views.ServiceView.as_view(), name="service"),
    path("services/<int:pk>/edit/", views.ServiceEditView.as_view(), name="service_edit"),
    path("services/<int:pk>/yaml/", views.ServiceYamlView.as_view(), name="service_yaml"),
    path("services/<int:pk>/delete/", views.ServiceDeleteView.as_view(), name="service_delete"),
    path("ingresses/", views.IngressListView.as_view(), name="ingress_list"),
    path("ingresses/add/", views.IngressCreateView.as_view(), name="ingress_add"),
    path("ingresses/add/yaml/", views.IngressYamlCreateView.as_view(), name="ingress_add_yaml"),
    path("ingresses/<int:pk>/", views.IngressView.as_view(), name="ingress"),
    path("ingresses/<int:pk>/edit/", views.IngressEditView.as_view(), name="ingress_edit"),
    path("ingresses/<int:pk>/yaml/", views.IngressYamlView.as_view(), name="ingress_yaml"),
    path("ingresses/<int:pk>/delete/", views.IngressDeleteView.as_view(), name="ingress_delete"),
]
