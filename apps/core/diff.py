"""Diffs of two texts (YAML, mostly) as pages and the API show them: unified (an edit's
preview against what runs) and side by side (a revision against the running one).

Both are difflib's, line by line. The rows are plain strings: templates escape them.
"""

import difflib
from dataclasses import dataclass

CONTEXT = 3  # unchanged lines kept around each change; longer runs are folded


def unified(old: str, new: str, *, fromfile: str, tofile: str) -> str:
    """The unified diff of ``old`` and ``new`` ("" when they are the same)."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=str(fromfile),
            tofile=str(tofile),
        )
    )


@dataclass(frozen=True)
class Row:
    """One row of a side-by-side diff. ``kind`` is "same", "changed", "removed" (only on
    the left), "added" (only on the right) or "folded" (``folded`` unchanged lines not
    shown); a side without a line has the number None."""

    kind: str
    left: str = ""
    right: str = ""
    left_number: int | None = None
    right_number: int | None = None
    folded: int = 0


def side_by_side(old: str, new: str, *, context: int = CONTEXT) -> list[Row]:
    """``old`` (left) against ``new`` (right), changed lines paired, runs of unchanged lines
    longer than the ``context`` around changes folded. No rows when they are the same."""
    a, b = old.splitlines(), new.splitlines()
    if a == b:
        return []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    rows: list[Row] = []
    shown = 0  # lines of ``a`` shown or folded so far
    for group in matcher.get_grouped_opcodes(context):
        if group[0][1] > shown:
            rows.append(Row("folded", folded=group[0][1] - shown))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(
                    Row("same", a[i], b[j], i + 1, j + 1)
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                )
                continue
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                left, right = i < i2, j < j2
                kind = "changed" if left and right else "removed" if left else "added"
                rows.append(
                    Row(
                        kind,
                        a[i] if left else "",
                        b[j] if right else "",
                        i + 1 if left else None,
                        j + 1 if right else None,
                    )
                )
        shown = group[-1][2]
    if shown < len(a):
        rows.append(Row("folded", folded=len(a) - shown))
    return rows
