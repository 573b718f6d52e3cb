"""The analysis of one Python file: its references (SPEC 5). Pure: bytes in, data out.

``references.analyze`` is the entry point: pass 1 (``reader``) lists imports, strings,
definitions and the chains and calls that depend on bindings; pass 2 (``bindings``, the
public scope model) says which imports reach each of those uses; ``skipping`` keeps the
parser and both passes off statements that cannot matter. ``names`` and ``segments`` are
the syntax and text facts they share.
"""

from __future__ import annotations

from .bindings import Bindings, Scope, reaching
from .names import IMPORT_LIKE, import_bindings, logger_names, logger_tables, resolve_relative
from .references import analyze
from .segments import IDENT_ESCAPES, pragmas

__all__ = ["Bindings", "IDENT_ESCAPES", "IMPORT_LIKE", "Scope", "analyze", "import_bindings",
           "logger_names", "logger_tables", "pragmas", "reaching", "resolve_relative"]
