"""One way to write a file so that no reader ever sees half of it. Pure: stdlib only.

Every file pytest-ssot writes (reports, the baseline, the scan cache, rewritten sources)
goes through ``write_atomic``; ``target_problem`` says beforehand, in words for the user,
why a path cannot be written, so that a bad ``--ssot-report`` is a usage error before the
run instead of a traceback after it (SPEC 12).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotWritableTarget(OSError):
    """The path exists and is not a regular file (a FIFO, a device, a folder, ...)."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def resolve_target(path: Path) -> Path:
    """The file a write to ``path`` must change: symlinks followed (also dangling ones),
    so that a symlinked report stays a symlink and its target gets the new content."""
    return Path(os.path.realpath(path))


def target_problem(path: Path) -> str | None:
    """Why ``path`` cannot be written atomically, or None. Creates nothing but a probe
    file in the target's folder (removed at once) - the one reliable test for read-only
    mounts, ``/proc`` and permissions, whoever runs it."""
    target = resolve_target(path)
    try:
        st = target.stat()
    except (FileNotFoundError, NotADirectoryError):  # (a file where a folder should be:
        st = None                                    # the folder step below says so)
    except OSError as exc:
        return f"cannot use {path}: {exc.strerror}"
    if st is not None and not stat.S_ISREG(st.st_mode):
        shown = f"{path} (-> {target})" if target != Path(os.path.abspath(path)) else f"{path}"
        return f"{shown} is {_kind(st.st_mode)}, not a regular file: give a file path"
    folder = target.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create the folder {folder}: {exc.strerror or exc}"
    try:
        fd, probe = _create_temp(folder, target.name)
    except OSError as exc:
        return f"cannot create files in {folder}: {exc.strerror or exc}"
    os.close(fd)
    os.unlink(probe)
    return None


def _create_temp(folder: Path, name: str) -> tuple[int, str]:
    """A new, exclusive temporary file beside the target. Mode 0o666 as asked of
    ``open``: the process umask applies, as for any file the user creates."""
    for _ in range(100):
        tmp = os.path.join(folder, f".{name}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                           0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


def write_atomic(path: Path, data: bytes, *, keep_mode: bool = True) -> None:
    """Write ``data`` to a temporary file beside ``path``'s target, then rename it over.

    The target is ``path`` with symlinks resolved: the link stays, its file changes. A
    target that exists and is not a regular file is refused (``NotWritableTarget``):
    renaming over a FIFO or a device would replace it, writing into one could block.
    A new file gets the mode the umask gives; an existing one keeps its mode
    (``keep_mode=False``: umask mode even for an existing file).
    """
    target = resolve_target(path)
    mode = None
    try:
        st = target.stat()
    except FileNotFoundError:
        st = None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise NotWritableTarget(f"{path} is {_kind(st.st_mode)}, not a regular file")
        if keep_mode:
            mode = st.st_mode & 0o7777
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(target.parent, target.name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
