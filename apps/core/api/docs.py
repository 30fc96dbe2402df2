from csp.constants import SELF
from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularSwaggerSplitView


# Swagger UI is served from local assets (drf-spectacular-sidecar) with its
# script in a separate file; it only needs inline style attributes and data: images.
@method_decorator(
    csp_update({"style-src": [SELF, "'unsafe-inline'"], "img-src": [SELF, "data:"]}),
    name="dispatch",
)
class SwaggerView(SpectacularSwaggerSplitView):
    pass
