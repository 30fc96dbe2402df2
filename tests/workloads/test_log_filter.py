"""The log filter's regular expressions are bounded: a pattern that backtracks without
end (such as (a+)+$) on a long line gives a result or a clear error, never a hung worker;
a malformed pattern is a clear error of the form."""

import pytest
from django.core.exceptions import ValidationError

from apps.workloads import containers
from apps.workloads.forms import LogOptionsForm

LONG = "a" * 100_000 + "!"


def test_a_catastrophic_pattern_on_a_long_line_answers():
    match = containers.matcher("(a+)+$", True)
    try:
        assert match(LONG) is False
        assert match("aaa") is True
    except ValidationError as exc:
        assert "takes too long" in exc.message_dict["filter"][0]


def test_a_pattern_too_slow_for_the_lines_is_refused_with_a_reason():
    # (tries every way of splitting the line into a and aa: unbounded, for ever)
    match = containers.matcher("(a|aa)+$", True)
    with pytest.raises(ValidationError) as refused:
        for _ in range(50):
            match("a" * 5000 + "!")
    assert "takes too long" in refused.value.message_dict["filter"][0]
    assert "(a+)+" in refused.value.message_dict["filter"][0]


def test_one_read_has_one_budget_over_all_its_lines(monkeypatch):
    # Each line is decided at once, but the read's clock runs on (a busy machine, many
    # lines): past the read's deadline the filter stops and says why, whatever each
    # line took on its own.
    now = [1000.0]

    def clock():
        now[0] += 0.3
        return now[0]

    monkeypatch.setattr(containers.time, "monotonic", clock)
    match = containers.matcher("GET", True)
    lines = [f"GET /{n}" for n in range(100)]
    with pytest.raises(ValidationError) as refused:
        [line for line in lines if match(line)]
    assert "takes too long" in refused.value.message_dict["filter"][0]
    # A followed log gives every line its own bound instead: it never gives up.
    follow = match.for_follow()
    assert all(follow(line) for line in lines)


def test_a_catastrophic_pattern_over_many_lines_is_refused(monkeypatch):
    monkeypatch.setattr(containers, "REGEX_SECONDS", 0.3)
    match = containers.matcher(r"^(.|..)+\d$", True)
    lines = ["10.1.2.3 - - [01/Mar/2025:12:00:00 +0000] " + '"GET / HTTP/1.1" 200 615 "-"'] * 200
    with pytest.raises(ValidationError) as refused:
        [line for line in lines if match(line)]
    assert "takes too long" in refused.value.message_dict["filter"][0]


def test_a_followed_log_leaves_out_a_line_the_pattern_cannot_decide():
    match = containers.matcher("(a|aa)+$", True).for_follow()
    assert [match("a" * 5000 + "!") for _ in range(2)] == [False, False]
    assert match("xaa") is True


def test_the_whole_of_a_long_line_is_searched():
    match = containers.matcher("need+le", True)
    assert match("a" * 1_000_000 + "needle")
    assert not match("a" * 1_000_000 + "nele")


@pytest.mark.parametrize("pattern", ["(unclosed", "a{2,1}", "*a", "(?<x"])
def test_a_malformed_pattern_is_a_form_error(pattern):
    form = LogOptionsForm({"filter": pattern, "regex": "1"})
    assert not form.is_valid()
    assert "Not a valid regular expression" in form.errors["__all__"][0]


def test_plain_text_is_not_a_pattern():
    form = LogOptionsForm({"filter": "(a+)+$"})
    assert form.is_valid(), form.errors
    assert form.query().match("x (a+)+$ y")
