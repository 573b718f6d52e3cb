"""The facts of one file as plain data (``facts`` reads them, ``plan`` decides on them,
``edits`` places the changes by their spans)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..scan.rules import Entry

__all__ = ["Binding", "Chain", "Facts", "Span", "span"]

# (first line, column, last line, end column) as ``ast`` gives them: lines from 1, columns
# in UTF-8 bytes of the line
Span = tuple[int, int, int, int]


def span(node: ast.AST) -> Span:
    return (node.lineno, node.col_offset, node.end_lineno,  # type: ignore[attr-defined]
            node.end_col_offset)  # type: ignore[attr-defined]


@dataclass
class Binding:
    """One import binding of a local name: ``import M as x``, ``from P import n as x``,
    ``import a.b`` (binds ``a``)."""

    local: str
    qualified: str  # what the name is: "a" for ``import a.b``, "P.n" for ``from P import n``
    line: int  # the import statement's first line
    scope: str  # module | class | function
    plain: str | None = None  # ``import a.b.c`` without ``as``: "a.b.c"
    from_import: bool = False  # ``from P import n``
    scope_id: int = 0  # which scope binds it (bindings of one name in one scope go together)
    toplevel: bool = False  # a statement of the module's own body (not under if/try/with)


@dataclass
class Chain:
    """A chain (or ``getattr(x, "n")`` and its kin) whose qualified name reaches an entry."""

    line: int
    text: str  # key shared with the libcst pass: the dotted source of the part replaced
    form: str  # chain | getattr | namespace-write (setattr, patch.object, ...)
    store: bool  # the part replaced is assigned or deleted, not read
    entry: Entry
    module: str  # the object reached is ``module.attr``
    attr: str | None  # None: the chain names the legacy module itself
    binding: Binding
    called: bool = False  # the part replaced is the function of a call
    span: "Span" = (0, 0, 0, 0)  # of the part replaced
    args: tuple = ()  # literal-name forms: spans of the object and of the name
    embedded: bool = False  # inside a string annotation (its span is inside the string)


@dataclass
class Facts:
    bindings: list[Binding] = field(default_factory=list)
    chains: list[Chain] = field(default_factory=list)
    # local name -> attributes read through it; None: also used bare (passed, called, ...)
    uses: dict[str, set[str] | None] = field(default_factory=dict)
    identifiers: set[str] = field(default_factory=set)  # every name the file binds or reads
    # names bound exactly once in the whole file, by an import: local -> that binding
    sole: dict[str, Binding] = field(default_factory=dict)
    loads: dict[str, int] = field(default_factory=dict)  # Name loads per identifier
    strings: list[tuple[Span, str]] = field(default_factory=list)  # str constants
    name_spans: dict[str, list[Span]] = field(default_factory=dict)  # Name loads
    in_strings: set[str] = field(default_factory=set)  # names used in string annotations
    # import statements: first line -> (span, the only statement of its block)
    imports: dict[int, tuple[Span, bool]] = field(default_factory=dict)
    # from-imports: (line, level, module, names) for the identity questions
    from_imports: list[tuple[int, int, str | None, list[str]]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # bindings per name, whole file
