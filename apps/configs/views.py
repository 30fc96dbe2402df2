"""The configuration centre in the portal: ConfigMaps and Secrets.

Every page finds its object through ``restrict``; every write is a service call.
Secret values are never rendered except on the response to an explicit, audited reveal.
"""

from django.http import Http404, HttpResponseNotAllowed
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from apps.core import authz
from apps.core.forms import YamlForm
from apps.core.views import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectFormView,
    ObjectListView,
    ObjectYamlView,
    PortalView,
    ServiceFormView,
)
from apps.namespaces.models import Namespace

from . import filters, forms, services, tables
from .models import ConfigMap, Secret


def may_create(user) -> bool:
    return Namespace.objects.restrict(user, "work").exists()


class KeyValueEditorMixin:
    """The key/value editor: rows, and an "Add row" button that works without JavaScript."""

    template_name = "configs/keyvalue_form.html"
    extra_rows = 1

    def get_rows(self) -> list[dict]:
        return []

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(user=self.request.user, rows=self.get_rows(), extra=self.extra_rows)
        return kwargs

    def post(self, request, *args, **kwargs):
        if "add_row" not in request.POST:
            return super().post(request, *args, **kwargs)
        # No JavaScript: show the rows typed so far and one more, saving nothing.
        posted = self.get_form_class()(request.POST, **self._editor_kwargs())
        rows = posted.posted_rows()
        initial = {k: v for k, v in request.POST.items() if k in posted.fields}
        form = self.get_form_class()(
            initial=initial, **{**self._editor_kwargs(), "rows": rows, "extra": 1}
        )
        return self.render_to_response(self.get_context_data(form=form))

    def audit_reason(self, form) -> str:
        # The rows' errors too (keys, never values): a form refused for its rows alone.
        reason = super().audit_reason(form)
        rows = getattr(form, "rows", None)
        if rows is None or not rows.is_bound:
            return reason
        found = [*rows.non_form_errors()]
        for index, errors in enumerate(rows.errors):
            found += [f"{index + 1}. {field}: {', '.join(e)}" for field, e in errors.items()]
        return "; ".join(filter(None, [reason, *map(str, found)]))

    def _editor_kwargs(self):
        kwargs = self.get_form_kwargs()
        for name in ("data", "files", "initial", "prefix"):
            kwargs.pop(name, None)
        return kwargs


# --- ConfigMaps ------------------------------------------------------------------------


class ConfigMapListView(ObjectListView):
    live_models = (ConfigMap,)
    needs = authz.Perm.OPERATE
    queryset = ConfigMap.objects.select_related("cluster").defer("data")  # it shows the keys
    table = tables.ConfigMapTable
    filterset_class = filters.ConfigMapFilterSet
    add_url_name = "portal:configmap_add"

    def can_add(self):
        return may_create(self.request.user)


class ConfigMapView(ObjectDetailView):
    live_models = (ConfigMap,)
    model = ConfigMap
    queryset = ConfigMap.objects.select_related("cluster", "namespace__project")
    template_name = "configs/configmap_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            values=sorted(self.object.data.items()),
            can_change=not self.object.is_system and authz.can(user, "change", self.object),
            can_delete=not self.object.is_system and authz.can(user, "delete", self.object),
        )
        return context


class ConfigMapCreateView(KeyValueEditorMixin, ServiceFormView):
    form_class = forms.ConfigMapForm
    title = _("New ConfigMap")
    needs = authz.Perm.OPERATE
    audit_action, audit_model = "configmap.create", ConfigMap
    extra_rows = 2

    def get_cancel_url(self):
        return reverse("portal:configmap_list")

    def perform(self, form):
        text, binary = form.split()
        return services.create_configmap(
            self.request.user,
            namespace=form.cleaned_data["namespace"],
            name=form.cleaned_data["name"],
            data=text,
            binary_data=binary,
        )


class ConfigMapEditView(KeyValueEditorMixin, ObjectFormView):
    model = ConfigMap
    form_class = forms.ConfigMapEditForm
    title = _("Edit values")

    def get_rows(self):
        return [{"key": k, "value": v} for k, v in sorted(self.object.data.items())]

    def get_initial(self):
        return {"resource_version": self.object.resource_version}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "binary_keys": self.object.binary_keys}

    def perform(self, form):
        text, binary = form.split()
        kept = forms.decoded_binary(self.object, form.cleaned_data.get("remove_binary") or ())
        kept = {k: v for k, v in kept.items() if k not in text}
        return services.update_configmap(
            self.request.user,
            self.object,
            data=text,
            binary_data={**kept, **binary},
            resource_version=form.cleaned_data["resource_version"],
        )


class ConfigMapYamlView(ObjectYamlView):
    model = ConfigMap
    read = services.configmap_yaml
    write = services.replace_configmap_yaml

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.object.is_system:  # Kubernetes' own: shown, never offered for editing
            context["can_edit"] = False
        return context


class YamlCreateView(ServiceFormView):
    form_class = forms.YamlCreateForm
    needs = authz.Perm.OPERATE
    kind = ""

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        return {"yaml": f"apiVersion: v1\nkind: {self.kind}\nmetadata:\n  name: \ndata:\n"}


class ConfigMapYamlCreateView(YamlCreateView):
    title = _("New ConfigMap from YAML")
    kind = "ConfigMap"
    audit_action, audit_model = "configmap.create", ConfigMap

    def get_cancel_url(self):
        return reverse("portal:configmap_list")

    def perform(self, form):
        return services.create_configmap_from_yaml(
            self.request.user, form.cleaned_data["namespace"], form.cleaned_data["yaml"]
        )


class ConfigMapDeleteView(ObjectDeleteView):
    model = ConfigMap

    def delete(self, obj):
        services.delete_configmap(self.request.user, obj)

    def get_success_url(self):
        return reverse("portal:configmap_list")


# --- Secrets ---------------------------------------------------------------------------


class SecretListView(ObjectListView):
    live_models = (Secret,)
    needs = authz.Perm.OPERATE
    queryset = Secret.objects.select_related("cluster")
    table = tables.SecretTable
    filterset_class = filters.SecretFilterSet
    add_url_name = "portal:secret_add"

    def can_add(self):
        return may_create(self.request.user)


class SecretView(ObjectDetailView):
    live_models = (Secret,)
    model = Secret
    queryset = Secret.objects.select_related("cluster", "namespace__project")
    template_name = "configs/secret_detail.html"
    revealed: dict | None = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user, secret = self.request.user, self.object
        revealed = self.revealed or {}
        context.update(
            values=[(key, revealed.get(key)) for key in secret.keys],
            revealed=self.revealed is not None,
            mask=services.MASK,
            can_reveal=authz.can(user, "reveal", secret),
            can_change=authz.can(user, "change", secret),
            can_delete=authz.can(user, "delete", secret),
            editable=secret.type in forms.EDIT_FORMS,
        )
        return context


class SecretRevealView(SecretView):
    """POST: the page again, with the values read live from Kubernetes (audited)."""

    def get(self, request, *args, **kwargs):
        return HttpResponseNotAllowed(["POST"])

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        keys = request.POST.getlist("key") or None
        self.revealed = services.reveal_secret(request.user, self.object, keys=keys)
        response = self.render_to_response(self.get_context_data(object=self.object))
        response["Cache-Control"] = "no-store"
        return response


class SecretTypeChoiceView(PortalView, TemplateView):
    template_name = "configs/secret_type.html"
    needs = authz.Perm.OPERATE

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["types"] = [(kind, t.label) for kind, (t, _form) in forms.CREATE_FORMS.items()]
        context["title"] = _("New Secret")
        return context


def _secret_values(form) -> dict:
    if isinstance(form, forms.RegistrySecretForm):
        return services.dockerconfig_data(**form.credentials())
    if isinstance(form, forms.TlsSecretForm):
        return services.tls_data(**form.pair())
    return form.values()


class SecretCreateView(KeyValueEditorMixin, ServiceFormView):
    extra_rows = 2
    needs = authz.Perm.OPERATE
    audit_action, audit_model = "secret.create", Secret

    def dispatch(self, request, *args, kind, **kwargs):
        if kind not in forms.CREATE_FORMS:
            raise Http404
        self.type, self.form_class = forms.CREATE_FORMS[kind]
        self.title = _("New Secret: %(type)s") % {"type": self.type.label}
        return super().dispatch(request, *args, **kwargs)

    def get_template_names(self):
        if issubclass(self.form_class, forms.KeyValueForm):
            return ["configs/keyvalue_form.html"]
        return ["configs/secret_form.html"]

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if not issubclass(self.form_class, forms.KeyValueForm):
            kwargs.pop("rows"), kwargs.pop("extra")
        return kwargs

    def get_cancel_url(self):
        return reverse("portal:secret_list")

    def perform(self, form):
        return services.create_secret(
            self.request.user,
            namespace=form.cleaned_data["namespace"],
            name=form.cleaned_data["name"],
            type=self.type,
            data=_secret_values(form),
        )


class SecretEditView(KeyValueEditorMixin, ObjectFormView):
    model = Secret
    title = _("Change values")

    def get_form_class(self):
        form_class = forms.EDIT_FORMS.get(self.object.type)
        if form_class is None:
            raise Http404  # other types are edited as YAML
        return form_class

    def get_template_names(self):
        if issubclass(self.get_form_class(), forms.KeyValueForm):
            return ["configs/keyvalue_form.html"]
        return ["configs/secret_form.html"]

    def get_rows(self):
        return [{"key": key} for key in self.object.keys]

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        if not issubclass(self.get_form_class(), forms.KeyValueForm):
            kwargs.pop("rows"), kwargs.pop("extra")
        return kwargs

    def get_initial(self):
        return {"resource_version": self.object.resource_version}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["keep_blank"] = True
        return context

    def perform(self, form):
        options = {"resource_version": form.cleaned_data["resource_version"]}
        if isinstance(form, forms.OpaqueSecretEditForm):
            options.update(data=form.values(), remove=form.removed(self.object.keys))
        else:
            options.update(data=_secret_values(form), replace_all=True)
        return services.update_secret(self.request.user, self.object, **options)


class SecretYamlView(ObjectYamlView):
    """The Secret's YAML with its values masked; masked values are kept when applied."""

    model = Secret
    template_name = "configs/secret_yaml.html"
    read = services.secret_yaml
    write = services.replace_secret_yaml

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            mask=services.MASK, can_reveal=authz.can(self.request.user, "reveal", self.object)
        )
        return context


class SecretYamlRevealView(SecretYamlView):
    """POST: the YAML with its values (audited); applying it goes to the YAML page."""

    def get(self, request, *args, **kwargs):
        return HttpResponseNotAllowed(["POST"])

    def post(self, request, *args, **kwargs):
        text = services.secret_yaml(request.user, self.object, reveal=True)
        form = YamlForm(initial={"yaml": text})
        response = self.render_to_response(self.get_context_data(form=form, revealed=True))
        response["Cache-Control"] = "no-store"
        return response


class SecretYamlCreateView(YamlCreateView):
    title = _("New Secret from YAML")
    kind = "Secret"
    audit_action, audit_model = "secret.create", Secret

    def get_initial(self):
        return {
            "yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: \ntype: Opaque\nstringData:\n"
        }

    def get_cancel_url(self):
        return reverse("portal:secret_list")

    def perform(self, form):
        return services.create_secret_from_yaml(
            self.request.user, form.cleaned_data["namespace"], form.cleaned_data["yaml"]
        )


class SecretDeleteView(ObjectDeleteView):
    model = Secret

    def delete(self, obj):
        services.delete_secret(self.request.user, obj)

    def get_success_url(self):
        return reverse("portal:secret_list")
