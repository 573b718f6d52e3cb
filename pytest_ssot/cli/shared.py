"""What every ``pytest-ssot`` command does first: find the project (its rootdir, as pytest
finds a configuration file), load its configuration, know where pytest keeps its cache, and
read the options the commands share. Used by ``cli`` and the commands' own modules, which
therefore need not import ``cli`` (nor ``cli`` them, until one runs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import load_config
from ..config.toml import ini_options, load_toml
from ..domain.contracts import SsotConfig
from ..errors import ConfigError

__all__ = ["find_rootdir", "project_settings", "cache_path", "jobs_option", "progress"]


def find_rootdir(start: Path) -> Path | None:
    """The nearest folder, from ``start`` up, whose pyproject.toml has a
    ``[tool.pytest-ssot]`` table. One that only names us (a subproject's dependency list)
    is passed by; one that is not valid TOML stops the search, so that the user is told."""
    for d in (start, *start.parents):
        f = d / "pyproject.toml"
        try:
            if not (f.is_file() and b"pytest-ssot" in f.read_bytes()):
                continue
        except PermissionError:
            return d  # its loading says so, with the file's name (not "none found")
        except OSError:
            continue
        try:
            tool = load_toml(f).get("tool")
            if not isinstance(tool, dict) or "pytest-ssot" not in tool:
                continue
        except ConfigError:
            pass  # said by the configuration's loading, with the file's name
        return d
    return None


def project_settings(args: argparse.Namespace) -> tuple[Path, SsotConfig] | int:
    root = Path(args.rootdir).resolve() if args.rootdir else find_rootdir(Path.cwd().resolve())
    from ..config import lookalike_tables

    nearest = root or next((d for d in (Path.cwd().resolve(), *Path.cwd().resolve().parents)
                            if (d / "pyproject.toml").is_file()), None)
    for message in lookalike_tables(nearest) if nearest is not None else ():
        print(f"pytest-ssot: warning: {message}", file=sys.stderr)
    if root is None:
        print("pytest-ssot: no pyproject.toml with a [tool.pytest-ssot] table in this "
              "directory or its parents (or pass --rootdir)", file=sys.stderr)
        return 2
    try:
        settings = load_config(root)
        if settings is None:
            raise ConfigError(f"{root / 'pyproject.toml'}: no [tool.pytest-ssot] table")
        if not settings.contracts:
            raise ConfigError("pyproject.toml: [tool.pytest-ssot] declares no contracts "
                              "([[tool.pytest-ssot.contracts]])")
        ini = ini_options(root)
        for key in ("cache_dir", "pythonpath"):  # paths the commands use, as pytest would
            values = ini.get(key)
            if any(isinstance(v, str) and "\x00" in v
                   for v in (values if isinstance(values, list) else [values])):
                raise ConfigError(f"pyproject.toml: [tool.pytest.ini_options] key '{key}': "
                                  f"{values!r} holds a NUL character, which no file name can")
    except ConfigError as exc:
        print(f"pytest-ssot: {exc}", file=sys.stderr)
        return 2
    return root, settings


def cache_path(root: Path, settings: SsotConfig) -> Path:
    cache_dir = root / ini_options(root).get("cache_dir", ".pytest_cache")
    if not cache_dir.exists():
        # Created here before pytest ever ran: ignored by git as pytest's own would be, or
        # `git add -A` (and pre-commit's "files were modified" check) would pick it up.
        try:
            cache_dir.mkdir(parents=True)
            (cache_dir / ".gitignore").write_text("# Created by pytest-ssot automatically.\n*\n")
        except OSError:
            pass  # the scan then runs without a cache
    return cache_dir / "d" / "ssot" / "scan.cache"


def jobs_option(text: str) -> int:
    """``--jobs``: a whole number >= 1 (capped later at the cores and the files)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {n}")
    return n


def progress(done: int, total: int) -> None:
    sys.stderr.write(f"\rscanning: {done}/{total} files")
    sys.stderr.flush()
    if done >= total:
        sys.stderr.write("\r" + " " * 40 + "\r")
