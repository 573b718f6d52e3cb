"""One file -> its references (SPEC 5). Pure: bytes in, data out.

Parsing is ``ast.parse`` on the raw bytes, so the file is decoded exactly as Python decodes
it (a BOM, a PEP 263 coding line, UTF-8 otherwise); a file Python cannot decode or parse is
an error entry, never skipped.
"""

from __future__ import annotations

import ast
from typing import Callable

from ...domain.refkind import RefKind
from .. import lexer
from ..rules import Entry, Hit, Matcher
from .bindings import Bindings
from .names import import_bindings
from .reader import Reader
from .segments import pragmas
from .skipping import Parts, Skipper

__all__ = ["analyze"]


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

    Only the top-level statements that spell a name of interest are parsed (``Parts``);
    the others become ``pass`` on the same lines, so lines and columns stay those of the
    file. Scope analysis (``Bindings``) runs only when a chain or a call starts with a
    name an import binds to something an entry is reached through. ``always_resolve``
    parses the whole file and runs the scope analysis on every statement (the tests'
    oracle: the answer must be the same). ``lexed``: ``lexer.tokens(source)`` when the
    caller has it already.
    """
    package = module if is_package else (module.rpartition(".")[0] if module else None)
    skipper = None if always_resolve else Skipper.make(source)
    parts = None
    if skipper is not None:
        if lexed is None:
            lexed = lexer.tokens(source)
        parts = Parts.make(source, skipper, lexed)
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
          package: str | None, skipper: "Skipper | None", parsed: set[str],
          parts: "Parts | None", always_resolve: bool, lexed: "tuple | None"
          ) -> "list[Hit] | set[str]":
    """The references in ``tree``; or, when ``tree`` leaves out statements that spell
    names the walk needs (``parsed``: what it was made with), those names."""
    reader = Reader(source, matcher, module, package)
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
        bindings = Bindings(tracked, package, reader.inner,
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


def _resolve_chains(reader: Reader, seen: dict[int, set], matcher: Matcher) -> list[Hit]:
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
                            hits.append(Hit(e, RefKind.ATTRIBUTE, text.line(node), line,
                                            text.text(node)))
                    break
    for func, call, line, text, _scopes in reader.calls:
        done_calls: set[Entry] = set()
        for value in seen.get(id(func), ()):
            if isinstance(value, tuple) and value[1]:
                for e in matcher.calls(value[0]):
                    if e not in done_calls:
                        done_calls.add(e)
                        hits.append(Hit(e, RefKind.CALL, text.line(call), line, text.text(call)))
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


def _suppressed(hit: Hit, marks: dict[int, frozenset[str] | None]) -> bool:
    for line in (hit.line, hit.stmt_line):
        if line in marks:
            names = marks[line]
            if names is None or hit.entry.contract in names:
                return True
    return False
