from django.conf import settings

from . import authz
from .navigation import menu_for


def portal(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"languages": settings.LANGUAGES}
    from apps.tenancy.models import Project

    return {
        "languages": settings.LANGUAGES,
        "is_cloud_admin": authz.is_cloud_admin(user),
        "menu": menu_for(request),
        "user_projects": Project.objects.restrict(user, "view"),
    }
