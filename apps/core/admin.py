from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from . import authz
from .models import ApiToken, AuditEvent, Operation


class CloudAdminOnly:
    """Only cloud admins use the admin site, whatever their Django model permissions."""

    def has_module_permission(self, request):
        return authz.is_cloud_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return authz.is_cloud_admin(request.user)

    def has_add_permission(self, request):
        return authz.is_cloud_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return authz.is_cloud_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return authz.is_cloud_admin(request.user)


class PortalModelAdmin(CloudAdminOnly, admin.ModelAdmin):
    """Admin for cloud admins; writes go through the owning app's services.

    Subclasses implement ``create``/``update``/``remove`` by calling the service
    function, so the admin site validates, authorizes and audits exactly as the
    portal and the API do.
    """

    def has_add_permission(self, request):
        return super().has_add_permission(request) and hasattr(self, "create")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and hasattr(self, "update")

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and hasattr(self, "remove")

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            self.update(request.user, obj, data)
        else:
            saved = self.create(request.user, form.cleaned_data)
            obj.pk = saved.pk

    def delete_model(self, request, obj):
        self.remove(request.user, obj)

    def delete_queryset(self, request, queryset):
        for_each(self, request, queryset, lambda obj: self.remove(request.user, obj))


def for_each(modeladmin, request, queryset, call, done=None):
    """Run ``call(obj)`` (a service) on each selected object and report each result.

    A refusal for one object is shown and the others go on. ``done(n)`` is the
    success message for n objects (an ngettext with ``%(n)s``).
    """
    count = 0
    for obj in queryset:
        try:
            call(obj)
        except (ValidationError, PermissionDenied) as exc:
            error = " ".join(getattr(exc, "messages", [str(exc)]))
            modeladmin.message_user(request, f"{obj}: {error}", messages.ERROR)
        else:
            count += 1
    if count and done is not None:
        modeladmin.message_user(request, done(count) % {"n": count}, messages.SUCCESS)


class ReadOnlyAdmin(PortalModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "created",
        "actor_name",
        "action",
        "target_type",
        "target_name",
        "project_name",
        "cluster",
        "namespace",
        "result",
        "source_ip",
    ]
    list_filter = ["result", "action", "target_type", "cluster", "created"]
    search_fields = [
        "actor_name",
        "action",
        "target_name",
        "project_name",
        "namespace",
        "request_id",
    ]
    date_hierarchy = "created"
    list_select_related = False


@admin.register(Operation)
class OperationAdmin(ReadOnlyAdmin):
    list_display = [
        "created",
        "kind",
        "target_name",
        "actor",
        "project",
        "status",
        "progress",
        "step",
    ]
    list_filter = ["status", "kind", "created"]
    search_fields = ["target_name", "step", "error", "request_id"]
    list_select_related = ["actor", "project"]
    exclude = ["log"]

    def get_readonly_fields(self, request, obj=None):
        fields = [f for f in super().get_readonly_fields(request, obj) if f != "log"]
        return [*fields, "log_text"]

    @admin.display(description=_("log"))
    def log_text(self, obj):
        from .operations import log_lines

        return "\n".join(log_lines(obj))


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "created", "expires", "last_used"]
    search_fields = ["name", "user__username", "prefix"]
    list_select_related = ["user"]
    exclude = ["digest"]

    def get_readonly_fields(self, request, obj=None):
        return [f for f in super().get_readonly_fields(request, obj) if f != "digest"]

    def remove(self, actor, token):
        from .services import revoke_token

        revoke_token(actor, token)


class CloudAdminUserAdmin(CloudAdminOnly, UserAdmin):
    """User accounts, managed by cloud admins; changes are audited by the service."""

    def save_model(self, request, obj, form, change):
        from .services import save_user

        save_user(request.user, obj, created=not change, changed=list(form.changed_data))

    def delete_model(self, request, obj):
        from .services import delete_user

        delete_user(request.user, obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            self.delete_model(request, user)


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), CloudAdminUserAdmin)

admin.site.site_header = _("KCS Portal administration")
admin.site.site_title = _("KCS Portal")
