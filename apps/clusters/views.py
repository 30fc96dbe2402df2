from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import CharField, Count, Q
from django.db.models.functions import Cast
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from apps.core import authz
from apps.core.models import Operation
from apps.core.tables import OperationTable
from apps.core.views import (
    ObjectActionView,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectFormView,
    ObjectListView,
    PortalView,
    ServiceFormView,
)
from apps.events import services as event_services
from apps.events.tables import EventTable
from apps.kube import nodes as kube_nodes

from . import filters, forms, providers, services, status, tables
from .models import Cluster, Node

# --- clusters ----------------------------------------------------------------------


class ClusterListView(ObjectListView):
    live_models = (Cluster, Node)
    needs = authz.Perm.VIEW_INFRASTRUCTURE
    queryset = Cluster.objects.all()
    table = tables.ClusterTable
    filterset_class = filters.ClusterFilterSet
    add_url_name = "portal:cluster_add"

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.request.GET.get("status") != Cluster.Status.DELETED:
            queryset = queryset.exclude(status=Cluster.Status.DELETED)
        return queryset

    def can_add(self):
        return authz.is_cloud_admin(self.request.user)


def recent_operations(user, cluster, limit=10):
    """Operations on the cluster or on any of its nodes, in one query."""
    node_ids = Node.objects.filter(cluster=cluster).annotate(
        key=Cast("pk", output_field=CharField())
    )
    on_cluster = Q(target_type=ContentType.objects.get_for_model(Cluster), target_id=cluster.pk)
    on_nodes = Q(
        target_type=ContentType.objects.get_for_model(Node),
        target_id__in=node_ids.values("key"),
    )
    return (
        Operation.objects.restrict(user, "view")
        .filter(on_cluster | on_nodes)
        .select_related("actor", "project")[:limit]
    )


RESOURCES = (("cpu", _("CPU cores")), ("memory", _("Memory")), ("pods", _("Pods")))


def capacity(cluster) -> list[tuple[str, dict]]:
    """Totals over the nodes (kept on the cluster's row): capacity, allocatable and usage."""
    rows = []
    for name, label in RESOURCES:
        kept = cluster.resources.get(name) or {}
        totals = {
            part: tables.FORMATS[name](tables.quantity(kept.get(part))) if part in kept else ""
            for part in ("capacity", "allocatable", "usage")
        }
        rows.append((label, totals))
    return rows


def node_summary(cluster) -> dict:
    """How many nodes there are by status, role and zone: a few GROUP BYs, never every node.

    Each count links to the node list, filtered to those nodes.
    """
    nodes = Node.objects.filter(cluster=cluster)
    base = f"{reverse('portal:node_list')}?cluster={cluster.pk}"
    status = nodes.aggregate(
        n_ready=Count("pk", filter=Q(ready=True)),
        n_not_ready=Count("pk", filter=Q(ready=False)),
        n_cordoned=Count("pk", filter=Q(schedulable=False)),
    )
    return {
        "status": [
            (_("Ready"), status["n_ready"], f"{base}&ready=true"),
            (_("Not ready"), status["n_not_ready"], f"{base}&ready=false"),
            (_("Cordoned"), status["n_cordoned"], f"{base}&schedulable=false"),
        ],
        "roles": [
            (Node.Role(row["role"]).label, row["n"], f"{base}&role={row['role']}")
            for row in nodes.values("role").annotate(n=Count("pk")).order_by("role")
        ],
        "zones": [
            (row["zone"] or _("(no zone)"), row["n"], row["zone"] and f"{base}&zone={row['zone']}")
            for row in nodes.values("zone").annotate(n=Count("pk")).order_by("zone")
        ],
        "all": base,
    }


class ClusterView(ObjectDetailView):
    live_models = (Cluster, Node)
    model = Cluster
    queryset = Cluster.objects.select_related("project", "created_by")
    template_name = "clusters/cluster_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, cluster = self.request.user, self.object
        operations = list(recent_operations(user, cluster))
        provider = providers.PROVIDERS.get(cluster.provider)
        context.update(
            provider=provider,
            node_summary=node_summary(cluster),
            capacity=capacity(cluster),
            operations=OperationTable(operations),
            active=next((op for op in operations if not op.is_finished), None),
            can_change=cluster.status != Cluster.Status.DELETED
            and authz.can(user, "change", cluster),
            can_scale_out=bool(provider and provider.capabilities.scale_out)
            and cluster.status in (Cluster.Status.RUNNING, Cluster.Status.DEGRADED)
            and authz.can(user, "scale_out", cluster),
            can_retry=cluster.status == Cluster.Status.ERROR and authz.can(user, "retry", cluster),
            can_delete=cluster.status != Cluster.Status.DELETED
            and authz.can(user, "delete", cluster),
            can_download=bool(cluster.kubeconfig)
            and authz.can(user, "download_kubeconfig", cluster),
        )
        return context


class ClusterStatusView(ObjectDetailView):
    """The cluster's state now: its API server asked directly, the rest as mirrored."""

    live_models = (Cluster, Node)  # (not every pod and event: it asks the API server too)
    model = Cluster
    template_name = "clusters/cluster_status.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        cluster = self.object
        node_rows, totals = status.nodes(cluster)
        usage = status.pod_usage(cluster)
        by = self.request.GET.get("top", "cpu")
        by = by if by in status.BY else "cpu"
        top_namespaces, top_workloads = status.top_consumers(self.request.user, cluster, usage, by)
        context.update(
            api=status.api_health(cluster),
            # Kubernetes' own condition names, but Ready in the reader's language.
            conditions=[_("Ready") if c == "Ready" else c for c in status.CONDITIONS],
            node_rows=node_rows,
            not_ready=status.not_ready(node_rows),
            totals=[(label, totals[name]) for name, label in RESOURCES],
            top_namespaces=top_namespaces,
            top_workloads=top_workloads,
            top_by=by,
            top_choices=[
                ("cpu", _("CPU requested")),
                ("memory", _("Memory requested")),
                ("cpu_usage", _("CPU used")),
                ("memory_usage", _("Memory used")),
            ],
            usage_measured=bool(usage),
            warnings=EventTable(event_services.recent_warnings(self.request.user, cluster)),
            events_url=f"{reverse('portal:event_list')}?cluster={cluster.pk}&type=Warning",
        )
        return context


class ClusterProviderChoiceView(PortalView, TemplateView):
    """Step one of the wizard: which provider creates (or imports) the cluster."""

    template_name = "clusters/cluster_provider.html"
    cloud_admin_only = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Each with whether it can work here now, and why not (shown, but not offered).
        context["providers"] = [
            (provider, *provider.available())
            for provider in providers.PROVIDERS.values()
            if provider.capabilities.create
        ]
        return context


class ClusterCreateView(ServiceFormView):
    form_class = forms.ClusterForm
    template_name = "clusters/cluster_form.html"
    title = _("New cluster")
    cloud_admin_only = True
    audit_action, audit_model = "cluster.create", Cluster

    def dispatch(self, request, *args, provider, **kwargs):
        self.provider = providers.PROVIDERS.get(provider)
        if self.provider is None or not self.provider.capabilities.create:
            raise Http404
        if request.user.is_authenticated and self.may_open(request):
            # Only those who may create clusters hear about the providers (the others get
            # the 403 page from super().dispatch).
            ready, why = self.provider.available()
            if not ready:
                messages.error(request, why)
                return HttpResponseRedirect(reverse("portal:cluster_add"))
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "provider": self.provider.name}

    def get_initial(self):
        return {"version": self.provider.versions[0] if self.provider.versions else ""}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "provider": self.provider}

    def get_cancel_url(self):
        return reverse("portal:cluster_list")

    def perform(self, form):
        _cluster, operation = services.create_cluster(self.request.user, **form.service_arguments())
        return operation


class KubeconfigContextsView(PortalView, View):
    """HTMX: the wizard's context field, filled from the kubeconfig pasted so far."""

    cloud_admin_only = True

    def post(self, request):
        form = forms.ClusterForm(request.POST, provider="kubeconfig")
        upload = request.FILES.get("kubeconfig_file")
        if upload:
            form.set_contexts(forms.read_upload(upload) or "")
        return render(request, "clusters/partials/context_field.html", {"field": form["context"]})


class ClusterEditView(ObjectFormView):
    model = Cluster
    form_class = forms.ClusterEditForm
    title = _("Edit cluster")

    def perform(self, form):
        return services.update_cluster(self.request.user, self.object, **form.changes())


class ClusterScaleOutView(ObjectFormView):
    model = Cluster
    form_class = forms.ScaleOutForm
    title = _("Scale out")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "cluster": self.object}

    def perform(self, form):
        try:
            return services.scale_out(self.request.user, self.object, **form.service_arguments())
        except ValidationError as exc:
            # A zone typed as a new one is reported on that field, not on the choice.
            if form.cleaned_data["new_zone"].strip() and "zone" in getattr(exc, "error_dict", {}):
                exc.error_dict["new_zone"] = exc.error_dict.pop("zone")
            raise


class ClusterRetryView(ObjectActionView):
    model = Cluster
    title = button = _("Retry creation")

    def perform(self, form):
        return services.retry_cluster(self.request.user, self.object)


class ClusterDeleteView(ObjectDeleteView):
    model = Cluster
    confirm_by_name = True

    def delete(self, obj):
        self.operation = services.delete_cluster(self.request.user, obj)

    def get_success_url(self):
        operation = getattr(self, "operation", None)
        return operation.get_absolute_url() if operation else reverse("portal:cluster_list")


class KubeconfigDownloadView(PortalView, View):
    def get(self, request, pk):
        cluster = get_object_or_404(Cluster.objects.restrict(request.user, "view"), pk=pk)
        try:
            text = services.download_kubeconfig(request.user, cluster)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(cluster.get_absolute_url())
        response = HttpResponse(text, content_type="application/yaml")
        response["Content-Disposition"] = f'attachment; filename="{cluster.name}.kubeconfig"'
        response["Cache-Control"] = "no-store"  # credentials: no cache keeps a copy
        return response


# --- nodes -------------------------------------------------------------------------


class NodeListView(ObjectListView):
    live_models = (Node,)
    needs = authz.Perm.VIEW_INFRASTRUCTURE
    queryset = Node.objects.select_related("cluster")
    table = tables.NodeTable
    filterset_class = filters.NodeFilterSet


def _user_rows(items, key=lambda item: item):
    return [item for item in items if not services.is_protected(key(item))]


class NodeView(ObjectDetailView):
    live_models = (Node,)
    model = Node
    queryset = Node.objects.select_related("cluster")
    template_name = "clusters/node_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, node = self.request.user, self.object
        can_change = authz.can(user, "label", node)
        context.update(
            resources=[(label, tables.resource(node, name)) for name, label in RESOURCES],
            protected_labels=sorted(
                (k, v) for k, v in node.labels.items() if services.is_protected(k)
            ),
            user_labels=_user_rows(sorted(node.labels.items()), key=lambda item: item[0]),
            protected_taints=[t for t in node.taints if services.is_protected(t["key"])],
            user_taints=_user_rows(node.taints, key=lambda taint: taint["key"]),
            can_change=can_change,
            can_drain=authz.can(user, "drain", node),
            labels_form=NodeLabelsView.initial_form(node) if can_change else None,
            taints_form=NodeTaintsView.initial_form(node) if can_change else None,
        )
        return context


class NodeRowsView(ObjectFormView):
    """Edit a node's user labels or taints as rows; protected ones stay read-only."""

    model = Node
    template_name = "clusters/node_rows_form.html"

    @classmethod
    def rows(cls, node) -> list[dict]:
        raise NotImplementedError

    @classmethod
    def initial_form(cls, node):
        return cls.form_class(rows=cls.rows(node))

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "rows": self.rows(self.object)}


class NodeLabelsView(NodeRowsView):
    form_class = forms.LabelsForm
    title = _("Labels")
    success_message = _("The node's labels were saved.")

    @classmethod
    def rows(cls, node):
        labels = _user_rows(sorted(node.labels.items()), key=lambda item: item[0])
        return [{"key": k, "value": v} for k, v in labels]

    def perform(self, form):
        return services.set_labels(self.request.user, self.object, form.labels())


class NodeTaintsView(NodeRowsView):
    form_class = forms.TaintsForm
    title = _("Taints")
    success_message = _("The node's taints were saved.")

    @classmethod
    def rows(cls, node):
        return [
            {"key": t["key"], "value": t.get("value", ""), "effect": t.get("effect", "")}
            for t in _user_rows(node.taints, key=lambda taint: taint["key"])
        ]

    def perform(self, form):
        return services.set_taints(self.request.user, self.object, form.taints())


class NodeCordonView(ObjectActionView):
    model = Node
    title = button = _("Cordon")
    success_message = _("The node is cordoned: no new pods will be scheduled on it.")

    def perform(self, form):
        return services.cordon(self.request.user, self.object)


class NodeUncordonView(ObjectActionView):
    model = Node
    title = button = _("Uncordon")
    success_message = _("The node accepts new pods again.")

    def perform(self, form):
        return services.uncordon(self.request.user, self.object)


class NodeDrainView(ObjectFormView):
    """Confirm a drain: the pods it evicts and leaves, the options some pods need."""

    model = Node
    action = "drain"
    form_class = forms.DrainForm
    template_name = "clusters/node_drain.html"
    title = _("Drain")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            plan = services.drain_plan(self.request.user, self.object)
        except ValidationError as exc:
            context["plan_error"] = " ".join(exc.messages)
            return context
        unmanaged, local_data = set(map(id, plan.unmanaged)), set(map(id, plan.local_data))
        context["evict"] = [
            {
                "name": kube_nodes.pod_name(pod),
                "unmanaged": id(pod) in unmanaged,
                "local_data": id(pod) in local_data,
                "phase": pod.status.phase if pod.status else "",
                "budget": plan.held.get(id(pod), ""),
            }
            for pod in plan.evict
        ]
        context["skipped"] = [kube_nodes.pod_name(pod) for pod in plan.skipped]
        return context

    def perform(self, form):
        return services.drain(self.request.user, self.object, **form.cleaned_data)
