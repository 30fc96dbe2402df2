"""The portal's form renderer draws <select> in Python, to the very markup Django's
templates draw, so a page with hundreds of options does not pay the template engine
for each one."""

from django import forms
from django.forms.renderers import DjangoTemplates

from apps.core.renderers import FormRenderer


class Choices(forms.Form):
    plain = forms.ChoiceField(choices=[("", "Any"), ("a", "A & <b>"), ("2", 'Two "quoted"')])
    grouped = forms.ChoiceField(
        choices=[("Zone", [("z1", "zone-a"), ("z2", "zone-b")]), ("x", "Other")],
        widget=forms.Select(attrs={"class": "narrow", "data-live": True, "hidden": False}),
    )
    many = forms.MultipleChoiceField(choices=[(1, "one"), (2, "two"), (3, "three")])
    yes_no = forms.NullBooleanField()
    disabled = forms.ChoiceField(choices=[("a", "A")], disabled=True, required=False)


def _rendered(renderer, data):
    form = Choices(data, renderer=renderer)
    return {name: str(form[name]) for name in form.fields}


def test_selects_are_drawn_as_djangos_templates_draw_them():
    data = {"plain": "a", "grouped": "z2", "many": ["1", "3"], "yes_no": "true"}
    ours, django = _rendered(FormRenderer(), data), _rendered(DjangoTemplates(), data)
    assert ours == django
    # (What the comparison covers: escaping, selected options, groups, bare and
    # left-out attributes, multiple selections.)
    assert '<option value="a" selected>A &amp; &lt;b&gt;</option>' in ours["plain"]
    assert '<optgroup label="Zone">' in ours["grouped"] and " data-live " in ours["grouped"]
    assert ours["many"].count(" selected") == 2 and " multiple" in ours["many"]


def test_an_option_with_a_template_of_its_own_is_left_to_django():
    class Special(forms.Select):
        option_template_name = "django/forms/widgets/input.html"

    def drawn(renderer):
        form = forms.Form(renderer=renderer)
        form.fields["pick"] = forms.ChoiceField(choices=[("a", "A")], widget=Special)
        return str(form["pick"])

    assert drawn(FormRenderer()) == drawn(DjangoTemplates())
    assert '<input type="select" name="pick" value="a">' in drawn(FormRenderer())
