"""One way to write a file so that no reader ever sees half of it. Pure: stdlib only.

Every file pytest-ssot writes (reports, the baseline, the scan cache, rewritten sources)
goes through ``write_atomic``; ``target_problem`` says beforehand, in words for the user,
why a path cannot be written, so that a bad ``--ssot-report`` is a usage error before the
run instead of a traceback after it (SPEC 12).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class NotWritableTarget(OSError):
    """The path exists and is not a regular file (a FIFO, a device, a folder, ...)."""


class ChangedSinceRead(OSError):
    """Compare-and-swap failed: the file is not what was read (someone edited, replaced
    or removed it meanwhile). It is left as it is; the caller lists it."""


class WouldNotKeep(OSError):
    """Replacing the file would lose something of it that is not ours to change: its
    owner or group, its hard links, its read-only mode. It is left as it is."""


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


def _current(target: Path) -> tuple[os.stat_result, bytes] | None:
    """The target's status and bytes as they are now; None when it is gone. Opened
    without following a link and without blocking, so that a FIFO swapped in meanwhile
    is an answer, not a hang."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
        | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(target, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symlink meanwhile
            raise ChangedSinceRead(f"{target} was replaced by a link") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return st, b""
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return st, b"".join(chunks)
    finally:
        os.close(fd)


def _owner(uid: int, gid: int) -> str:
    try:
        import grp
        import pwd

        user = pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        user = str(uid)
    try:
        group = grp.getgrgid(gid).gr_name
    except (ImportError, KeyError, NameError):
        group = str(gid)
    return f"{user}:{group}"


def not_writable_by_us(st: os.stat_result) -> str:
    """Why a file this process may not write is not replaced (renaming over it would
    work in a folder we may write, and hand the file to us)."""
    return (f"not writable by this user (owner {_owner(st.st_uid, st.st_gid)}, mode "
            f"{stat.S_IMODE(st.st_mode):04o}); left untouched")


def _refuse_unless_kept(path: Path, target: Path, st: os.stat_result, users: bool) -> None:
    """Raise why the existing ``target`` is not replaced: not a regular file; and for a
    user's file (``users``: a compare-and-swap), what a new file would lose."""
    if not stat.S_ISREG(st.st_mode):
        raise NotWritableTarget(f"{path} is {_kind(st.st_mode)}, not a regular file")
    if not users:
        return
    if st.st_nlink > 1:
        raise WouldNotKeep(f"hard-linked ({st.st_nlink} links): a new file would "
                           "split it from its other names; left untouched")
    if not st.st_mode & 0o222:
        raise WouldNotKeep(f"read-only file (mode {stat.S_IMODE(st.st_mode):04o}): "
                           "make it writable to rewrite it")
    if not os.access(target, os.W_OK):
        raise WouldNotKeep(not_writable_by_us(st))


def _keep_owner(fd: int, st: os.stat_result, users: bool) -> None:
    """The new file (``fd``) gets the old one's owner and group where this process may
    give them (root); a user's file that would change hands is not replaced."""
    mine = os.fstat(fd)
    if (mine.st_uid, mine.st_gid) != (st.st_uid, st.st_gid):
        try:
            os.fchown(fd, st.st_uid, st.st_gid)
        except OSError:
            if users:
                raise WouldNotKeep(
                    f"owned by {_owner(st.st_uid, st.st_gid)}: a new file would "
                    f"belong to {_owner(mine.st_uid, mine.st_gid)}; left "
                    "untouched") from None


def write_atomic(path: Path, data: bytes, *, keep_mode: bool = True,
                 expect: bytes | None = None, within: Path | None = None) -> None:
    """Write ``data`` to a temporary file beside ``path``'s target, then rename it over.

    The target is ``path`` with symlinks resolved: the link stays, its file changes. A
    target that exists and is not a regular file is refused (``NotWritableTarget``):
    renaming over a FIFO or a device would replace it, writing into one could block.
    A new file gets the mode the umask gives; an existing one keeps its mode
    (``keep_mode=False``: umask mode even for an existing file) and, where this process
    may give it (root), its owner and group.

    ``expect``: the bytes the caller read and rewrote - a user's file (``fix``,
    ``discover --write``). Then the write is a compare-and-swap: the file is replaced
    only if it still holds exactly ``expect`` (same file, same bytes, checked after the
    new text is ready, just before the rename), else ``ChangedSinceRead``; and only if
    nothing of it is lost - owner and group kept, no second hard link split off, not a
    read-only file - else ``WouldNotKeep``. Either way the file is left untouched.

    ``within``: the project's root; a link that leads out of it (another checkout, a
    shared folder) is not ours to rewrite (``WouldNotKeep``).
    """
    target = resolve_target(path)
    if within is not None:
        try:
            target.relative_to(Path(os.path.realpath(within)))
        except ValueError:
            raise WouldNotKeep(f"a link to a file outside the project ({target}); left "
                               "untouched") from None
    mode = None
    try:
        st = target.stat()
    except FileNotFoundError:
        st = None
    if st is None and expect is not None:
        raise ChangedSinceRead(f"{path} was removed")
    if st is not None:
        _refuse_unless_kept(path, target, st, expect is not None)
        if keep_mode:
            mode = st.st_mode & 0o7777
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(target.parent, target.name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if st is not None:
                _keep_owner(fh.fileno(), st, expect is not None)
        if mode is not None:
            os.chmod(tmp, mode)  # after the owner: chown clears set-id bits
        if expect is not None and st is not None:
            # As late as can be: what stays open is the time one rename takes.
            now = _current(target)
            if now is None:
                raise ChangedSinceRead(f"{path} was removed")
            if (now[0].st_ino, now[0].st_dev) != (st.st_ino, st.st_dev) or now[1] != expect:
                raise ChangedSinceRead(f"{path} changed")
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
