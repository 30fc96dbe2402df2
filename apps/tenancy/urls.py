from django.urls import path

from . import views

urlpatterns = [
    path("departments/", views.DepartmentListView.as_view(), name="department_list"),
    path("departments/add/", views.DepartmentCreateView.as_view(), name="department_add"),
    path("departments/<int:pk>/", views.DepartmentView.as_view(), name="department"),
    path("departments/<int:pk>/edit/", views.DepartmentEditView.as_view(), name="department_edit"),
    path(
        "departments/<int:pk>/delete/",
        views.DepartmentDeleteView.as_view(),
        name="department_delete",
    ),
    path(
        "departments/<int:pk>/admins/add/",
        views.DepartmentAdminAddView.as_view(),
        name="department_admin_add",
    ),
    path(
        "department-admins/<int:pk>/remove/",
        views.DepartmentAdminRemoveView.as_view(),
        name="department_admin_remove",
    ),
    path("projects/", views.ProjectListView.as_view(), name="project_list"),
    path("projects/add/", views.ProjectCreateView.as_view(), name="project_add"),
    path("projects/switch/", views.SwitchProjectView.as_view(), name="project_switch"),
    path("projects/<int:pk>/", views.ProjectView.as_view(), name="project"),
    path("projects/<int:pk>/edit/", views.ProjectEditView.as_view(), name="project_edit"),
    path("projects/<int:pk>/delete/", views.ProjectDeleteView.as_view(), name="project_delete"),
    path("projects/<int:pk>/members/add/", views.MemberAddView.as_view(), name="member_add"),
    path("members/", views.MembershipListView.as_view(), name="membership_list"),
    path("members/<int:pk>/role/", views.MemberRoleView.as_view(), name="member_role"),
    path("members/<int:pk>/remove/", views.MemberRemoveView.as_view(), name="member_remove"),
]
