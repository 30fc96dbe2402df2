"""The log centre's query model, the same for every store.

Close to KubeSphere's: a bool query over cluster, namespace, workload, pod and container
(each exact, or a prefix when the value ends with ``*``), a time range, and keywords on
the message. Keywords are a small boolean language, unlike KubeSphere's OR of words:

    error timeout            both (AND is implied between terms)
    error OR warn            either
    error NOT probe          error, without probe (also: -probe)
    "connection refused"     the phrase, as written
    (a OR b) c               grouping

Every term matches as a case-insensitive substring of the message, so Chinese text,
``snake_case`` names and punctuation (``/api/v1``, ``a.b:c``, ``50%``) are found as typed.
Operators are written in capitals; ``and``/``or``/``not`` in lower case are words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_TERMS = 20
MAX_KEYWORDS = 500


@dataclass(frozen=True)
class Term:
    text: str


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class And:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    nodes: tuple[Node, ...]


Node = Term | Not | And | Or


@dataclass(frozen=True)
class Match:
    """A field's value: exact, or a prefix (written ``value*``)."""

    value: str
    prefix: bool = False

    @classmethod
    def parse(cls, text: str | None) -> Match | None:
        text = (text or "").strip()
        if not text or text == "*":
            return None
        if text.endswith("*"):
            return cls(text[:-1], prefix=True)
        return cls(text)


@dataclass
class LogQuery:
    start: datetime
    end: datetime
    clusters: list[int] | None = None  # cluster ids; None: every cluster
    namespace: Match | None = None
    workload: Match | None = None
    pod: Match | None = None
    container: Match | None = None
    keywords: Node | None = None
    # Which (cluster id, namespace) the reader may see: ``(sql, params)`` of a subquery of
    # two columns, or None for everything (cloud admins). Set by the service, never by a
    # caller's input; every store puts it into its WHERE clause.
    scope: tuple[str, list] | None = None
    text: str = ""  # the keywords as typed
    terms: list[str] = field(default_factory=list)  # what to highlight


def _tokens(text: str):
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            yield ch, ch
            i += 1
        elif ch == '"':
            j = i + 1
            buf = []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n and text[j + 1] in '"\\':
                    j += 1
                buf.append(text[j])
                j += 1
            if j >= n:
                raise ValidationError(_("A quotation mark is not closed."))
            yield "TERM", "".join(buf)
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '()"':
                j += 1
            word = text[i:j]
            if word in ("AND", "OR", "NOT"):
                yield word, word
            elif word.startswith("-") and len(word) > 1:
                yield "NOT", "NOT"
                yield "TERM", word[1:]
            else:
                yield "TERM", word
            i = j


class _Parser:
    def __init__(self, text: str):
        self.tokens = list(_tokens(text))
        self.pos = 0
        self.terms: list[str] = []

    def peek(self):
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def take(self):
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Node | None:
        if not self.tokens:
            return None
        node = self.or_()
        if self.peek() is not None:
            raise ValidationError(_("A closing parenthesis has no opening one."))
        return node

    def or_(self) -> Node:
        nodes = [self.and_()]
        while self.peek() == "OR":
            self.take()
            nodes.append(self.and_())
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def and_(self) -> Node:
        nodes = [self.unary()]
        while self.peek() in ("AND", "NOT", "TERM", "("):
            if self.peek() == "AND":
                self.take()
            nodes.append(self.unary())
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def unary(self, negated: bool = False) -> Node:
        kind = self.peek()
        if kind == "NOT":
            self.take()
            return Not(self.unary(negated=not negated))
        if kind == "(":
            self.take()
            node = self.or_()
            if self.peek() != ")":
                raise ValidationError(_("A parenthesis is not closed."))
            self.take()
            return node
        if kind == "TERM":
            text = self.take()[1]
            if not text.strip():
                raise ValidationError(_("An empty phrase matches nothing; remove it."))
            if not negated:
                self.terms.append(text)
            return Term(text)
        if kind is None:
            raise ValidationError(_("The keywords end with an operator; add a word after it."))
        raise ValidationError(
            _("%(op)s needs a word on each side.") % {"op": self.tokens[self.pos][1]}
        )


def parse_keywords(text: str) -> tuple[Node | None, list[str]]:
    """The keywords' tree and the terms to highlight; ValidationError for bad syntax."""
    text = text or ""
    if len(text) > MAX_KEYWORDS:
        raise ValidationError(_("Keywords are limited to %(n)s characters.") % {"n": MAX_KEYWORDS})
    parser = _Parser(text)
    node = parser.parse()
    if sum(1 for kind, _v in parser.tokens if kind == "TERM") > MAX_TERMS:
        raise ValidationError(_("Use at most %(n)s keywords.") % {"n": MAX_TERMS})
    return node, parser.terms


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
