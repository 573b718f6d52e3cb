"""One file -> its references (SPEC 5). Pure: bytes in, data out.

Parsing is ``ast.parse`` on the raw bytes, so the file is decoded exactly as Python decodes
it (a BOM, a PEP 263 coding line, UTF-8 otherwise); a file Python cannot decode or parse is
an error entry, never skipped.
"""

from __future__ import annotations

import ast
import bisect
import io
import re
import tokenize
from typing import Any, Callable

from . import lexer
from .lexer import NOT_BRACKETS, ascii_compatible, masked_code, starts_at
from .rules import Entry, Hit, Matcher

__all__ = ["analyze", "import_bindings", "pragmas"]

_PRAGMA = re.compile(r"#\s*ssot:\s*ignore(?:\[([^\]]*)\])?")
# Escapes that can spell an identifier character or a dot inside a string literal.
IDENT_ESCAPES = re.compile(
    rb"\\(?:x(?:2[eE]|3[0-9]|[4-7][0-9a-fA-F])|u00(?:2[eE]|3[0-9]|[4-7][0-9a-fA-F])"
    rb"|U0000(?:2[eE]|3[0-9]|[4-7][0-9a-fA-F])|N\{|[0-7]{2,3})")


def _comments(source: bytes, lexed: "tuple | None") -> "list[tuple[int, str]]":
    """``(line, text)`` of every comment. From the lexer's spans when they are trusted
    and lines end in ``\n`` (``lexed`` is then given), else from ``tokenize``."""
    if lexed is not None:
        out = []
        line = 1
        last = 0
        for start, end, kind in lexed[1]:
            if kind == b"#" and b"ssot:" in source[start:end]:
                line += source.count(b"\n", last, start)
                last = start
                out.append((line, source[start:end].decode("utf-8", "replace")))
        return out
    try:
        return [(tok.start[0], tok.string)
                for tok in tokenize.tokenize(io.BytesIO(source).readline)
                if tok.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):
        return []  # the parse error is reported by analyze()


def pragmas(source: bytes, lexed: "tuple | None" = None
            ) -> dict[int, frozenset[str] | None]:
    """``{line: None (all contracts) | {names}}`` for real ``# ssot: ignore`` comments."""
    if b"ssot:" not in source:
        return {}
    found: dict[int, frozenset[str] | None] = {}
    for line, comment in _comments(source, lexed):
        m = _PRAGMA.search(comment)
        if not m:
            continue
        if m.group(1) is None:
            found[line] = None
        elif found.get(line, frozenset()) is not None:
            names = frozenset(n.strip() for n in m.group(1).split(",") if n.strip())
            found[line] = (found.get(line) or frozenset()) | names
    return found


class Segments:
    """The source text of nodes, decoded once and only when a file holds a reference."""

    def __init__(self, source: bytes) -> None:
        self._source = source
        self._lines: list[bytes] | None = None

    def _get_lines(self) -> list[bytes]:
        if self._lines is None and self._source.isascii():
            self._ascii_lines()
        if self._lines is None:
            import importlib.util

            try:
                text = importlib.util.decode_source(self._source)
            except (SyntaxError, UnicodeDecodeError, LookupError, ValueError):
                text = self._source.decode("utf-8", "replace")
            # ast's columns are UTF-8 byte offsets in the decoded line; decode_source has
            # made every line end a \n already.
            self._lines = [ln.encode("utf-8", "surrogatepass") for ln in text.split("\n")]
        return self._lines

    def _ascii_lines(self) -> None:
        """ASCII decodes to itself whatever the coding line says: only the line ends are
        made ``\n``, as Python reads them."""
        self._lines = self._source.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")

    def text(self, node: ast.AST) -> str:
        """The node's source with runs of whitespace collapsed to one space."""
        first, last = node.lineno, node.end_lineno  # type: ignore[attr-defined]
        start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
        if last is None or end is None:
            return ""
        lines = self._get_lines()
        if first == last:
            raw = lines[first - 1][start:end]
        else:
            raw = b"\n".join([lines[first - 1][start:], *lines[first:last - 1],
                               lines[last - 1][:end]])
        # A backslash-newline joins lines: it is whitespace too.
        return " ".join(raw.replace(b"\\\n", b" ").decode("utf-8", "replace").split())


def _resolve_relative(level: int, module: str | None, package: str | None) -> str | None:
    """The absolute module of ``from <level dots><module> import ...`` (None: unresolvable)."""
    if level == 0:
        return module
    if not package:
        return None
    parts = package.split(".")
    if level - 1 >= len(parts):
        return None  # beyond the top-level package: Python refuses it too
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([module] if module else []))


# Calls whose first argument (or ``name``/``target`` keyword) is an import-like position:
# there a single-identifier module name in a string is a reference.
_IMPORT_LIKE = frozenset({"import_module", "__import__", "find_spec", "resolve_name",
                          "import_string", "patch", "setattr", "delattr"})
# ``getattr(x, "n")`` and friends are the expression ``x.n``.
_LITERAL_BARE = frozenset({"getattr", "hasattr", "setattr", "delattr"})
_LITERAL_ANY = frozenset({"object", "setattr", "delattr"})
_SYS_MODULES_METHODS = frozenset({"get", "pop", "setdefault"})
# Logger names (SPEC 13): where a call takes a logger's name, ``(position, keyword)``. A
# logger is named after a module by convention only; its name is no reference to it.
# ``logging.getLogger(name)``, ``unittest``'s ``assertLogs(logger)``/``assertNoLogs``, and
# (called on an object: ``caplog.set_level(level, logger)``) pytest's caplog methods.
_LOGGER_ARGUMENT = {"getLogger": (0, "name"), "assertLogs": (0, "logger"),
                    "assertNoLogs": (0, "logger")}
_LOGGER_METHOD_ARGUMENT = {"set_level": (1, "logger"), "at_level": (1, "logger")}
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_CONTEXTS = (ast.Load, ast.Store, ast.Del)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _func_name(func: ast.expr) -> str | None:
    if type(func) is ast.Name:
        return func.id
    if type(func) is ast.Attribute:
        return func.attr
    return None


def _is_sys_modules(node: ast.expr) -> bool:
    return (type(node) is ast.Attribute and node.attr == "modules"
            and type(node.value) is ast.Name and node.value.id == "sys")


def _is_literal(node: ast.expr) -> bool:
    """``Literal`` / ``typing.Literal``: its arguments are strings even in an annotation."""
    return ((type(node) is ast.Name and node.id == "Literal")
            or (type(node) is ast.Attribute and node.attr == "Literal"))


def _is_str(node: ast.AST | None) -> bool:
    return type(node) is ast.Constant and type(node.value) is str  # type: ignore[union-attr]


class _Text:
    """Where a node's text and line come from: the file, or the code inside a string
    annotation (whose references are reported at the string's first line)."""

    def __init__(self, segments: Segments, line: int | None = None) -> None:
        self.segments = segments
        self.fixed = line

    def line(self, node: ast.AST) -> int:
        return self.fixed if self.fixed is not None else node.lineno  # type: ignore[attr-defined]

    def text(self, node: ast.AST) -> str:
        return self.segments.text(node)


class _Reader:
    """Pass 1 over one file: imports, strings, definitions, and the chains and calls whose
    meaning depends on what their leftmost name is bound to (pass 2, ``_Bindings``)."""

    def __init__(self, source: bytes, matcher: Matcher, module: str | None,
                 package: str | None) -> None:
        self.matcher = matcher
        self.words = matcher.words
        self.module = module
        self.package = package
        self.file_text = _Text(Segments(source))
        self.hits: list[Hit] = []
        # names some import binds to a module or object a chain or a call can reach from
        self.relevant: set[str] = set()
        # (leftmost Name, [(attribute name, node reported)], statement line, _Text)
        self.chains: list[tuple[ast.Name, list[tuple[str, ast.AST]], int, _Text]] = []
        # (called Name, Call, statement line, _Text, the defs and classes around it)
        self.calls: list[tuple[ast.Name, ast.Call, int, _Text, tuple[int, ...]]] = []
        # id(string annotation) -> the expression inside it
        self.inner: dict[int, ast.expr] = {}
        # the defs and classes around the current statement, and those that hold a chain,
        # a call or a global/nonlocal declaration: pass 2 walks only those
        self.scopes: list[int] = []
        self.needed: set[int] = set()
        # statements that provably hold nothing of interest (see ``_Skipper``)
        self.skip: Callable[[ast.stmt], bool] | None = None

    # ------------------------------------------------------------------ statements

    def body(self, stmts: list[ast.stmt], has_doc: bool, defs: bool) -> None:
        skip = self.skip
        for index, stmt in enumerate(stmts):
            if (index == 0 and has_doc and type(stmt) is ast.Expr and _is_str(stmt.value)):
                continue  # a docstring
            if skip is not None and type(stmt) not in _DECLARATIONS and skip(stmt):
                continue  # (a ``global`` or ``nonlocal`` is never skipped: see ``stmt``)
            self.stmt(stmt, defs)

    def import_values(self, stmt: ast.Import | ast.ImportFrom
                      ) -> list[tuple[str, tuple[str, bool] | None]]:
        """``(bound name, (qualified name, is a from-import) or None)`` per alias."""
        return import_bindings(stmt, self.package)

    def stmt(self, stmt: ast.stmt, defs: bool) -> None:
        t = type(stmt)
        line = stmt.lineno
        text = self.file_text
        if t is ast.Import or t is ast.ImportFrom:
            if t is ast.Import:
                found = [e for alias in stmt.names  # type: ignore[attr-defined]
                         for e in self.matcher.for_module(alias.name)]
            else:
                target = _resolve_relative(stmt.level, stmt.module, self.package)  # type: ignore[attr-defined]
                found = (self.matcher.for_from(target, [a.name for a in stmt.names])  # type: ignore[attr-defined]
                         if target else [])
            if found:
                source = text.text(stmt)
                for e in found:
                    self.hits.append(Hit(e, "import", line, line, source))
            for name, value in self.import_values(stmt):  # type: ignore[arg-type]
                if value is not None and self.matcher.binds(*value):
                    self.relevant.add(name)
            return
        if t in _DEFS:
            first = min([d.lineno for d in stmt.decorator_list] + [line])  # type: ignore[attr-defined]
            if defs:
                for e in self.matcher.for_definition(stmt.name, self.module):  # type: ignore[attr-defined]
                    header = "class" if t is ast.ClassDef else "def"
                    self.hits.append(Hit(e, "definition", line, first,
                                         f"{header} {stmt.name}"))  # type: ignore[attr-defined]
            for d in stmt.decorator_list:  # type: ignore[attr-defined]
                self.expr(d, first, False, text)
            if t is ast.ClassDef:
                for b in stmt.bases:  # type: ignore[attr-defined]
                    self.expr(b, first, False, text)
                for k in stmt.keywords:  # type: ignore[attr-defined]
                    self.expr(k.value, first, False, text)
            else:
                self.arguments(stmt.args, first, text)  # type: ignore[attr-defined]
                if stmt.returns is not None:  # type: ignore[attr-defined]
                    self.expr(stmt.returns, first, True, text)  # type: ignore[attr-defined]
            for tp in getattr(stmt, "type_params", ()) or ():
                self.expr(tp, first, True, text)
            self.scopes.append(id(stmt))
            self.body(stmt.body, True, False)  # type: ignore[attr-defined]
            self.scopes.pop()
            return
        if t is ast.Global or t is ast.Nonlocal:
            self.needed.update(self.scopes)
            return
        if t is ast.AnnAssign:
            self.expr(stmt.target, line, False, text)  # type: ignore[attr-defined]
            self.expr(stmt.annotation, line, True, text)  # type: ignore[attr-defined]
            if stmt.value is not None:  # type: ignore[attr-defined]
                self.expr(stmt.value, line, False, text)  # type: ignore[attr-defined]
            return
        nested_defs = defs and t in _MODULE_LEVEL_BLOCKS
        for name, value in ast.iter_fields(stmt):
            if name in ("body", "orelse", "finalbody"):
                self.body(value, False, nested_defs)
            elif name == "handlers":
                for h in value:
                    if h.type is not None:
                        self.expr(h.type, line, False, text)
                    self.body(h.body, False, nested_defs)
            elif name == "cases":
                for case in value:
                    self.expr(case.pattern, line, False, text)
                    if case.guard is not None:
                        self.expr(case.guard, line, False, text)
                    self.body(case.body, False, False)
            elif name == "items":  # with
                for item in value:
                    self.expr(item.context_expr, line, False, text)
                    if item.optional_vars is not None:
                        self.expr(item.optional_vars, line, False, text)
            elif isinstance(value, list):
                for v in value:
                    if isinstance(v, ast.AST):
                        self.expr(v, line, False, text)
            elif isinstance(value, ast.AST):
                self.expr(value, line, False, text)

    def arguments(self, args: ast.arguments, line: int, text: _Text) -> None:
        for d in (*args.defaults, *args.kw_defaults):
            if d is not None:
                self.expr(d, line, False, text)
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if a is not None and a.annotation is not None:
                self.expr(a.annotation, line, True, text)

    # ------------------------------------------------------------------ expressions

    def expr(self, node: ast.AST, line: int, ann: bool, text: _Text) -> None:
        """``ann``: inside an annotation (a string there is code)."""
        t = type(node)
        if t is ast.Constant:
            if type(node.value) is str:  # type: ignore[attr-defined]
                if ann:
                    self.annotation(node, line, text)  # type: ignore[arg-type]
                else:
                    self.string(node, line, False, text)
            return
        if t is ast.Name or t in _CONTEXTS:
            return
        if t is ast.Attribute:
            parts = []
            n = node
            while type(n) is ast.Attribute:
                parts.append(n)
                n = n.value  # type: ignore[attr-defined]
            if type(n) is ast.Name:
                if any(p.attr in self.words for p in parts):
                    parts.reverse()
                    self.chains.append((n, [(p.attr, p) for p in parts], line, text))  # type: ignore[misc]
                    self.needed.update(self.scopes)
            else:
                self.expr(n, line, ann, text)
            return
        if t is ast.JoinedStr:  # an f-string's text never counts; its expressions do
            for v in node.values:  # type: ignore[attr-defined]
                if type(v) is ast.FormattedValue:
                    self.expr(v.value, line, ann, text)
                    if v.format_spec is not None:
                        self.expr(v.format_spec, line, ann, text)
            return
        if t is ast.Call:
            self.call(node, line, ann, text)  # type: ignore[arg-type]
            return
        if t is ast.Dict and not ann:
            for k, v in zip(node.keys, node.values):  # type: ignore[attr-defined]
                if k is not None:
                    self.expr(k, line, ann, text)
                if (type(v) is ast.Dict and _is_str(k)
                        and k.value == "loggers"):  # type: ignore[union-attr]
                    self.logger_keys(v, line, text)  # type: ignore[arg-type]
                else:
                    self.expr(v, line, ann, text)
            return
        if t is ast.Subscript:
            value, index = node.value, node.slice  # type: ignore[attr-defined]
            self.expr(value, line, ann, text)
            if _is_sys_modules(value) and _is_str(index):
                self.string(index, line, True, text)
            elif ann and _is_literal(value):
                self.expr(index, line, False, text)
            else:
                self.expr(index, line, ann, text)
            return
        for child in ast.iter_child_nodes(node):
            self.expr(child, line, ann, text)

    def call(self, node: ast.Call, line: int, ann: bool, text: _Text) -> None:
        func, args, keywords = node.func, node.args, node.keywords
        name = _func_name(func)
        skip_first = False
        if name is not None:
            if type(func) is ast.Name:
                self.calls.append((func, node, line, text, tuple(self.scopes)))
            if ((name in _LITERAL_ANY or (name in _LITERAL_BARE and type(func) is ast.Name))
                    and len(args) >= 2 and _is_str(args[1])
                    and args[1].value.isidentifier()):  # type: ignore[attr-defined]
                # ``getattr(x, "n")`` is the chain ``x.n``, one reference at its longest part
                parts = []
                n: ast.expr = args[0]
                while type(n) is ast.Attribute:
                    parts.append(n)
                    n = n.value  # type: ignore[attr-defined]
                if type(n) is ast.Name:
                    parts.reverse()
                    chain = [(p.attr, p) for p in parts] + [(args[1].value, node)]  # type: ignore[attr-defined]
                    if any(a in self.words for a, _ in chain):
                        self.chains.append((n, chain, line, text))  # type: ignore[arg-type]
                        self.needed.update(self.scopes)
                    skip_first = True
            if name in _IMPORT_LIKE:
                if args and _is_str(args[0]):
                    self.string(args[0], line, True, text)
                    skip_first = True
                for k in keywords:
                    if k.arg in ("name", "target") and _is_str(k.value):
                        self.string(k.value, line, True, text)
            elif (name in _SYS_MODULES_METHODS and type(func) is ast.Attribute
                  and _is_sys_modules(func.value) and args and _is_str(args[0])):
                self.string(args[0], line, True, text)
                skip_first = True
            if name == "cast" and args:
                self.expr(func, line, ann, text)
                self.expr(args[0], line, True, text)
                for a in args[1:]:
                    self.expr(a, line, ann, text)
                for k in keywords:
                    self.expr(k.value, line, ann, text)
                return
            if name == "TypeVar":
                self.expr(func, line, ann, text)
                for a in args:
                    self.expr(a, line, ann, text)
                for k in keywords:
                    self.expr(k.value, line, ann or k.arg == "bound", text)
                return
        logger_at, logger_kw = -1, None
        if not ann and name is not None:
            logger_at, logger_kw = _LOGGER_ARGUMENT.get(name) or (
                _LOGGER_METHOD_ARGUMENT.get(name, (-1, None)) if type(func) is ast.Attribute
                else (-1, None))
        self.expr(func, line, ann, text)
        for i, a in enumerate(args):
            if i == 0 and skip_first:
                continue
            if i == logger_at and _is_str(a):
                continue  # a logger's name
            self.expr(a, line, ann, text)
        for k in keywords:
            if k.arg in ("name", "target") and name in _IMPORT_LIKE and _is_str(k.value):
                continue
            if k.arg is not None and k.arg == logger_kw and _is_str(k.value):
                continue
            if k.arg == "loggers" and type(k.value) is ast.Dict and not ann:
                self.logger_keys(k.value, line, text)  # dict(loggers={...})
                continue
            self.expr(k.value, line, ann, text)

    def logger_keys(self, node: ast.Dict, line: int, text: _Text) -> None:
        """The ``"loggers"`` table of a ``logging.config`` dictionary: its string keys are
        logger names; its values are read as any code."""
        for k, v in zip(node.keys, node.values):
            if k is not None and not _is_str(k):
                self.expr(k, line, False, text)
            self.expr(v, line, False, text)

    def string(self, node: ast.Constant, line: int, import_like: bool, text: _Text) -> None:
        for e in self.matcher.for_string(node.value, import_like):
            self.hits.append(Hit(e, "string", text.line(node), line, text.text(node)))

    def annotation(self, node: ast.Constant, line: int, text: _Text) -> None:
        """A string annotation, ``cast("...")`` or ``bound="..."``: the code inside."""
        code = node.value
        if not code.strip() or len(code) > 10_000:
            return
        try:
            tree = ast.parse(code.strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return  # not code: not a reference either (an annotation is never a string)
        self.inner[id(node)] = tree.body
        inner = _Text(Segments(code.strip().encode("utf-8", "surrogatepass")),
                      text.line(node))
        self.expr(tree.body, line, True, inner)


_DECLARATIONS = (ast.Global, ast.Nonlocal)
_MODULE_LEVEL_BLOCKS = (ast.If, ast.Try) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())


def import_bindings(stmt: ast.Import | ast.ImportFrom, package: str | None
                    ) -> list[tuple[str, tuple[str, bool] | None]]:
    """The names an import binds: ``(name, (qualified name, from-import) or None)``.

    ``import a.b`` binds ``a`` to ``a``; ``import a.b as x`` binds ``x`` to ``a.b``;
    ``from P import L as x`` binds ``x`` to ``P.L``. A relative import that cannot be
    resolved binds its names to nothing known. ``from M import *`` binds nothing known.
    """
    out: list[tuple[str, tuple[str, bool] | None]] = []
    if type(stmt) is ast.Import:
        for alias in stmt.names:
            if alias.asname:
                out.append((alias.asname, (alias.name, False)))
            else:
                top = alias.name.partition(".")[0]
                out.append((top, (top, False)))
        return out
    target = _resolve_relative(stmt.level, stmt.module, package)  # type: ignore[union-attr]
    for alias in stmt.names:
        if alias.name == "*":
            continue
        bound = alias.asname or alias.name
        out.append((bound, (f"{target}.{alias.name}", True) if target else None))
    return out


def _parse(source: bytes) -> tuple[ast.Module | None, str | None]:
    try:
        return ast.parse(source), None
    except SyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return None, f"{type(exc).__name__}: {exc.msg}{where}"
    except (ValueError, UnicodeDecodeError, MemoryError, RecursionError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


def analyze(source: bytes, matcher: Matcher, module: str | None, is_package: bool,
            *, always_resolve: bool = False, lexed: "tuple | None" = None
            ) -> tuple[list[Hit], str | None]:
    """Every reference in one file; or ``([], "SyntaxError: ...")`` when it does not parse.

    Only the top-level statements that spell a name of interest are parsed (``_Parts``);
    the others become ``pass`` on the same lines, so lines and columns stay those of the
    file. Scope analysis (``_Bindings``) runs only when a chain or a call starts with a
    name an import binds to something an entry is reached through. ``always_resolve``
    parses the whole file and runs the scope analysis on every statement (the tests'
    oracle: the answer must be the same). ``lexed``: ``lexer.tokens(source)`` when the
    caller has it already.
    """
    package = module if is_package else (module.rpartition(".")[0] if module else None)
    skipper = None if always_resolve else _Skipper.make(source)
    parts = None
    if skipper is not None:
        if lexed is None:
            lexed = lexer.tokens(source)
        parts = _Parts.make(source, skipper, lexed)
        if not lexed[2] or not source.isascii():
            lexed = None  # comments come from ``tokenize`` (it decodes them exactly)
    else:
        lexed = None  # lines may end in a lone CR: comments come from ``tokenize``
    # What the first walk needs (``_walk``): the entries' last names, and the statements
    # that may bind a name through which they are reached.
    names = set(matcher.words)
    while True:
        if parts is not None:
            tree, error = _parse(parts.keeping(names, matcher.tokens))
            if error is not None:
                parts = None  # the whole file says where and what
                continue
        else:
            tree, error = _parse(source)
            if error is not None:
                return [], error
        assert tree is not None
        try:
            result = _walk(tree, source, matcher, module, package, skipper, names, parts,
                           always_resolve, lexed)
        except RecursionError:
            return [], "RecursionError: the code is nested too deeply to analyse"
        if isinstance(result, set):
            names |= result  # statements left out spell names that matter: parse again
            continue
        return result, None


def _walk(tree: ast.Module, source: bytes, matcher: Matcher, module: str | None,
          package: str | None, skipper: "_Skipper | None", parsed: set[str],
          parts: "_Parts | None", always_resolve: bool, lexed: "tuple | None"
          ) -> "list[Hit] | set[str]":
    """The references in ``tree``; or, when ``tree`` leaves out statements that spell
    names the walk needs (``parsed``: what it was made with), those names."""
    reader = _Reader(source, matcher, module, package)
    if skipper is not None:
        # A reference spells an entry's last name (a chain, a string, an import, a class),
        # or calls a name a from-import binds to a factory; an import that binds a name
        # an entry is reached through spells a name of the entry's path.
        wanted = matcher.words | _factory_names(tree, matcher, package,
                                                skipper.without((), matcher.tokens))
        if parts is not None and parts.left_out(wanted - parsed):
            return wanted | parsed
        reader.skip = skipper.without(wanted, matcher.tokens)
    reader.body(tree.body, True, True)
    hits = reader.hits
    wanted = {n.id for n, *_ in reader.chains} | {f.id for f, *_ in reader.calls}
    tracked = wanted if always_resolve else wanted & reader.relevant
    if tracked:
        if parts is not None and parts.left_out(tracked - parsed):
            return tracked | parsed
        needed = set(reader.needed)
        for func, _call, _line, _text, scopes in reader.calls:
            if func.id in tracked:
                needed.update(scopes)
        bindings = _Bindings(tracked, package, reader.inner,
                             None if always_resolve else needed)
        if skipper is not None:
            bindings.skip = skipper.without(tracked)
        bindings.run(tree)
        hits.extend(_resolve_chains(reader, bindings.seen, matcher))
    if hits:
        marks = pragmas(source, lexed)
        if marks:
            hits = [h for h in hits if not _suppressed(h, marks)]
    hits.sort(key=lambda h: (h.line, h.entry.contract, str(h.entry.path), h.kind))
    return hits


def _resolve_chains(reader: _Reader, seen: dict[int, set], matcher: Matcher) -> list[Hit]:
    """Chains and calls, now that their leftmost names' reaching bindings are known."""
    hits: list[Hit] = []
    for name, parts, line, text in reader.chains:
        done: set[tuple[int, Entry]] = set()
        for value in seen.get(id(name), ()):
            if not isinstance(value, tuple):
                continue
            qualified = value[0]
            names = [qualified]
            for attr, _node in parts:
                names.append(f"{names[-1]}.{attr}")
            for i in range(len(parts), 0, -1):  # the longest part that is an entry
                found = matcher.for_qualified(names[i])
                if found:
                    node = parts[i - 1][1]
                    for e in found:
                        if (id(node), e) not in done:
                            done.add((id(node), e))
                            hits.append(Hit(e, "attribute", text.line(node), line,
                                            text.text(node)))
                    break
    for func, call, line, text, _scopes in reader.calls:
        done_calls: set[Entry] = set()
        for value in seen.get(id(func), ()):
            if isinstance(value, tuple) and value[1]:
                for e in matcher.calls(value[0]):
                    if e not in done_calls:
                        done_calls.add(e)
                        hits.append(Hit(e, "call", text.line(call), line, text.text(call)))
    return hits


def _factory_names(tree: ast.Module, matcher: Matcher, package: str | None,
                   skip: "Callable[[ast.stmt], bool] | None" = None) -> set[str]:
    """Names from-imports bind to a factory anywhere in the file (statements only): their
    calls hold no entry's word. ``skip``: statements that do not spell a name of an entry
    path with ``import`` (an import of a factory spells the factory's module or name)."""
    if not (matcher.factory_attrs or matcher.factory_modules):
        return set()
    names: set[str] = set()
    stack: list[ast.AST] = list(tree.body)
    while stack:
        n = stack.pop()
        if skip is not None and skip(n):  # type: ignore[arg-type]
            continue
        t = type(n)
        if t is ast.ImportFrom:
            for name, value in import_bindings(n, package):  # type: ignore[arg-type]
                if value is not None and matcher.calls(value[0]):
                    names.add(name)
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            sub = getattr(n, field, None)
            if sub:
                stack.extend(sub)
    return names


class _Skipper:
    """Which statements provably hold nothing of interest: their lines spell none of a
    set of names as a whole word. Where the bytes may spell a name otherwise than the
    parser reads it (an escape that spells a letter in a literal, a non-ASCII character
    that NFKC may turn into one) the place counts as spelling every name. Made for
    sources in an ASCII-compatible encoding whose lines end in ``\n`` (``\r\n``
    too); other files get no skipping (same answer, slower)."""

    __slots__ = ("source", "wild", "_offsets", "_sets", "_lines")

    def __init__(self, source: bytes, wild: list[int]) -> None:
        self.source = source
        self.wild = wild  # where any name may be spelled
        self._offsets: dict[str, list[int]] = {}  # name -> where it is a whole word
        self._sets: dict[frozenset[str], list[int]] = {}
        self._lines: dict[frozenset[str], list[int]] = {}

    @classmethod
    def make(cls, source: bytes) -> "_Skipper | None":
        if b"\r" in source and b"\r" in source.replace(b"\r\n", b""):
            return None  # lone CR line ends: lines are not counted by ``\n``
        wild: list[int] = []
        if b"\\" in source:
            wild += [m.start() for m in IDENT_ESCAPES.finditer(source)]
            # a backslash-newline inside a literal may cut a name in two
            wild += [m.start() for m in _CUT.finditer(source)
                     if m.start() and source[m.start() - 1] in _PATH]
        if not ascii_compatible(source):  # (UTF-7 is all ASCII bytes)
            return None
        if not source.isascii():
            wild += [m.start() for m in _NON_ASCII.finditer(source)]
        return cls(source, wild)

    def offsets(self, names: "set[str] | frozenset[str]") -> list[int]:
        """Where any of ``names`` stands as a whole word, in order."""
        key = frozenset(names)
        got = self._sets.get(key)
        if got is None:
            got = self._sets[key] = self._find(key)
        return got

    def _find(self, names: frozenset[str]) -> list[int]:
        source = self.source
        size = len(source)
        out: list[int] = list(self.wild) if names else []
        for name in names:
            found = self._offsets.get(name)
            if found is None:
                found = []
                word = name.encode()
                n = len(word)
                pos = source.find(word)
                while pos >= 0:
                    end = pos + n
                    if ((pos == 0 or source[pos - 1] not in _IDENT)
                            and (end >= size or source[end] not in _IDENT)):
                        found.append(pos)
                    pos = source.find(word, end)
                self._offsets[name] = found
            out += found
        out.sort()
        return out

    def lines(self, names: "set[str] | frozenset[str]") -> list[int]:
        """The lines where any of ``names`` stands as a whole word, in order."""
        key = frozenset(names)
        lines = self._lines.get(key)
        if lines is None:
            lines = []
            line = 1
            last = 0
            count = self.source.count
            for pos in self.offsets(key):
                line += count(b"\n", last, pos)
                last = pos
                lines.append(line)
            self._lines[key] = lines
        return lines

    def without(self, names: "set[str] | frozenset[str]",
                binders: "set[str] | frozenset[str] | None" = None
                ) -> Callable[[ast.stmt], bool]:
        """``skip(stmt)``: ``True`` when the statement's lines spell none of ``names``
        and, with ``binders``, do not spell one of them together with ``import``,
        ``global`` or ``nonlocal`` (such a statement may bind a name the walk needs)."""
        spelled = self.lines(names)
        binding = self.lines(binders) if binders else []
        keyword = self.lines(_BINDING_KEYWORDS) if binding else []
        after = bisect.bisect_left
        defs = _DEFS
        pass_ = ast.Pass

        def has(lines: list[int], first: int, last: int) -> bool:
            i = after(lines, first)
            return i < len(lines) and lines[i] <= last

        def skip(stmt: ast.stmt) -> bool:
            if type(stmt) is pass_:
                return True  # holds nothing (and stands for every statement not parsed)
            try:
                first = stmt.lineno
            except AttributeError:
                return False  # made up by us (a lambda's body), or a ``case``
            if type(stmt) in defs and stmt.decorator_list:  # type: ignore[attr-defined]
                first = min(first, *(d.lineno for d in stmt.decorator_list))  # type: ignore[attr-defined]
            last = stmt.end_lineno or first
            if has(spelled, first, last):
                return False
            return not (binding and has(binding, first, last) and has(keyword, first, last))

        return skip


class _Parts:
    """A file's top-level statements (and the statements of top-level class bodies), so
    that only those spelling names of interest are parsed. The others would be skipped by
    the walk anyway (``_Skipper``): they become ``pass`` on their first line and blank
    lines after, at their own indentation, so that the lines and columns of what is
    parsed are those of the file (and a string that was not first stays not first: no
    new docstring). Made only for sources the skipper trusts."""

    __slots__ = ("source", "masked", "starts", "skipper", "dropped", "_bodies")

    def __init__(self, source: bytes, masked: bytes, starts: list[int],
                 skipper: _Skipper) -> None:
        self.source = source
        self.masked = masked
        self.starts = starts
        self.skipper = skipper
        self.dropped: list[tuple[int, int]] = []  # (start, end) made ``pass``, in order
        self._bodies: dict[int, tuple[bytes, list[int]] | None] = {}

    @classmethod
    def make(cls, source: bytes, skipper: _Skipper, lexed: tuple) -> "_Parts | None":
        masked = masked_code(source, lexed)
        if masked is None:
            return None
        starts = starts_at(masked, 0, len(masked), b"")
        return cls(source, masked, starts, skipper) if starts else None

    def _body(self, i: int, end: int) -> tuple[bytes, list[int]] | None:
        """Top-level statement ``i`` when it is a class with an indented body: the body's
        indentation and where its statements start."""
        if i not in self._bodies:
            self._bodies[i] = _class_body(self.masked, self.starts[i], end)
        return self._bodies[i]

    def keeping(self, names: "set[str] | frozenset[str]",
                binders: "set[str] | frozenset[str]") -> bytes:
        """The source with every top-level statement, and every statement of a top-level
        class's body, made ``pass`` that spells none of ``names`` and does not spell one
        of ``binders`` with ``import``, ``global`` or ``nonlocal`` (``_Skipper.without``).
        """
        spelled = self.skipper.offsets(names)
        binding = self.skipper.offsets(binders)
        keyword = self.skipper.offsets(_BINDING_KEYWORDS)

        def wanted(a: int, b: int) -> bool:
            return _within(spelled, a, b) or (_within(binding, a, b)
                                               and _within(keyword, a, b))

        source = self.source
        starts = self.starts
        dropped: list[tuple[int, int]] = []
        out = [source[:starts[0]]]  # comments and blank lines before the first statement
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(source)
            if not wanted(start, end):
                out.append(b"pass" + b"\n" * source.count(b"\n", start, end))
                dropped.append((start, end))
                continue
            body = self._body(i, end)
            if body is None:
                out.append(source[start:end])
                continue
            indent, inner = body
            out.append(source[start:inner[0]])  # the header (decorators, class line)
            for j, a in enumerate(inner):
                b = inner[j + 1] if j + 1 < len(inner) else end
                if wanted(a, b):
                    out.append(source[a:b])
                else:
                    out.append(indent + b"pass" + b"\n" * source.count(b"\n", a, b))
                    dropped.append((a, b))
        self.dropped = dropped
        return b"".join(out)

    def left_out(self, names: "set[str] | frozenset[str]") -> bool:
        """Does a statement left out of the last ``keeping`` spell one of ``names``?"""
        dropped = self.dropped
        if not dropped:
            return False
        firsts = [a for a, _b in dropped]
        for pos in self.skipper.offsets(names):
            k = bisect.bisect_right(firsts, pos) - 1
            if k >= 0 and pos < dropped[k][1]:
                return True
        return False


def _within(offsets: list[int], a: int, b: int) -> bool:
    """Is one of the sorted ``offsets`` in ``[a, b)``?"""
    k = bisect.bisect_left(offsets, a)
    return k < len(offsets) and offsets[k] < b


_CLASS_LINE = re.compile(rb"^class[ \t\\]", re.M)
_INDENTED = re.compile(rb"^([ \t]+)[^ \t\f\r\n]", re.M)


def _class_body(masked: bytes, start: int, end: int) -> tuple[bytes, list[int]] | None:
    """When ``masked[start:end]`` (one top-level statement) is a class whose body is on
    lines of its own: ``(indentation, where each body statement starts)``."""
    head = _CLASS_LINE.search(masked, start, end)
    if head is None:
        return None
    depth = 0
    last = head.start()
    for m in _INDENTED.finditer(masked, head.start(), end):
        p = m.start()
        seg = masked[last:p].translate(None, NOT_BRACKETS)
        last = p
        depth += len(seg) - 2 * (seg.count(b")") + seg.count(b"]") + seg.count(b"}"))
        if depth != 0:
            continue  # the header's brackets (``class A(\n    Base,\n):``)
        if p >= 2 and masked[p - 2] == 92 or p >= 3 and masked[p - 3:p] == b"\\\r\n":
            continue
        indent = m.group(1)
        inner = starts_at(masked, p, end, indent)
        return (indent, inner) if inner else None
    return None


_IDENT = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_NON_ASCII = re.compile(rb"[\x80-\xff]+")
_CUT = re.compile(rb"\\(?:\r\n|\n)(?=[A-Za-z0-9_.])")
_PATH = _IDENT | {ord(".")}
# Statements that bind names across statements: an import binds a module, ``global`` and
# ``nonlocal`` make a function's binding another scope's.
_BINDING_KEYWORDS = frozenset({"import", "global", "nonlocal"})
_UNBOUND = "<unbound>"


class _Scope:
    __slots__ = ("kind", "parent", "locals", "globals", "nonlocals", "every")

    def __init__(self, kind: str, parent: "_Scope | None") -> None:
        self.kind = kind  # module | function | class | comprehension
        self.parent = parent
        self.locals: set[str] = set()
        self.globals: set[str] = set()
        self.nonlocals: set[str] = set()
        self.every: dict[str, set] = {}  # every value each local name is ever bound to


class _Bindings:
    """Pass 2: which import bindings of the tracked names can be in effect at each use.

    Python's scoping, as ruff's semantic model follows it: in the use's own scope, the
    bindings that reach it on some path (both branches of an ``if``, the ``try`` and the
    ``except`` of a ``try``, a loop's body again); a name not bound in its own scope is
    looked up in the enclosing function scopes and the module, where any binding counts;
    class bodies are skipped by the scopes nested in them (methods, comprehensions but
    their first iterable). A value is ``(qualified name, from-import)`` for an import,
    ``None`` for any other binding.
    """

    def __init__(self, tracked: set[str], package: str | None, inner: dict[int, ast.expr],
                 needed: set[int] | None) -> None:
        """``needed``: the defs and classes to walk (those around a use that matters, or
        declaring a name global or nonlocal); any other one binds only its own names."""
        self.tracked = tracked
        self.needed = needed
        self.skip: Callable[[ast.stmt], bool] | None = None
        self.package = package
        self.inner = inner
        self.seen: dict[int, set] = {}
        self.pending: list[tuple[ast.AST, _Scope]] = []
        self.module: _Scope | None = None

    # ------------------------------------------------------------------ scopes

    def run(self, tree: ast.Module) -> None:
        scope = _Scope("module", None)
        self.module = scope
        self.declare(scope, tree.body)
        self.block(tree.body, {}, scope)
        done: set[int] = set()
        while self.pending:
            node, parent = self.pending.pop(0)
            if id(node) in done:
                continue
            done.add(id(node))
            self.enter(node, parent)

    def enter(self, node: ast.AST, parent: _Scope) -> None:
        """Walk a deferred scope: a function, a lambda, a class body, a comprehension."""
        t = type(node)
        if t is ast.ClassDef:
            scope = _Scope("class", parent)
            self.declare(scope, node.body)  # type: ignore[attr-defined]
            self.block(node.body, {}, scope)  # type: ignore[attr-defined]
            return
        if t in _COMPREHENSIONS:
            scope = _Scope("comprehension", parent)
            gens = node.generators  # type: ignore[attr-defined]
            for g in gens:
                self.declare_target(scope, g.target)
            state: dict[str, set] = {}
            for i, g in enumerate(gens):
                if i > 0:
                    self.expr(g.iter, state, scope)
                self.target(g.target, state, scope)
                for cond in g.ifs:
                    self.expr(cond, state, scope)
            if t is ast.DictComp:
                self.expr(node.key, state, scope)  # type: ignore[attr-defined]
                self.expr(node.value, state, scope)  # type: ignore[attr-defined]
            else:
                self.expr(node.elt, state, scope)  # type: ignore[attr-defined]
            return
        scope = _Scope("function", parent)
        args = node.args  # type: ignore[attr-defined]
        params = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs,
                                  args.vararg, args.kwarg) if a is not None]
        body = node.body if t is not ast.Lambda else [ast.Expr(node.body)]  # type: ignore[attr-defined]
        self.declare(scope, body)
        state = {}
        for p in params:
            if p in self.tracked:
                scope.locals.add(p)
                self.bind(p, None, state, scope)
        self.block(body, state, scope)

    def declare(self, scope: _Scope, body: list[ast.stmt]) -> None:
        """The scope's local names among the tracked ones, and its global/nonlocal ones.
        A statement that spells no tracked name binds none (``skip``)."""
        tracked = self.tracked
        skip = self.skip
        stack: list[ast.AST] = list(body) if skip is None else [
            st for st in body if not skip(st)]
        while stack:
            n = stack.pop()
            t = type(n)
            if t is ast.Name:
                if n.id in tracked and type(n.ctx) is not ast.Load:  # type: ignore[attr-defined]
                    scope.locals.add(n.id)  # type: ignore[attr-defined]
                continue
            if t is ast.Global or t is ast.Nonlocal:
                for name in n.names:  # type: ignore[attr-defined]
                    (scope.globals if t is ast.Global else scope.nonlocals).add(name)
                continue
            if t is ast.Import or t is ast.ImportFrom:
                for name, _v in import_bindings(n, self.package):  # type: ignore[arg-type]
                    if name in tracked:
                        scope.locals.add(name)
                continue
            if t in _DEFS:
                if n.name in tracked:  # type: ignore[attr-defined]
                    scope.locals.add(n.name)  # type: ignore[attr-defined]
                stack.extend(n.decorator_list)  # type: ignore[attr-defined]
                if t is ast.ClassDef:
                    stack.extend(n.bases)  # type: ignore[attr-defined]
                    stack.extend(k.value for k in n.keywords)  # type: ignore[attr-defined]
                else:
                    stack.append(n.args)  # type: ignore[attr-defined]
                    if n.returns is not None:  # type: ignore[attr-defined]
                        stack.append(n.returns)  # type: ignore[attr-defined]
                continue
            if t is ast.arguments:  # of a def seen above: defaults and annotations
                stack.extend(d for d in (*n.defaults, *n.kw_defaults) if d is not None)  # type: ignore[attr-defined]
                continue
            if t is ast.Lambda:
                stack.append(n.args)  # type: ignore[attr-defined]
                continue
            if t in _COMPREHENSIONS:
                stack.append(n.generators[0].iter)  # type: ignore[attr-defined]
                for w in ast.walk(n):  # a walrus inside binds in this scope
                    if type(w) is ast.NamedExpr and w.target.id in tracked:  # type: ignore[attr-defined]
                        scope.locals.add(w.target.id)  # type: ignore[attr-defined]
                continue
            if t is ast.ExceptHandler:
                if n.name and n.name in tracked:  # type: ignore[attr-defined]
                    scope.locals.add(n.name)  # type: ignore[attr-defined]
            elif t is ast.MatchAs or t is ast.MatchStar:
                if n.name and n.name in tracked:  # type: ignore[attr-defined]
                    scope.locals.add(n.name)  # type: ignore[attr-defined]
            elif t is ast.MatchMapping:
                if n.rest and n.rest in tracked:  # type: ignore[attr-defined]
                    scope.locals.add(n.rest)  # type: ignore[attr-defined]
            stack.extend(ast.iter_child_nodes(n))
        scope.locals -= scope.globals | scope.nonlocals

    def declare_target(self, scope: _Scope, target: ast.AST) -> None:
        for n in ast.walk(target):
            if type(n) is ast.Name and n.id in self.tracked:
                scope.locals.add(n.id)

    # ------------------------------------------------------------------ bindings

    def owner(self, name: str, scope: _Scope) -> _Scope | None:
        """The scope a binding of ``name`` in ``scope`` binds in."""
        if name in scope.globals:
            return self.module
        if name in scope.nonlocals:
            s = scope.parent
            while s is not None and (s.kind == "class" or name not in s.locals):
                s = s.parent
            return s
        return scope

    def bind(self, name: str, value: Any, state: dict[str, set], scope: _Scope) -> None:
        if name not in self.tracked:
            return
        owner = self.owner(name, scope)
        if owner is None:
            return
        owner.every.setdefault(name, set()).add(value)
        if owner is scope:
            state[name] = {value}

    def lookup(self, name: str, state: dict[str, set], scope: _Scope) -> set:
        if name in scope.globals:
            return self.module.every.get(name, set())  # type: ignore[union-attr]
        if name in scope.nonlocals:
            return self.enclosing(name, scope.parent)
        if name in scope.locals:
            values = state.get(name, {_UNBOUND})
            if _UNBOUND in values:
                values = values - {_UNBOUND}
                if scope.kind == "class":  # a class body falls back to the module
                    values = values | self.enclosing(name, scope.parent)
            return values
        if scope.kind == "module":
            return set()
        return self.enclosing(name, scope.parent)

    def enclosing(self, name: str, scope: _Scope | None) -> set:
        while scope is not None:
            if scope.kind != "class":
                if name in scope.globals:
                    return self.module.every.get(name, set())  # type: ignore[union-attr]
                if name in scope.locals or scope.kind == "module":
                    return scope.every.get(name, set())
            scope = scope.parent
        return set()

    # ------------------------------------------------------------------ flow

    def block(self, body: list[ast.stmt], state: dict[str, set], scope: _Scope
              ) -> dict[str, set]:
        skip = self.skip
        for stmt in body:
            if skip is not None and skip(stmt):
                continue  # binds and uses none of the tracked names
            state = self.stmt(stmt, state, scope)
        return state

    @staticmethod
    def join(*states: dict[str, set]) -> dict[str, set]:
        out: dict[str, set] = {}
        names = set().union(*states)
        for name in names:
            merged: set = set()
            for s in states:
                merged |= s.get(name, {_UNBOUND})
            out[name] = merged
        return out

    def stmt(self, stmt: ast.stmt, state: dict[str, set], scope: _Scope) -> dict[str, set]:
        t = type(stmt)
        if t is ast.Import or t is ast.ImportFrom:
            for name, value in import_bindings(stmt, self.package):  # type: ignore[arg-type]
                self.bind(name, value, state, scope)
            return state
        if t in _DEFS:
            for d in stmt.decorator_list:  # type: ignore[attr-defined]
                self.expr(d, state, scope)
            if t is ast.ClassDef:
                for b in stmt.bases:  # type: ignore[attr-defined]
                    self.expr(b, state, scope)
                for k in stmt.keywords:  # type: ignore[attr-defined]
                    self.expr(k.value, state, scope)
            else:
                self.signature(stmt.args, state, scope)  # type: ignore[attr-defined]
                if stmt.returns is not None:  # type: ignore[attr-defined]
                    self.expr(stmt.returns, state, scope)  # type: ignore[attr-defined]
            if self.needed is None or id(stmt) in self.needed:
                self.pending.append((stmt, scope))
            self.bind(stmt.name, None, state, scope)  # type: ignore[attr-defined]
            return state
        if t is ast.Assign:
            self.expr(stmt.value, state, scope)  # type: ignore[attr-defined]
            for target in stmt.targets:  # type: ignore[attr-defined]
                self.target(target, state, scope)
            return state
        if t is ast.AugAssign:
            self.expr(stmt.value, state, scope)  # type: ignore[attr-defined]
            self.expr(stmt.target, state, scope)  # type: ignore[attr-defined]
            self.target(stmt.target, state, scope)  # type: ignore[attr-defined]
            return state
        if t is ast.AnnAssign:
            self.expr(stmt.annotation, state, scope)  # type: ignore[attr-defined]
            if stmt.value is not None:  # type: ignore[attr-defined]
                self.expr(stmt.value, state, scope)  # type: ignore[attr-defined]
                self.target(stmt.target, state, scope)  # type: ignore[attr-defined]
            elif type(stmt.target) is not ast.Name:  # type: ignore[attr-defined]
                self.expr(stmt.target, state, scope)  # type: ignore[attr-defined]
            return state
        if t is ast.If:
            self.expr(stmt.test, state, scope)  # type: ignore[attr-defined]
            a = self.block(stmt.body, dict(state), scope)  # type: ignore[attr-defined]
            b = self.block(stmt.orelse, dict(state), scope)  # type: ignore[attr-defined]
            return self.join(a, b)
        if t is ast.For or t is ast.AsyncFor or t is ast.While:
            if t is not ast.While:
                self.expr(stmt.iter, state, scope)  # type: ignore[attr-defined]
            head = state
            for _pass in range(2):  # the second pass sees what the body binds for the next
                if t is ast.While:
                    self.expr(stmt.test, head, scope)  # type: ignore[attr-defined]
                inner = dict(head)
                if t is not ast.While:
                    self.target(stmt.target, inner, scope)  # type: ignore[attr-defined]
                end = self.block(stmt.body, inner, scope)  # type: ignore[attr-defined]
                head = self.join(state, end)
            return self.block(stmt.orelse, head, scope)  # type: ignore[attr-defined]
        if t is ast.With or t is ast.AsyncWith:
            for item in stmt.items:  # type: ignore[attr-defined]
                self.expr(item.context_expr, state, scope)
                if item.optional_vars is not None:
                    self.target(item.optional_vars, state, scope)
            return self.block(stmt.body, state, scope)  # type: ignore[attr-defined]
        if t in _TRIES:
            seen = dict(state)
            current = dict(state)
            for s in stmt.body:  # type: ignore[attr-defined]
                current = self.stmt(s, current, scope)
                seen = self.join(seen, current)
            ends = [self.block(stmt.orelse, current, scope)]  # type: ignore[attr-defined]
            for h in stmt.handlers:  # type: ignore[attr-defined]
                hs = dict(seen)
                if h.type is not None:
                    self.expr(h.type, hs, scope)
                if h.name:
                    self.bind(h.name, None, hs, scope)
                hs = self.block(h.body, hs, scope)
                if h.name and h.name in self.tracked and self.owner(h.name, scope) is scope:
                    hs[h.name] = {_UNBOUND}  # deleted at the handler's end
                ends.append(hs)
            after = self.join(*ends)
            if stmt.finalbody:  # type: ignore[attr-defined]
                after = self.block(stmt.finalbody, self.join(after, seen), scope)  # type: ignore[attr-defined]
            return after
        if t is ast.Match:
            self.expr(stmt.subject, state, scope)  # type: ignore[attr-defined]
            ends = [state]
            for case in stmt.cases:  # type: ignore[attr-defined]
                cs = dict(state)
                self.pattern(case.pattern, cs, scope)
                if case.guard is not None:
                    self.expr(case.guard, cs, scope)
                ends.append(self.block(case.body, cs, scope))
            return self.join(*ends)
        if t is ast.Delete:
            for target in stmt.targets:  # type: ignore[attr-defined]
                if type(target) is ast.Name:
                    if target.id in self.tracked and self.owner(target.id, scope) is scope:
                        state[target.id] = {_UNBOUND}
                else:
                    self.expr(target, state, scope)
            return state
        if t is ast.Global or t is ast.Nonlocal:
            return state
        if getattr(ast, "TypeAlias", None) is t:
            self.expr(stmt.value, state, scope)  # type: ignore[attr-defined]
            self.target(stmt.name, state, scope)  # type: ignore[attr-defined]
            return state
        for child in ast.iter_child_nodes(stmt):
            self.expr(child, state, scope)
        return state

    def signature(self, args: ast.arguments, state: dict[str, set], scope: _Scope) -> None:
        for d in (*args.defaults, *args.kw_defaults):
            if d is not None:
                self.expr(d, state, scope)
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if a is not None and a.annotation is not None:
                self.expr(a.annotation, state, scope)

    def target(self, node: ast.AST, state: dict[str, set], scope: _Scope) -> None:
        """An assignment target: names are bound (to no module), the rest is evaluated."""
        t = type(node)
        if t is ast.Name:
            self.bind(node.id, None, state, scope)  # type: ignore[attr-defined]
        elif t is ast.Tuple or t is ast.List:
            for e in node.elts:  # type: ignore[attr-defined]
                self.target(e, state, scope)
        elif t is ast.Starred:
            self.target(node.value, state, scope)  # type: ignore[attr-defined]
        else:
            self.expr(node, state, scope)

    def pattern(self, node: ast.AST, state: dict[str, set], scope: _Scope) -> None:
        for n in ast.walk(node):
            t = type(n)
            if (t is ast.MatchAs or t is ast.MatchStar) and n.name:  # type: ignore[attr-defined]
                self.bind(n.name, None, state, scope)  # type: ignore[attr-defined]
            elif t is ast.MatchMapping and n.rest:  # type: ignore[attr-defined]
                self.bind(n.rest, None, state, scope)  # type: ignore[attr-defined]
            elif t is ast.MatchValue or t is ast.MatchClass:
                self.expr(n.value if t is ast.MatchValue else n.cls, state, scope)  # type: ignore[attr-defined]
            elif t is ast.MatchMapping:
                for k in n.keys:  # type: ignore[attr-defined]
                    self.expr(k, state, scope)

    def expr(self, node: ast.AST, state: dict[str, set], scope: _Scope) -> None:
        stack = [node]
        tracked = self.tracked
        while stack:
            n = stack.pop()
            t = type(n)
            if t is ast.Name:
                if n.id in tracked and type(n.ctx) is ast.Load:  # type: ignore[attr-defined]
                    self.seen.setdefault(id(n), set()).update(self.lookup(n.id, state, scope))  # type: ignore[attr-defined]
                continue
            if t is ast.Constant:
                inner = self.inner.get(id(n))
                if inner is not None:
                    stack.append(inner)
                continue
            if t is ast.NamedExpr:
                self.expr(n.value, state, scope)  # type: ignore[attr-defined]
                self.bind(n.target.id, None, state, scope)  # type: ignore[attr-defined]
                continue
            if t is ast.Lambda:
                self.signature(n.args, state, scope)  # type: ignore[attr-defined]
                self.pending.append((n, scope))
                continue
            if t in _COMPREHENSIONS:
                self.expr(n.generators[0].iter, state, scope)  # type: ignore[attr-defined]
                for w in ast.walk(n):  # a walrus inside binds in this scope
                    if type(w) is ast.NamedExpr:
                        self.bind(w.target.id, None, state, scope)  # type: ignore[attr-defined]
                self.pending.append((n, scope))
                continue
            stack.extend(ast.iter_child_nodes(n))


_TRIES = (ast.Try,) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())


def _suppressed(hit: Hit, marks: dict[int, frozenset[str] | None]) -> bool:
    for line in (hit.line, hit.stmt_line):
        if line in marks:
            names = marks[line]
            if names is None or hit.entry.contract in names:
                return True
    return False
