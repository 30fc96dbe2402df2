"""The diffs pages show: side by side (a revision against the running one) and unified (an
edit's preview)."""

from apps.core.diff import side_by_side, unified


def test_side_by_side_pairs_changes_and_folds_long_unchanged_runs():
    old = "\n".join(f"line {i}" for i in range(20))
    new = old.replace("line 10", "line ten").replace("line 19", "line 19\nline 20")
    rows = side_by_side(old, new, context=2)
    assert [(r.kind, r.left, r.right, r.folded) for r in rows] == [
        ("folded", "", "", 8),
        ("same", "line 8", "line 8", 0),
        ("same", "line 9", "line 9", 0),
        ("changed", "line 10", "line ten", 0),
        ("same", "line 11", "line 11", 0),
        ("same", "line 12", "line 12", 0),
        ("folded", "", "", 5),
        ("same", "line 18", "line 18", 0),
        ("same", "line 19", "line 19", 0),
        ("added", "", "line 20", 0),
    ]
    assert (rows[3].left_number, rows[3].right_number) == (11, 11)
    assert (rows[-1].left_number, rows[-1].right_number) == (None, 21)
    assert side_by_side(old, old) == []
    removed = side_by_side("a\nb\nc", "a\nc")
    assert [(r.kind, r.left, r.right) for r in removed] == [
        ("same", "a", "a"),
        ("removed", "b", ""),
        ("same", "c", "c"),
    ]


def test_unified_is_empty_for_the_same_text_and_names_the_sides():
    assert unified("a\n", "a\n", fromfile="running", tofile="after") == ""
    text = unified("a\nb\n", "a\nc\n", fromfile="running", tofile="after")
    assert text.splitlines() == ["--- running", "+++ after", "@@ -1,2 +1,2 @@", " a", "-b", "+c"]
