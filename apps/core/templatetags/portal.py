"""Template filters of the portal's own pages."""

import re

from django import template
from django.template.base import render_value_in_context
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

register = template.Library()


@register.filter
def operation_log(operation) -> list[str]:
    """An operation's log lines in the reader's language."""
    from apps.core.operations import log_lines

    return log_lines(operation)


# After the separators of technical names (project.member.add, 2001:db8::1, a/b) and
# between the words of a CamelCase kind (Persistent|Volume|Claim).
_BREAKS = re.compile(r"(?<=[._:/@])(?=[^\s._:/@])|(?<=[a-z])(?=[A-Z])")


@register.filter
def wrappable(value):
    """The value, escaped, with line-break opportunities where a technical name may wrap."""
    return mark_safe(_BREAKS.sub("<wbr>", str(conditional_escape(value))))  # noqa: S308


# core/cells/time.html, as its `date:'c'` and `date:"Y-m-d H:i:s"` render it.
_TIME = '<time class="moment" datetime="{}">{}</time>'

_TD = {
    (True, False): '<td class="nowrap">',
    (True, True): '<td class="nowrap">',
    (False, True): '<td class="breakable">',
    (False, False): "<td>",
}


@register.simple_tag(takes_context=True)
def table_rows(context, table):
    """A table's rows: what a template loop over every cell would render, in Python.

    Rendering a list page was mostly the template engine walking each cell (tags,
    filters, an include per templated cell). Cells with a template are still
    rendered by it exactly as ``{% include %}`` would (the whole context, plus
    ``row``, ``cells``, ``column``, ``value``, ``url`` and ``template``); the others
    are put together here, escaped and localised as ``{{ value }}`` would be.
    """
    from apps.core.tables import TIME

    engine = context.template.engine
    templates = {}
    parts = []
    for row, cells in table:
        parts.append("\n    <tr>")
        for column, value, url, name in cells:
            parts.append(_TD[(bool(column.nowrap), bool(column.breakable))])
            if name == TIME and value is not None:  # every table has one: the quick way
                moment = template_localtime(value, context.use_tz)
                parts.append(_TIME.format(moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M:%S")))
            elif name:
                cell = templates.get(name)
                if cell is None:
                    cell = templates[name] = engine.get_template(name)
                with context.push(
                    row=row, cells=cells, column=column, value=value, url=url, template=name
                ):
                    parts.append(cell.render(context))
            else:
                shown = "\u2014" if value is None else value
                if column.breakable:
                    text = wrappable(shown)
                else:
                    text = render_value_in_context(shown, context)
                if url:
                    parts.append(f'<a href="{render_value_in_context(url, context)}">{text}</a>')
                else:
                    parts.append(text)
            parts.append("</td>")
        parts.append("</tr>")
    if not parts:
        return format_html(
            '\n    <tr><td colspan="{}" class="empty">{}</td></tr>',
            len(table.columns),
            table.empty_text,
        )
    return mark_safe("".join(parts))  # noqa: S308 (each part escaped above)
