"""Shared API building blocks: every viewset restricts through authz and writes via services."""

from rest_framework import mixins, serializers, viewsets


class RestrictedRelatedField(serializers.PrimaryKeyRelatedField):
    """A related object by id, chosen among those the requesting user may see.

    An id the user may not see is answered like a missing one, so the API does
    not confirm that another project's object exists.
    """

    def __init__(self, model=None, action="view", **kwargs):
        self.model = model
        self.authz_action = action
        if not kwargs.get("read_only"):
            kwargs["queryset"] = model.objects.all()
        super().__init__(**kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return self.model.objects.restrict(request.user if request else None, self.authz_action)


class RestrictedViewSet(viewsets.GenericViewSet):
    """Lists and lookups filtered by ``Model.objects.restrict(user, "view")``."""

    def get_queryset(self):
        return super().get_queryset().restrict(self.request.user, "view")


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
        serializer.instance = self.create_object(dict(serializer.validated_data))

    def perform_update(self, serializer):
        serializer.instance = self.update_object(
            serializer.instance, dict(serializer.validated_data)
        )

    def perform_destroy(self, instance):
        self.delete_object(instance)
