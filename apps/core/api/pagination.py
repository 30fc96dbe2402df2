from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from apps.core import keyset


class Pagination(LimitOffsetPagination):
    """``?limit=&offset=`` for the short lists (tenancy, tokens, clusters); a limit or offset
    that is not a whole number in range is a 400, not silently the default."""

    default_limit = 50
    max_limit = 1000
    max_offset = 2**31 - 1

    def get_limit(self, request):
        limit = _whole(request, self.limit_query_param, 1, self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request):
        offset = _whole(request, self.offset_query_param, 0, self.max_offset)
        return offset or 0

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: (1, self.max_limit),
            self.offset_query_param: (0, self.max_offset),
        }
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"].update(minimum=low, maximum=high)
        return parameters


def _whole(request, name: str, low: int, high: int) -> int | None:
    values = request.query_params.getlist(name)
    if not values:
        return None
    value = values[-1]
    if (
        len(values) > 1
        or not value.isascii()
        or not value.isdigit()
        or not low <= int(value) <= high
    ):
        raise ValidationError(
            {
                name: _("Give one whole number between %(low)s and %(high)s.")
                % {"low": low, "high": high}
            }
        )
    return int(value)


class KeysetPagination(BasePagination):
    """Pages that cost the same however deep: ``?cursor=`` from ``next`` or ``previous``.

    An offset makes the database read and skip every row before the page; a cursor names
    the sort key of the row a page ends at, and the next page starts after it through the
    index that serves the ordering (the list's ``ordering``, with the primary key as
    tie-breaker; see ``apps.core.keyset``). For lists of mirrored objects, operations and
    audit events, which grow to tens of thousands. ``?limit=`` sets the size.
    """

    page_size = 50
    max_page_size = 1000
    cursor_query_param = "cursor"
    limit_query_param = "limit"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.limit = self._limit(request)
        try:
            self.page = keyset.paginate(
                queryset, request.query_params.get(self.cursor_query_param), self.limit
            )
        except keyset.InvalidCursor:
            raise ValidationError(
                {self.cursor_query_param: _("This cursor is not valid here.")}
            ) from None
        return self.page.rows

    def get_paginated_response(self, data):
        return Response(
            {
                "next": self._link(self.page.next_cursor),
                "previous": self._link(self.page.previous_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": "Where the page starts: the `next` (or `previous`) link "
                "of another page.",
                "schema": {"type": "string"},
            },
            {
                "name": self.limit_query_param,
                "in": "query",
                "required": False,
                "description": f"Rows per page (at most {self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]

    def _limit(self, request) -> int:
        limit = _whole(request, self.limit_query_param, 1, self.max_page_size)
        return self.page_size if limit is None else limit

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, cursor)
