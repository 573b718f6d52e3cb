"""References in documentation and configuration files (SPEC 13): kinds ``doc``, ``config``.

Pure: no pytest. A declared dotted path counts in a text file when it stands there as a
whole token: not preceded by a character that could be part of a dotted name (a word
character or a dot: ``mypkg.old``, ``x.pkg.old``), not followed by a word character
(``pkg.older``). What follows it may continue it: ``pkg.old.Thing``, ``pkg.old:main`` (an
entry point) are references to ``pkg.old``, unless a longer declared path is spelled there
(``pkg.old:Thing`` when that is an entry: with ``.`` or ``:``). So the Sphinx roles and
directives (``:class:`~pkg.old.Thing```, ``.. automodule:: pkg.old``), mkdocstrings
(``::: pkg.old``), entry points, logging ``class:`` keys and ``python -m pkg.old`` are
all found without a rule of their own.

A declared path of one name (``six``) is a word of prose too: it counts only where it is
clearly a module, continued by ``.name`` or ``:name``, or after ``python -m``, ``import``
or ``from``.

Files are read as bytes and decoded as UTF-8 with undecodable bytes kept as they are
(``surrogateescape``): such a byte bounds a token and never forms one, and a rewrite puts
every byte back unchanged. A line holding ``ssot: ignore`` (or ``ssot: ignore[name,
...]`` naming the contract) is not counted, in whatever comment syntax the file has.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Iterator, NamedTuple, Sequence

from ..domain.contracts import Contract
from ..domain.refkind import Found, RefKind, Role, kinds_where
from .files import _glob_regex, read_source
from .fingerprint import number

__all__ = ["TEXT_KINDS", "TextFiles", "TextScanner", "Token"]

TEXT_KINDS = kinds_where(found_by=Found.TEXT)  # (doc, config)
_IGNORE = re.compile(r"ssot:\s*ignore(?:\[([^\]]*)\])?")
# Files that name declared paths on purpose are not references to them: our own
# declaration (``[tool.pytest-ssot]``), the ban lists of the tools users pair us with (ruff's
# ``flake8-tidy-imports`` banned-api, import-linter's contracts), in any TOML/INI-style file
# (their sections are skipped), and the baseline, reports and SARIF we write (JSON with our
# schema or tool name near its start). Counting them would make every contract violate
# itself, and ``fix`` would rewrite the bans.
_OUR_JSON = re.compile(rb'"(?:schema|name)"\s*:\s*"pytest-ssot')
_SECTION = re.compile(r"^[ \t]*\[\[?[ \t]*([^\]\n]*)", re.M)
_BANS = re.compile(r"pytest-ssot|flake8-tidy-imports|importlinter|banned", re.I)
_BAN_KEY = re.compile(r"^([ \t]*)(?=[^\s=:#;\[])[^=\n]*?(?:flake8-tidy-imports|banned)[^=\n]*?"
                      r"[ \t]*[=:]", re.M | re.I)
# Requirements name distributions, not modules: ``"backports.zoneinfo; python_version <
# '3.9'"`` in ``dependencies`` is no reference to the module ``backports.zoneinfo``, and
# ``fix`` would break the dependency. Their keys (``[project] dependencies``,
# ``[build-system] requires``, setup.cfg's ``install_requires``, tox's ``deps``) and
# sections (``[project.optional-dependencies]``, ``[dependency-groups]``, Poetry's
# ``[tool.poetry.dependencies]``, ``[options.extras_require]``) are skipped like bans.
_REQUIRES = re.compile(r"depend|requires|require\b|deps", re.I)
_REQUIRES_SECTION = re.compile(r"(?:^|[.\s])(?:[\w-]*dependencies|dependency-groups|"
                               r"extras_require)[\s\]]*$", re.I)
_REQUIRES_KEY = re.compile(r"^([ \t]*)(?:[\w-]*dependencies|requires|install_requires|"
                           r"setup_requires|tests_require|extras_require|deps)[ \t]*[=:]",
                           re.M | re.I)
_SECTIONED = (".toml", ".cfg", ".ini", ".importlinter")

# Text files are not parsed (a line at a time is all the memory a token needs), so they may
# be larger than code; a larger one is a scan error like an oversized module.
TEXT_MAX_BYTES = 32 * 1024 * 1024


def file_class(name: str) -> str:
    """What decides which parts of a file are skipped, as a file name standing for the
    class (``x.json``, ``x.toml`` or ""): the history keys its cache by it."""
    if name.endswith(".json"):
        return "x.json"
    if name.endswith(_SECTIONED):
        return "x.toml"
    return ""


def _ban_sections(text: str, name: str) -> list[tuple[int, int]]:
    """Offsets ``(start, end)`` of the sections of ours and of other tools' ban lists."""
    if not name.endswith(_SECTIONED) or not (_BANS.search(text) or _REQUIRES.search(text)):
        return []
    spans, start = [], None
    for m in _SECTION.finditer(text):
        ours = (_BANS.search(m.group(1)) or _REQUIRES_SECTION.search(m.group(1))) is not None
        if ours and start is None:
            start = m.start()
        elif not ours and start is not None:
            spans.append((start, m.start()))
            start = None
    if start is not None:
        spans.append((start, len(text)))
    # A ban list under a key of another section: flake8-tidy-imports' ``banned-modules =``
    # in ``[flake8]`` (INI), ruff's ``flake8-tidy-imports.banned-api."pkg.old".msg = ...``
    # in ``[tool.ruff.lint]`` (TOML): the key's line and its continuation lines (indented
    # deeper than the key) are skipped, ``fix`` would otherwise rewrite the ban itself.
    keys = sorted([*_BAN_KEY.finditer(text), *_REQUIRES_KEY.finditer(text)],
                  key=lambda m: m.start())
    for m in keys:
        if any(a <= m.start() < b for a, b in spans):
            continue
        indent = len(m.group(1).expandtabs())
        end = text.find("\n", m.end())
        while end >= 0:
            nxt = text.find("\n", end + 1)
            row = text[end + 1:len(text) if nxt < 0 else nxt]
            body = row.lstrip(" \t")
            if body.strip() and len(row[:len(row) - len(body)].expandtabs()) <= indent:
                break
            end = nxt
        spans.append((m.start(), len(text) if end < 0 else end))
    return spans


_URL_WORD = re.compile(r"""[\s<>()\[\]{}"'`|,;]""")
_URL_LOOKBACK = 2048  # bounded: a long line without spaces must not make a scan quadratic


def _in_address(text: str, lo: int, start: int) -> bool:
    """Is the token at ``start`` part of a URL (``https://host/pkg.old.html``,
    ``https://pkg.old.example.org``) or an e-mail address (``dev@pkg.old.org``)? Those name
    places, not Python paths: counting them is noise and ``fix`` would break the link."""
    if start <= lo:
        return False
    before = text[start - 1]
    if before == "@":  # name@pkg.old.org, but not the decorator "@pkg.old.cached"
        return start - 2 >= lo and (text[start - 2].isalnum() or text[start - 2] in "._+-")
    if before not in "/=#?&%":
        return False
    word = _URL_WORD.split(text[max(lo, start - _URL_LOOKBACK):start])[-1]
    return "://" in word or word.startswith("www.")


# Files that record the past or pin versions: a changelog that says "moved pkg.old.Thing to
# pkg.new" states history, and rewriting it would make it false; a lock file's keys are
# distribution names. Matched on the rootdir-relative path (a file name, or a directory).
_RECORD = re.compile(
    r"(?:^|/)(?:(?:change[-_ ]?log|changes|history|news|release[-_ ]?notes|whats[-_ ]?new)"
    r"\.\w+$"
    r"|(?:change[-_ ]?log|changes|release[-_ ]?notes|whats[-_ ]?new|newsfragments)(?:\.d)?/"
    r"|(?:[^/]*[-_.]|py)?lock(?:\.[^/]*)?\.(?:json|toml|ya?ml)$|[^/]*\.lock$)", re.I)


_QUALNAME = re.compile(r"[ \t]*qualname[ \t]*[=:][ \t]*$")
_KEY_BEFORE = re.compile(r"[ \t]*[\"']?$")
_KEY_AFTER = re.compile(r"(?:\.\w+)*[\"']?[ \t]*:(?:[ \t\r]|$)", re.M)
_YAML_LOGGERS = re.compile(r"[ \t]*[\"']?loggers[\"']?[ \t]*:[ \t]*(?:#.*)?$")
_JSON_LOGGERS = re.compile(r"[\"']loggers[\"'][ \t\r\n]*:[ \t\r\n]*$")


def _logger_name(text: str, tok: Token) -> bool:
    """Is the token a logger's name in a logging configuration (SPEC 13: not a reference)?
    ``qualname=pkg.old`` (``fileConfig`` INI), or a key of the ``loggers`` mapping (the
    ``dictConfig`` schema in YAML or JSON). Its ``class:`` and ``()`` keys still count."""
    lo = text.rfind("\n", 0, tok.start) + 1
    if _QUALNAME.fullmatch(text, lo, tok.start):
        return True
    if not _KEY_AFTER.match(text, tok.end):
        return False
    if _KEY_BEFORE.fullmatch(text, lo, tok.start):  # a YAML key on its own line
        indent = len(text[lo:tok.start]) - len(text[lo:tok.start].lstrip(" \t"))
        end = lo - 1
        for _ in range(10000):  # the nearest line indented less: the mapping it is a key of
            if end <= 0:
                break
            start = text.rfind("\n", 0, end) + 1
            row = text[start:end]
            stripped = row.lstrip(" \t")
            if stripped and not stripped.startswith("#") and len(row) - len(stripped) < indent:
                return _YAML_LOGGERS.fullmatch(row.rstrip("\r")) is not None
            end = start - 1
    # a JSON key: the object it is in is the value of "loggers"
    if tok.start < 1 or text[tok.start - 1] not in "\"'":
        return False
    depth, i = 0, tok.start - 1
    floor = max(0, tok.start - 65536)
    while i > floor:
        i -= 1
        ch = text[i]
        if ch == "}":
            depth += 1
        elif ch == "{":
            if depth == 0:
                return _JSON_LOGGERS.search(text, max(0, i - 64), i) is not None
            depth -= 1
    return False


class TextFiles:
    """Which files (other than ``*.py``) are scanned as text, and as what kind.

    A glob without ``/`` matches a file name at any depth; one with ``/`` matches the
    rootdir-relative POSIX path. ``doc_files`` are tried before ``config_files``.
    """

    def __init__(self, doc_files: Sequence[str], config_files: Sequence[str]) -> None:
        self.key = ("doc_files", *doc_files, "config_files", *config_files)
        self._rules: list[tuple[str, object, RefKind]] = []
        for globs, kind in ((doc_files, RefKind.DOC), (config_files, RefKind.CONFIG)):
            for g in globs:
                g = g.strip("/")
                if "/" in g:
                    self._rules.append(("path", _glob_regex(g).match, kind))
                elif not set("*?[") & set(g):
                    self._rules.append(("name", g, kind))
                elif g.startswith("*") and not set("*?[") & set(g[1:]):
                    self._rules.append(("suffix", g[1:], kind))
                else:
                    self._rules.append(("glob", re.compile(fnmatch.translate(g)).match, kind))

    def __bool__(self) -> bool:
        return bool(self._rules)

    def kind(self, rel: str, name: str) -> RefKind | None:
        """``"doc"``, ``"config"``, or ``None``: not a text file we read. ``*.py`` is code.
        A glob does not take a changelog or a lock file (only a rule naming it does)."""
        if name.endswith(".py"):
            return None
        record = _RECORD.search(rel) is not None
        for how, what, kind in self._rules:
            if record and how != "name":
                continue
            if how == "suffix":
                if name.endswith(what):  # type: ignore[arg-type]
                    return kind
            elif how == "name":
                if name == what:
                    return kind
            elif how == "path":
                if what(rel):  # type: ignore[operator]
                    return kind
            elif what(name):  # type: ignore[operator]
                return kind
        return None


class Token(NamedTuple):
    """One declared path spelled in a text file."""

    start: int  # offsets in the decoded text
    end: int
    line: int
    spelled: str  # the declared path as written (``pkg.old``, ``pkg.old:Thing``)
    entries: tuple  # ((contract, role, path, fix), ...) it names


class TextScanner:
    """The token rules, compiled once per scan from the contracts."""

    def __init__(self, contracts: Sequence[Contract]) -> None:
        self.contracts = contracts  # compiled on first use: a warm scan reads no text file

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        if name not in ("entries", "pattern", "needles"):
            raise AttributeError(name)
        self._build(self.contracts)
        return self.__dict__[name]

    def _build(self, contracts: Sequence[Contract]) -> None:
        # spelling with "." -> ((contract, role, declared path, canonical), ...)
        self.entries: dict[str, list[tuple[str, str, str, str]]] = {}
        for c in contracts:
            fix = str(c.canonical)
            declared = ([(Role.LEGACY, p) for p in c.legacy]
                        + [(Role.FACTORY, p) for p in c.factories]
                        + [(Role.CANONICAL, c.canonical)])
            for role, p in declared:
                self.entries.setdefault(p.dotted, []).append((c.name, role, str(p), fix))
        spellings: list[str] = []
        for dotted in self.entries:
            spellings.append(dotted)
            module, _dot, attr = dotted.rpartition(".")
            if any(str_path == f"{module}:{attr}" for _c, _r, str_path, _f in self.entries[dotted]):
                spellings.append(f"{module}:{attr}")
        alts = []
        for s in sorted(set(spellings), key=lambda s: (-len(s), s)):
            e = re.escape(s)
            if "." in s or ":" in s:
                alts.append(e)
            else:  # one name: only where it is clearly a module
                alts.append(rf"{e}(?=[.:][^\W\d])|(?<=-m ){e}|(?<=import ){e}|(?<=from ){e}")
        self.pattern = re.compile(r"(?<![\w.])(?:" + "|".join(alts) + r")(?!\w)") if alts \
            else None
        # Bytes any file holding a reference must contain: the module part of each path,
        # minus those containing another (then the shorter one is enough).
        mods = sorted({s.partition(":")[0] if ":" in s else
                       (s.rpartition(".")[0] if self._is_attr(s) else s)
                       for s in spellings}, key=len)
        needles: list[bytes] = []
        for m in mods:
            b = m.encode("utf-8")
            if not any(n in b for n in needles):
                needles.append(b)
        self.needles = tuple(needles)

    def _is_attr(self, dotted: str) -> bool:
        return any(":" in p for _c, _r, p, _f in self.entries.get(dotted, ()))

    def may_hold(self, data: bytes) -> bool:
        for n in self.needles:
            if n in data:
                return True
        return False

    def tokens(self, text: str) -> Iterator[Token]:
        """Every declared path spelled in ``text``, with its line; lines marked
        ``ssot: ignore`` keep only the contracts they do not name."""
        if self.pattern is None:
            return
        # The current line's bounds and suppression, found once per line: a per-match
        # search of the whole line made a long one-line file (minified JSON, a search
        # index) quadratic.
        line, pos, lo, hi, ign = 1, 0, 0, -1, None
        for m in self.pattern.finditer(text):
            start = m.start()
            newlines = text.count("\n", pos, start)
            if newlines or hi < 0:
                line += newlines
                lo = text.rfind("\n", pos, start) + 1 if newlines else lo
                hi = text.find("\n", start)
                if hi < 0:
                    hi = len(text)
                here = text[lo:hi]
                ign = _IGNORE.search(here) if "ssot" in here else None
            pos = start
            spelled = m.group()
            entries = tuple(self.entries[spelled.replace(":", ".")])
            if ign is not None:
                if ign.group(1) is None:
                    continue
                names = {n.strip() for n in ign.group(1).split(",")}
                entries = tuple(e for e in entries if e[0] not in names)
                if not entries:
                    continue
            if _in_address(text, lo, start):
                continue
            yield Token(start, m.end(), line, spelled, entries)

    def tokens_of(self, data: bytes, name: str) -> tuple[str, list[Token]]:
        """The decoded text and its tokens, minus our own declarations and outputs."""
        text = data.decode("utf-8", "surrogateescape")
        if b"\0" in data[:8192]:  # a binary file under a text name (as git decides)
            return text, []
        if name.endswith(".json") and _OUR_JSON.search(data[:4096]):
            return text, []
        own = _ban_sections(text, name)
        found = [t for t in self.tokens(text) if not any(a <= t.start < b for a, b in own)]
        if b"loggers" in data or b"qualname" in data:  # a logging configuration
            found = [t for t in found if not _logger_name(text, t)]
        return text, found

    def analyze(self, data: bytes, kind: str, name: str = "") -> list[list]:
        """One file's references as the scan cache stores them (``fingerprint.rows``)."""
        out = []
        kind = str(kind)  # (plain ``str`` values, role's too: marshal takes no subclass)
        for tok in self.tokens_of(data, name)[1]:
            for contract, role, path, fix in tok.entries:
                out.append([contract, str(role), path, fix, kind, tok.line, tok.spelled])
        wrong = [r for r in out if r[1] != Role.CANONICAL]
        for r, fp in zip(wrong, number((r[0], r[4], r[1], r[2], r[6]) for r in wrong)):
            r.append(fp)
        return out

    def examine(self, abspath: str, size: int, cached: tuple | None, kind: str,
                regular: bool = False) -> tuple[str | None, list | None, str | None, bool]:
        """``(digest, hits, error, read through)`` like ``prefilter.Filter.examine``."""
        try:
            # regular files, size-limited
            data = read_source(abspath, TEXT_MAX_BYTES, regular=regular)
        except OSError as exc:
            return None, [], f"cannot be read: {exc.strerror or exc}", False
        if not self.may_hold(data):
            return None, [], None, False
        import hashlib

        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        if cached is not None and cached[0] == digest:
            return digest, None, None, False
        return digest, self.analyze(data, kind, abspath.rpartition("/")[2]), None, True
