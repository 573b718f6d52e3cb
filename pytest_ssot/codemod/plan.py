"""What to do with one file, decided before any byte changes: which bindings move to the
canonical module, which chains become which name, which imports are added (right after
the import they replace, in the same scope) or removed, which names are renamed.

Inputs are facts, never guesses: the file's own bindings (``facts``), the probes' identity
answers (``identity``), the project-wide readers (``index``) and the contract's declared
``replacements``. Everything refused records its reason, at the reference's line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..domain.contracts import Contract
from ..domain.paths import SsotPath
from ..domain.refkind import RefKind, Role
from ..scan import Violation
from ..scan.rules import Matcher
from ..scan.analysis import resolve_relative
from .facts import read_facts
from .file_facts import Binding, Chain, Facts
from .identity import Identity, Question
from .index import Readers
from .result import Reason

__all__ = ["FilePlan", "decide", "late_left", "late_state", "prepare"]


@dataclass
class FilePlan:
    rel: str
    module: str | None
    package: str | None
    lines: dict[int, list[Violation]]
    contracts: dict[str, Contract]
    facts: Facts
    questions: set[Question] = field(default_factory=set)
    wants: set[tuple[str, str]] = field(default_factory=set)  # (module, name) readers asked
    # decisions
    namespace: dict[tuple[int, str], tuple[str | None, str, str]] = field(default_factory=dict)
    chain_new: dict[tuple[int, str], str] = field(default_factory=dict)
    # patch.object(x, "n"): (line, text) -> (the object's new source, the new name or None)
    arg_new: dict[tuple[int, str], tuple[str, str | None]] = field(default_factory=dict)
    inserts: dict[int, list[str]] = field(default_factory=dict)
    renames: dict[str, str] = field(default_factory=dict)
    factory_alias: dict[tuple[int, str], tuple[str, str, str]] = field(default_factory=dict)
    remove: set[tuple[int, str]] = field(default_factory=set)
    reasons: dict[tuple[int, str], tuple[str, str]] = field(default_factory=dict)
    handled: set[tuple[int, str]] = field(default_factory=set)
    ns_rename: dict[tuple[int, str], str] = field(default_factory=dict)  # moved and renamed
    # late-bound names (module, name) another file patches or reads under a spelling the
    # rewrite cannot follow: left as they are here -> who (the driver's second look)
    blocked: dict[tuple[str, str], str] = field(default_factory=dict)
    # the proof of each rewrite, for ``fix --explain``: line -> sentences
    explain: list[tuple[int, str]] = field(default_factory=list)

    def has(self, line: int, path: str, kinds: tuple[str, ...]) -> bool:
        return any(v.path == path and v.kind in kinds for v in self.lines.get(line, ()))

    def refuse(self, line: int, path: str, reason: str, detail: str = "") -> None:
        self.reasons.setdefault((line, path), (reason, detail))


def _canonical(c: Contract) -> tuple[str, str]:
    return c.canonical.module, (c.canonical.attr or c.canonical.module.rpartition(".")[2])


def _replacement(c: Contract, module: str, attr: str | None) -> SsotPath | None:
    if attr is None:
        return None
    key = SsotPath(module, attr)
    for factory, target in c.replacements:
        if factory == key:
            return target
    return None


def _why(why: str) -> str:
    return Reason.NOT_SAME if "is not any object" in why else Reason.UNRESOLVED


# --------------------------------------------------------------------------- phase 1


def prepare(rel: str, source: bytes, module: str | None, is_package: bool,
            violations: list[Violation], contracts: dict[str, Contract],
            matcher: Matcher) -> FilePlan:
    """Read the file's facts and every question the decisions may ask (a superset).
    Raises ``SyntaxError``/``ValueError`` when it does not parse."""
    package = module if is_package else (module.rpartition(".")[0] if module else None)
    lines: dict[int, list[Violation]] = {}
    for v in violations:
        lines.setdefault(v.line, []).append(v)
    tree = ast.parse(source)
    facts = read_facts(tree, matcher, package, source)
    plan = FilePlan(rel, module, package, lines, contracts, facts)
    _import_questions(plan)
    for c in facts.chains:
        if c.entry.role == Role.LEGACY and c.attr is not None:
            plan.questions.add((c.module, c.attr, contracts[c.entry.contract].canonical.module))
        if c.binding.scope == "module" and module:
            plan.wants.add((module, c.binding.local))
    for b in facts.bindings:
        for e in matcher.module_entries.get(b.plain or b.qualified, ()):
            if e.role != Role.LEGACY:
                continue
            cmod = contracts[e.contract].canonical.module
            plan.questions.update((e.path.module, a, cmod)
                                  for a in facts.uses.get(b.local) or ())
            if b.scope == "module" and module:
                plan.wants.add((module, b.local))
    return plan


def _import_questions(plan: FilePlan) -> None:
    """Questions of the from-import and string rewrites."""
    contracts = plan.contracts
    for line, level, module, names in plan.facts.from_imports:
        target = resolve_relative(level, module, plan.package)
        for v in plan.lines.get(line, ()):
            if v.role != Role.LEGACY or not target:
                continue
            cmod = contracts[v.contract].canonical.module
            mod, _, attr = v.path.partition(":")
            for name in names:
                if (target == mod or target.startswith(mod + ".")) and not attr:
                    plan.questions.add((target, name, cmod))
            if attr:
                plan.questions.add((mod, attr, cmod))
    for (line, *_rest), value in plan.facts.strings:
        for v in plan.lines.get(line, ()):
            if v.role != Role.LEGACY or v.kind != RefKind.STRING:
                continue
            cmod = contracts[v.contract].canonical.module
            legacy = v.path.replace(":", ".")
            mod, _, attr = v.path.partition(":")
            rest = value[len(legacy):].lstrip(".").split(".")
            if value.startswith(legacy) and rest and rest[0]:
                plan.questions.add((mod, rest[0], cmod) if not attr else (mod, attr, cmod))


# --------------------------------------------------------------------------- phase 2


def decide(plan: FilePlan, identity: Identity, readers: Readers, matcher: Matcher) -> None:
    facts = plan.facts
    accepted: set[int] = set()  # id() of bindings moved whole to the canonical module
    for b in facts.bindings:
        legacy = b.plain or b.qualified
        for e in matcher.module_entries.get(legacy, ()):
            if e.role == Role.LEGACY and plan.has(b.line, legacy, (RefKind.IMPORT,)):
                if _namespace(plan, b, e.contract, legacy, identity, readers):
                    accepted.add(id(b))
                break
    _factory_imports(plan, matcher)
    _chains(plan, identity, readers, accepted)


def _readers_of(plan: FilePlan, b: Binding, readers: Readers) -> list[str]:
    if b.scope != "module" or not plan.module:
        return []
    return readers.get((plan.module, b.local), [])


def _read_reason(who: list[str]) -> tuple[str, str]:
    more = f"and {len(who) - 1} other file(s)" if len(who) > 1 else ""
    return Reason.READ_ELSEWHERE.format(who[0]), more


def _namespace(plan: FilePlan, b: Binding, contract: str, legacy: str,
               identity: Identity, readers: Readers) -> bool:
    """A legacy module bound to a name: move the binding to the canonical module when
    every use reads a name that is the same object there, and nobody reads the binding
    from outside."""
    cmod, _ = _canonical(plan.contracts[contract])
    key = (b.line, b.local)

    def refuse(reason: str, detail: str = "") -> bool:
        plan.namespace[key] = (None, reason, detail)
        plan.refuse(b.line, legacy, reason, detail)
        return False

    if b.scope == "class":
        return refuse(Reason.CLASS_BODY, f"`{b.local}`")
    who = _readers_of(plan, b, readers)
    if who:
        return refuse(*_read_reason(who))
    # the chains through this name in this scope (one name bound twice is one decision)
    via = [c for c in plan.facts.chains
           if c.binding.scope_id == b.scope_id and c.binding.local == b.local]
    if b.plain:
        if cmod.partition(".")[0] != legacy.partition(".")[0]:
            return refuse(Reason.OTHER_TOP, f"`import {legacy}` binds `{b.local}`")
        via = [c for c in via if str(c.entry.path) == legacy]
        names = []
        for c in via:
            if c.attr is None:
                return refuse(Reason.USED_BARE, f"`{c.text}`")
            if c.store:
                return refuse(Reason.NAMESPACE_WRITE, f"`{c.text}`")
            names.append(c.attr)
    else:
        if b.local in plan.facts.uses and plan.facts.uses[b.local] is None:
            return refuse(Reason.USED_BARE, f"`{b.local}` is used other than as "
                                            f"`{b.local}.<name>`")
        names = sorted(plan.facts.uses.get(b.local) or ())
    # a split patch first: its reason names the file whose read or patch stays
    for a in names:
        if (legacy, a) in plan.blocked:
            return refuse(Reason.PATCH_SPLIT, f"`{legacy}.{a}`: {plan.blocked[(legacy, a)]}")
    if any(c.store for c in via):
        return refuse(Reason.NAMESPACE_WRITE, f"`{b.local}`")
    for a in names:
        got, why = identity.same(legacy, a, cmod, prefer=[a])
        if got != a:
            return refuse(_why(why) if got is None else Reason.NOT_SAME,
                          f"`{legacy}.{a}`" + (f": {why}" if why else f" is {got} there"))
    if b.from_import and "." not in cmod:
        return refuse(Reason.TOP_LEVEL, cmod)
    plan.namespace[key] = (cmod, "", "")
    plan.handled.add((b.line, legacy))
    leaf = cmod.rpartition(".")[2]
    facts = plan.facts
    if (b.from_import and b.local == legacy.rpartition(".")[2] and leaf != b.local
            and leaf not in facts.identifiers and b.local not in facts.in_strings
            and facts.sole.get(b.local) is b and b.local not in plan.renames):
        # ``from a.b import legacy`` -> ``from a import b``: the module under its own name
        # (what a maintainer writes), every use renamed with it
        plan.ns_rename[key] = leaf
        plan.renames[b.local] = leaf
    for c in via:
        if b.plain:
            if c.args:  # setattr(a.legacy, "X", v): the object is the module
                plan.arg_new[(c.line, c.text)] = (cmod, None)
            else:
                plan.chain_new[(c.line, c.text)] = f"{cmod}.{c.attr}"
        plan.handled.add((c.line, str(c.entry.path)))
    plan.explain.append((b.line, f"the binding `{b.local}` (line {b.line}) moves whole from "
                                 f"`{legacy}` to `{cmod}`: every name read through it ("
                                 f"{', '.join(f'`{a}`' for a in names) or 'none'}) is the "
                                 f"same object there (probe), and each read stays a read "
                                 f"through the module (late binding kept)"))
    return True


def _factory_imports(plan: FilePlan, matcher: Matcher) -> None:
    """``from F import f [as g]`` of a factory with a declared replacement: the import
    names the replacement; the local name follows it when nothing else holds the name."""
    facts = plan.facts
    for b in facts.bindings:
        if b.plain is not None:
            continue
        module, _, name = b.qualified.rpartition(".")
        entries = [e for e in matcher.attr_entries.get(b.qualified, ()) if e.role == Role.FACTORY]
        entries += [e for e in matcher.module_entries.get(module, ()) if e.role == Role.FACTORY]
        for e in entries:
            path = str(e.path)
            if not plan.has(b.line, path, (RefKind.IMPORT,)):
                continue
            target = _replacement(plan.contracts[e.contract], module, name)
            if target is None:
                plan.refuse(b.line, path, Reason.FACTORY, path)
                continue
            new_local = b.local
            if (b.local == name and facts.sole.get(b.local) is b
                    and target.attr not in facts.identifiers and b.local not in facts.in_strings):
                new_local = target.attr  # type: ignore[assignment]
                plan.renames[b.local] = new_local
            plan.factory_alias[(b.line, b.local)] = (target.module, target.attr, new_local)  # type: ignore[assignment]
            plan.handled.add((b.line, path))
            for line, vs in plan.lines.items():
                for v in vs:
                    if v.kind == RefKind.CALL and v.path == path:
                        plan.handled.add((line, path))
            break


def _chains(plan: FilePlan, identity: Identity, readers: Readers, accepted: set[int]) -> None:
    """Chains and their kin (``getattr``/``setattr``/``delattr``/``hasattr``,
    ``patch.object``, ``monkeypatch.setattr``) through a legacy module: the same read or
    write through the canonical module (late binding kept: a patch of the canonical
    module reaches the rewritten read, as a patch of the legacy one reached the old)."""
    facts = plan.facts
    added: dict[tuple[str, str, int], tuple[str, int]] = {}  # -> (local, after line)
    taken: set[tuple[int, str]] = set()  # (scope id, or 0 for the module, local)
    rewritten: dict[int, int] = {}  # id(binding) -> chains rewritten away from it
    own: dict[tuple[int, str], bool] = {}  # (line, text) rewritten here -> away from binding
    bindings = {id(b): b for b in facts.bindings}
    for c in facts.chains:
        path = str(c.entry.path)
        if (c.line, c.text) in own:
            # the same chain twice on a line: one edit each, one decision
            if own[(c.line, c.text)]:
                rewritten[id(c.binding)] = rewritten.get(id(c.binding), 0) + 1
            continue
        if _chain_left_alone(plan, c, path, accepted):
            continue
        chosen = _chain_target(plan, identity, c, path)
        if chosen is None:
            continue  # refused (the reason is in the plan)
        target, proof = chosen
        found = _module_expr(plan, identity, c, target[0], added, taken)
        if found is None:
            plan.refuse(c.line, path, Reason.CLASH, f"`{target[0].rpartition('.')[2]}`")
            continue
        expr, how = found
        if c.args:
            plan.arg_new[(c.line, c.text)] = (expr, target[1] if target[1] != c.attr else None)
            new = f"`{expr}`, \"{target[1]}\""
        else:
            plan.chain_new[(c.line, c.text)] = f"{expr}.{target[1]}"
            new = f"`{expr}.{target[1]}`"
        plan.explain.append((c.line, f"`{c.text}` -> {new}: `{_head(c)}` "
                                     f"is bound by the import at line {c.binding.line}; "
                                     f"{proof}; the module `{target[0]}` is {how}; the "
                                     f"{'write' if c.store or c.form != 'chain' else 'read'} "
                                     "stays one through a module attribute (late binding)"))
        plan.handled.add((c.line, path))
        head = _head(c)
        away = not expr.startswith(head) or expr[len(head):][:1] not in ("", ".")
        own[(c.line, c.text)] = away
        if away:
            rewritten[id(c.binding)] = rewritten.get(id(c.binding), 0) + 1
    _drop_emptied_imports(plan, readers, rewritten, bindings)


def _chain_left_alone(plan: FilePlan, c: Chain, path: str, accepted: set[int]) -> bool:
    """A chain handled already, moved with its import, or not listed by the scan."""
    if (c.line, path) in plan.handled:
        return True
    if id(c.binding) in accepted and not c.binding.plain:
        return True  # moved whole with its binding
    if c.entry.path.attr is None and any(
            b.plain == path and id(b) in accepted and b.local == c.binding.local
            and b.scope_id == c.binding.scope_id for b in plan.facts.bindings):
        return True  # ``import a.legacy`` moved: its chains follow it
    # suppressed (or not a reference for the scan, nor through a listed import of a
    # legacy module): left alone
    return not plan.has(c.line, path, (RefKind.ATTRIBUTE, RefKind.CALL)) and not plan.has(
        c.binding.line, c.binding.plain or c.binding.qualified, (RefKind.IMPORT,))


def _chain_target(plan: FilePlan, identity: Identity, c: Chain, path: str
                  ) -> tuple[tuple[str, str], str] | None:
    """``((module, name), proof)`` a chain is rewritten to; ``None``: refused (the
    reason recorded in the plan)."""
    contract = plan.contracts[c.entry.contract]
    if c.attr is None:
        plan.refuse(c.line, path, Reason.USED_BARE, f"`{c.text}`")
        return None
    if (c.module, c.attr) in plan.blocked:
        plan.refuse(c.line, path, Reason.PATCH_SPLIT,
                    f"`{c.module}.{c.attr}`: {plan.blocked[(c.module, c.attr)]}")
        return None
    if c.entry.role == Role.FACTORY:
        # a patch of the factory becomes a patch of its replacement: the calls this fix
        # rewrites call the replacement (the project vouches for it)
        repl = _replacement(contract, c.module, c.attr)
        if repl is None:
            plan.refuse(c.line, path, Reason.FACTORY, f"`{c.text}`")
            return None
        proof = f"the contract declares `{repl}` as the replacement of `{c.module}:{c.attr}`"
        return (repl.module, repl.attr or ""), proof
    cmod, cname = _canonical(contract)
    got, why = identity.same(c.module, c.attr, cmod, prefer=[c.attr, cname])
    if got is None:
        plan.refuse(c.line, path, _why(why), why)
        return None
    return (cmod, got), f"`{c.module}.{c.attr}` is `{cmod}.{got}` (probe)"


def _drop_emptied_imports(plan: FilePlan, readers: Readers, rewritten: dict[int, int],
                          bindings: dict[int, Binding]) -> None:
    """An import whose every use was rewritten goes, unless another file reads it."""
    facts = plan.facts
    for key, n in rewritten.items():
        b = bindings[key]
        if facts.sole.get(b.local) is not b or facts.loads.get(b.local, 0) != n:
            continue
        if _readers_of(plan, b, readers):
            continue
        plan.remove.add((b.line, b.local))
        legacy = b.plain or b.qualified
        plan.handled.add((b.line, legacy))
        for (line, p) in list(plan.reasons):
            if line == b.line and p == legacy:
                del plan.reasons[(line, p)]


def late_state(plan: FilePlan, matcher: Matcher) -> dict[tuple[str, str], set[str]]:
    """After ``decide``: each late-bound name of a legacy module (``(module, name)``) this
    file reads or patches, and whether that read or patch was rewritten (``read-new``,
    ``read-left``, ``patch-new``, ``patch-left``). A patch string (``"legacy.X"``) is
    always left. The driver compares them across files (``fix`` keeps a patch and the
    reads it reaches on the same object)."""
    out: dict[tuple[str, str], set[str]] = {}
    for c in plan.facts.chains:
        if c.attr is None or c.entry.role == Role.CANONICAL:
            continue
        kind = _late_kind(c)
        key = (c.line, c.text)
        moved = plan.namespace.get((c.binding.line, c.binding.local), (None,))[0]
        new = key in plan.chain_new or key in plan.arg_new or moved is not None
        out.setdefault((c.module, c.attr), set()).add(f"{kind}-{'new' if new else 'left'}")
    # every string naming a name in a legacy namespace, a reference or not (a patch kept
    # by ``# ssot: ignore`` still reaches the late reads of that name)
    for (line, *_rest), value in plan.facts.strings:
        mod, _, name = value.rpartition(".")
        if not mod or not name.isidentifier():
            continue
        legacy = any(e.role == Role.LEGACY for e in matcher.module_entries.get(mod, ())) or any(
            e.role == Role.LEGACY for e in matcher.attr_entries.get(value, ()))
        if not legacy:
            continue
        done = any((line, v.path) in plan.handled for v in plan.lines.get(line, ())
                   if v.kind == RefKind.STRING)
        out.setdefault((mod, name), set()).add("patch-new" if done else "patch-left")
    return out


def _late_kind(c: Chain) -> str:
    """``read``, ``patch`` or ``write``: a patch restored after the test
    (``patch.object``, ``monkeypatch.setattr``) reaches only the code its test runs; a
    write (``setattr``, ``x.N = v``) reaches all."""
    return ("write" if c.store or c.form == "namespace-write"
            else "patch" if c.args and c.form != "getattr" else "read")


def late_left(source: bytes, package: str | None, matcher: Matcher
              ) -> dict[tuple[str, str], set[str]]:
    """``late_state`` of a file this run leaves as it is (every reference under
    ``# ssot: ignore``): the late-bound names of legacy modules it reads, patches or
    writes through a module attribute, all ``-left``. The same analysis of bindings and
    chains as a rewritten file's (the pragmas do not hide a reader that stays); patch
    strings are not counted here. Raises ``SyntaxError``/``ValueError``."""
    facts = read_facts(ast.parse(source), matcher, package, source)
    out: dict[tuple[str, str], set[str]] = {}
    for c in facts.chains:
        if c.attr is None or c.entry.role == Role.CANONICAL:
            continue
        out.setdefault((c.module, c.attr), set()).add(f"{_late_kind(c)}-left")
    return out


def _head(c: Chain) -> str:
    """The name the chain starts with (``f(x.y,n)`` -> ``x``)."""
    text = c.text.split("(", 1)[1].split(",")[0] if c.args else c.text
    return text.split(".")[0]


def _moved(plan: FilePlan, b: Binding) -> str | None:
    """The module a binding names after this run (``plan.namespace`` moves some)."""
    got = plan.namespace.get((b.line, b.local))
    if got is not None and got[0] is not None:
        return got[0]
    return None


def _module_expr(plan: FilePlan, identity: Identity, c: Chain, module: str,
                 added: dict[tuple[str, str, int], tuple[str, int]],
                 taken: set[tuple[int, str]]) -> tuple[str, str] | None:
    """An expression for the module ``module`` at the chain ``c``, and how it is known:
    the chain's own spelling shortened in place when the chain passes through the module
    (``a.b.legacy.X`` -> ``a.b.X``; evaluating the old chain evaluated ``a.b``), an
    existing import of the module, or a new ``from parent import leaf`` after the
    chain's import. ``None`` when no free name is left."""
    b = c.binding
    base = b.qualified
    local = _head(c)
    if module == base:
        return local, f"what `{local}` is bound to"
    if module.startswith(base + ".") and (c.module == module
                                          or c.module.startswith(module + ".")):
        return (local + module[len(base):],
                "a parent of the legacy module in the chain: the old chain reached it")
    facts = plan.facts
    for o in facts.bindings:
        if (not o.toplevel or o.line >= c.line or (o.line, o.local) in plan.remove):
            continue
        if o.plain is None:
            if facts.sole.get(o.local) is not o:
                continue
            if o.qualified == module and (o.line, o.local) not in plan.namespace:
                return o.local, f"bound to `{o.local}` by the import at line {o.line}"
            if _moved(plan, o) == module:
                local = plan.ns_rename.get((o.line, o.local), o.local)
                return local, f"bound to `{local}` by the import at line {o.line} " \
                              "(moved there by this fix)"
        else:
            plain = _moved(plan, o) or o.plain
            if plain != module and not plain.startswith(module + "."):
                continue
            same = [x for x in facts.bindings if x.local == o.local]
            if facts.counts.get(o.local) != len(same) or any(
                    x.qualified != o.qualified for x in same):
                continue
            return module, f"imported by `import {plain}` at line {o.line}"
    parent, _, leaf = module.rpartition(".")
    got = _bind(plan, identity, (parent, leaf), b, c.line, added, taken)
    if got is None:
        return None
    stmt = f"from {parent} import {leaf}" if parent else f"import {leaf}"
    return got, f"imported by a new `{stmt}` after line {b.line}"


def _bind(plan: FilePlan, identity: Identity, target: tuple[str, str], after: Binding,
          use_line: int,
          added: dict[tuple[str, str, int], tuple[str, int]],
          taken: set[tuple[int, str]]) -> str | None:
    """A local name for ``module.name`` in scope at a use on ``use_line`` through the
    import ``after``: an existing sole import of it at module level above the use, one
    added before above the use, or a new import right after ``after``."""
    module, name = target
    facts = plan.facts
    for b in facts.bindings:
        if (not b.toplevel or b.plain is not None or b.line >= use_line
                or facts.sole.get(b.local) is not b or (b.line, b.local) in plan.remove):
            continue
        if b.qualified == f"{module}.{name}":
            return b.local
        # an import of another path to the very object (proven), or one this run moves
        # to it: the name it binds is the object
        moved = plan.factory_alias.get((b.line, b.local))
        if moved is not None and moved[:2] == (module, name):
            return moved[2]
        bmod, _, battr = b.qualified.rpartition(".")
        answer = identity.answers.get((bmod, battr, module))
        if isinstance(answer, list) and name in answer:
            return b.local
    # a name added at module level is fresh (no other binding in the file): seen everywhere
    for key in ((module, name, 0), (module, name, after.line)):
        if key in added and added[key][1] < use_line:
            return added[key][0]
    module_level = after.toplevel  # bound whenever the module is (not under if/try)
    for local in (name, f"{name}_"):
        if local in facts.identifiers or (0, local) in taken:
            continue
        if module_level and any(local == t for _s, t in taken):
            continue
        if (after.scope_id, local) not in taken:
            break
    else:
        return None
    taken.add((0 if module_level else after.scope_id, local))
    added[(module, name, 0 if module_level else after.line)] = (local, after.line)
    stmt = (f"from {module} import {name}" if module else f"import {name}") + (
        f" as {local}" if local != name else "")
    plan.inserts.setdefault(after.line, []).append(stmt)
    return local
