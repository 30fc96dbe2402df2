"""Shared API building blocks: every viewset restricts through authz and writes via services."""

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import exceptions, mixins, serializers, viewsets

from apps.core import audit
from apps.kube.errors import KubeError

# The audit verb of each viewset action; custom actions use their own name.
VERBS = {"create": "create", "update": "update", "partial_update": "update", "destroy": "delete"}
REFUSALS = (
    exceptions.ValidationError,
    exceptions.PermissionDenied,
    exceptions.NotFound,
    exceptions.ParseError,
    ValidationError,
    PermissionDenied,
    Http404,
    KubeError,
)


class RestrictedRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object by id, chosen among those the requesting user may see.

    An id the user may not see is answered like a missing one, so the API does
    not confirm that another project's object exists.
    """

    def __init__(self, model=None, action="view", *, null_when_read=False, **kwargs):
        # A model, or its "app_label.Model" (for modules that may not import the model).
        self.model = apps.get_model(model) if isinstance(model, str) else model
        self.authz_action = action
        # Required when written, but may be empty when read (a namespace no project owns).
        self.null_when_read = null_when_read
        if not kwargs.get("read_only"):
            kwargs["queryset"] = self.model.objects.all()
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.model.objects.restrict(request.user if request else None, self.authz_action)


class RestrictedRelatedFieldExtension(OpenApiSerializerFieldExtension):
    target_class = RestrictedRelatedField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "response" and self.target.null_when_read:
            schema = {**schema, "nullable": True}
        return schema


class WriteChoiceField(serializers.ChoiceField):
    """A choice a client may write, read back as whatever Kubernetes has.

    Objects created outside the portal float up with values the portal does not offer
    (a Secret of type ``kubernetes.io/service-account-token``, say): requests are held
    to the choices, responses are documented as any text.
    """


class WriteChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = WriteChoiceField

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        schema = build_basic_type(OpenApiTypes.STR)
        schema["description"] = "Written as one of: " + ", ".join(
            str(choice) for choice in self.target.choices
        )
        return schema


class RestrictedViewSet(viewsets.GenericViewSet):
    """Lists and lookups filtered by ``Model.objects.restrict(user, "view")``.

    A change the API refuses before a service sees it (an id the user may not see,
    invalid input) is audited here; what a service refuses, the service audits.
    """

    # Ids are integers: "+7", " 7" or "7\n" name no object (Django's int() read them as 7).
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        queryset = super().get_queryset().restrict(self.request.user, "view")
        if getattr(self, "action", None) == "list" and hasattr(queryset, "for_list"):
            queryset = queryset.for_list()  # mirrored rows without their manifest
        return queryset

    def handle_exception(self, exc):
        if (
            self.request.method not in ("GET", "HEAD", "OPTIONS")
            and isinstance(exc, REFUSALS)
            and not getattr(exc, "kcs_audited", False)
            and self.request.user.is_authenticated
        ):
            model = self.queryset.model
            verb = VERBS.get(self.action, self.action or "")
            name = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
            try:
                data = self.request.data
            except Exception:  # the body itself was what was refused
                data = {}
            data = data if isinstance(data, dict) else {}
            # What the user asked to change, even if they may not see it: its project's
            # admins see who tried.
            target = model._default_manager.filter(pk=name).first() if str(name).isdigit() else None
            audit.refused(
                self.request.user,
                f"{model._meta.model_name}.{verb.replace('_', '-')}",
                target,
                model=model,
                name="" if target else f"#{name}" if name else str(data.get("name", "")),
                reason=audit.reason(exc),
            )
        return super().handle_exception(exc)


class ServiceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    RestrictedViewSet,
):
    """CRUD whose writes are the owning app's service functions.

    Subclasses implement ``create_object(data)``, ``update_object(obj, data)``
    and ``delete_object(obj)``, and list the verbs they offer in
    ``http_method_names``.
    """

    def perform_create(self, serializer):
        serializer.instance = self._annotated(self.create_object(dict(serializer.validated_data)))

    def perform_update(self, serializer):
        serializer.instance = self._annotated(
            self.update_object(serializer.instance, dict(serializer.validated_data))
        )

    def _annotated(self, obj):
        """The object as the list shows it: with the queryset's annotations (a project's
        member_count, say), which a service's fresh object does not have."""
        queryset = self.get_queryset()
        names = list(queryset.query.annotations)
        if names and getattr(obj, "pk", None) is not None:
            values = queryset.filter(pk=obj.pk).values(*names).first() or {}
            for name, value in values.items():
                setattr(obj, name, value)
        return obj

    def perform_destroy(self, instance):
        self.delete_object(instance)
