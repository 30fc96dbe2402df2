from django.utils.functional import SimpleLazyObject

from .models import Project

SESSION_KEY = "current_project"


def _current_project(request):
    """The project chosen in the project switcher, if the user may still see it."""
    user = request.user
    if not user.is_authenticated:
        return None
    projects = Project.objects.restrict(user, "view")
    chosen = request.session.get(SESSION_KEY)
    project = projects.filter(pk=chosen).first() if chosen else None
    return project or projects.order_by("name").first()


class CurrentProjectMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.project = SimpleLazyObject(lambda: _current_project(request))
        return self.get_response(request)
