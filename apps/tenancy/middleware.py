from django.utils.functional import SimpleLazyObject

from .models import Project

SESSION_KEY = "current_project"


def _current_project(request):
    """The project chosen in the project switcher (if the user may still see it), or None
    for "all projects" (the default): lists then show everything the user may see."""
    user = request.user
    chosen = request.session.get(SESSION_KEY)
    if not user.is_authenticated or not chosen:
        return None
    return Project.objects.restrict(user, "view").filter(pk=chosen).first()


class CurrentProjectMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.project = SimpleLazyObject(lambda: _current_project(request))
        return self.get_response(request)
