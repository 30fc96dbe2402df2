from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .models import Department, Membership, Project


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = ["name", "display_name", "description"]


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["department", "name", "display_name", "description"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only departments the user may add projects to.
        self.fields["department"].queryset = Department.objects.restrict(user, "add_project")

    def validate_unique(self):
        """Left to the service, whose answer does not confirm another department's project."""


class ProjectEditForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["display_name", "description"]


class DepartmentEditForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = ["display_name", "description"]


class UsernameField(forms.CharField):
    """A user picked by username: tenants cannot browse the user directory."""

    def clean(self, value):
        value = super().clean(value)
        user = get_user_model().objects.filter(username=value, is_active=True).first()
        if user is None:
            raise forms.ValidationError(
                _("There is no active user named %(name)s.") % {"name": value}
            )
        return user


class MemberAddForm(forms.Form):
    user = UsernameField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Membership.ROLES)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Membership.ROLES)


class DepartmentAdminAddForm(forms.Form):
    user = UsernameField(label=_("Username"), max_length=150)
