from django.utils.translation import gettext_lazy as _

from apps.core.tables import Column, Table


class DepartmentTable(Table):
    columns = [
        Column("name", _("Name"), link=True),
        Column("display_name", _("Display name")),
        Column("project_count", _("Projects")),
        Column("created", _("Created")),
    ]


class ProjectTable(Table):
    columns = [
        Column("name", _("Name"), link=True),
        Column("display_name", _("Display name")),
        Column("department", _("Department")),
        Column("member_count", _("Members")),
        Column("created", _("Created")),
    ]


class MembershipTable(Table):
    columns = [
        Column("user.username", _("User")),
        Column("project", _("Project"), link="project"),
        Column("get_role_display", _("Role")),
        Column("created", _("Since")),
    ]
