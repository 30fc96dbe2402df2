"""Storage pages: classes and volumes (infrastructure), claims (tenants' namespaces)."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core import authz
from apps.core.tables import choice_label
from apps.core.views import (
    ObjectActionView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectFormView,
    ObjectListView,
    ObjectYamlView,
    ServiceFormView,
)
from apps.namespaces.models import Namespace

from . import filters, forms, services, tables
from .models import (
    BindingMode,
    PersistentVolume,
    PersistentVolumeClaim,
    ReclaimPolicy,
    StorageClass,
)

# --- storage classes ----------------------------------------------------------------


class StorageClassListView(ObjectListView):
    live_models = (StorageClass,)
    needs = authz.Perm.VIEW_INFRASTRUCTURE
    queryset = StorageClass.objects.select_related("cluster")
    table = tables.StorageClassTable
    filterset_class = filters.StorageClassFilterSet
    add_url_name = "portal:storageclass_add"

    def can_add(self):
        return authz.is_cloud_admin(self.request.user)


class StorageClassView(ObjectDetailView):
    live_models = (StorageClass, PersistentVolume)
    model = StorageClass
    queryset = StorageClass.objects.select_related("cluster")
    template_name = "storage/storageclass_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        volumes = (
            PersistentVolume.objects.restrict(self.request.user, "view")
            .filter(cluster_id=self.object.cluster_id, storage_class=self.object.name)
            .select_related("cluster")[:50]
        )
        context.update(
            reclaim_policy=choice_label(ReclaimPolicy, self.object.reclaim_policy),
            volume_binding_mode=choice_label(BindingMode, self.object.volume_binding_mode),
            can_admin=authz.is_cloud_admin(self.request.user),
            volumes=tables.PersistentVolumeTable(volumes),
        )
        return context


class StorageClassCreateView(ServiceFormView):
    form_class = forms.StorageClassForm
    title = _("New storage class")
    cloud_admin_only = True
    audit_action, audit_model = "storageclass.create", StorageClass

    def get_initial(self):
        return {"reclaim_policy": "Delete", "volume_binding_mode": "Immediate"}

    def get_cancel_url(self):
        return reverse("portal:storageclass_list")

    def perform(self, form):
        return services.create_storage_class(self.request.user, **form.cleaned_data)


class StorageClassDefaultView(ObjectActionView):
    model = StorageClass
    title = button = _("Make default")
    default = True

    def perform(self, form):
        return services.set_default(self.request.user, self.object, self.default)


class StorageClassUndefaultView(StorageClassDefaultView):
    title = button = _("Stop being the default")
    default = False


class StorageClassYamlView(ObjectYamlView):
    model = StorageClass
    read_action = "view_yaml"  # cloud admins only, like every change of a class
    read = services.storage_class_yaml


class StorageClassDeleteView(ObjectDeleteView):
    model = StorageClass
    confirm_by_name = True

    def delete(self, obj):
        services.delete_storage_class(self.request.user, obj)

    def get_success_url(self):
        return reverse("portal:storageclass_list")


# --- persistent volumes -------------------------------------------------------------


class PersistentVolumeListView(ObjectListView):
    live_models = (PersistentVolume,)
    needs = authz.Perm.VIEW_INFRASTRUCTURE
    queryset = PersistentVolume.objects.select_related("cluster")
    table = tables.PersistentVolumeTable
    filterset_class = filters.PersistentVolumeFilterSet


class PersistentVolumeView(ObjectDetailView):
    live_models = (PersistentVolume,)
    model = PersistentVolume
    queryset = PersistentVolume.objects.select_related("cluster")
    template_name = "storage/persistentvolume_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        volume = self.object
        context.update(
            reclaim_policy=choice_label(ReclaimPolicy, volume.reclaim_policy),
            can_admin=authz.is_cloud_admin(self.request.user),
            claim=PersistentVolumeClaim.objects.restrict(self.request.user, "view")
            .filter(
                cluster_id=volume.cluster_id,
                namespace_name=volume.claim_namespace,
                name=volume.claim_name,
            )
            .first()
            if volume.claim_name
            else None,
            spec=volume.manifest.get("spec") or {},
        )
        return context


class PersistentVolumeYamlView(ObjectYamlView):
    model = PersistentVolume
    read_action = "view_yaml"  # cloud admins only
    read = services.volume_yaml


class PersistentVolumeDeleteView(ObjectDeleteView):
    model = PersistentVolume
    confirm_by_name = True

    def delete(self, obj):
        services.delete_volume(self.request.user, obj)

    def get_success_url(self):
        return reverse("portal:persistentvolume_list")


# --- persistent volume claims -------------------------------------------------------


def _work_namespaces(user):
    return (
        Namespace.objects.restrict(user, "work")
        .exclude(phase="Terminating")
        .select_related("cluster")
        .order_by("cluster__name", "name")
    )


class PersistentVolumeClaimListView(ObjectListView):
    live_models = (PersistentVolumeClaim,)
    queryset = PersistentVolumeClaim.objects.select_related("cluster", "namespace")
    table = tables.PersistentVolumeClaimTable
    filterset_class = filters.PersistentVolumeClaimFilterSet
    add_url_name = "portal:persistentvolumeclaim_add"
    title = _("Volume claims")

    def can_add(self):
        return _work_namespaces(self.request.user).exists()


class PersistentVolumeClaimView(ObjectDetailView):
    live_models = (PersistentVolumeClaim,)
    model = PersistentVolumeClaim
    queryset = PersistentVolumeClaim.objects.select_related("cluster", "namespace")
    template_name = "storage/persistentvolumeclaim_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, claim = self.request.user, self.object
        services.current_claim(user, claim)
        can_change = authz.can(user, "change", claim)
        volume = None
        if claim.volume_name:
            volume = (
                PersistentVolume.objects.restrict(user, "view")
                .filter(cluster_id=claim.cluster_id, name=claim.volume_name)
                .first()
            )
        context.update(
            can_change=can_change,
            can_expand=can_change and services.can_expand(claim),
            can_delete=authz.can(user, "delete", claim),
            volume=volume,
            conditions=(claim.manifest.get("status") or {}).get("conditions") or [],
        )
        return context


class ClaimNamespaceMixin:
    """Claim creation forms: the namespaces the user may work in, one preselected by ?namespace."""

    def selected_namespace(self):
        pk = self.request.GET.get("namespace")
        if not (pk and pk.isdigit()):
            return None
        return get_object_or_404(_work_namespaces(self.request.user), pk=pk)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "namespaces": _work_namespaces(self.request.user)}

    def get_initial(self):
        selected = self.selected_namespace()
        return {"namespace": selected} if selected else {}

    def get_cancel_url(self):
        return reverse("portal:persistentvolumeclaim_list")


class PersistentVolumeClaimCreateView(ClaimNamespaceMixin, ServiceFormView):
    form_class = forms.ClaimForm
    title = _("New volume claim")
    template_name = "storage/claim_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "selected": self.selected_namespace()}

    def get_initial(self):
        return {**super().get_initial(), "size": "1Gi", "access_modes": ["ReadWriteOnce"]}

    def perform(self, form):
        return services.create_claim(self.request.user, **form.cleaned_data)


CLAIM_TEMPLATE = """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes:
  - ReadWriteOnce
  resources:
    requests:
      storage: 1Gi
"""


class PersistentVolumeClaimYamlCreateView(ClaimNamespaceMixin, ServiceFormView):
    form_class = forms.ClaimYamlForm
    title = _("New volume claim from YAML")
    template_name = "storage/claim_form.html"

    def get_initial(self):
        return {**super().get_initial(), "yaml": CLAIM_TEMPLATE}

    def perform(self, form):
        data = form.cleaned_data
        return services.create_claim_from_yaml(self.request.user, data["namespace"], data["yaml"])


class PersistentVolumeClaimYamlView(ObjectYamlView):
    model = PersistentVolumeClaim
    read = services.claim_yaml
    write = services.update_claim_yaml


class PersistentVolumeClaimExpandView(ObjectFormView):
    model = PersistentVolumeClaim
    form_class = forms.ExpandForm
    title = _("Expand")

    def get_initial(self):
        return {"size": self.object.requested}

    def perform(self, form):
        return services.expand_claim(self.request.user, self.object, form.cleaned_data["size"])


class PersistentVolumeClaimDeleteView(ObjectDeleteView):
    model = PersistentVolumeClaim
    confirm_by_name = True

    def delete(self, obj):
        services.delete_claim(self.request.user, obj)

    def get_success_url(self):
        return reverse("portal:persistentvolumeclaim_list")
