"""Reading a git repository's objects without a checkout. Pure: no pytest.

Everything goes through the ``git`` executable, driven as long-lived processes:

- ``git rev-list`` once, for the commits and their dates;
- ``git cat-file --batch`` once for the whole run, for commits, trees and blobs.

Why ``cat-file --batch`` rather than a library (pygit2, dulwich) or ``git show`` per file:
it adds no dependency (git is there wherever there is a repository), reads packed and loose
objects with git's own code (deltas, pack indexes, alternates, partial clones), streams any
number of objects through one process, so a blob costs a pipe write and a read rather than
a process start, and it reads objects by id: trees that do not change between commits
are read once, and a checkout is never touched.
"""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass
from typing import Iterable, Iterator

from ..errors import USAGE, SsotError

__all__ = ["GitError", "Commit", "Repo"]


class GitError(SsotError):
    """A git failure that the user must see as one line (not a repository, bad range)."""

    exit_code = USAGE


@dataclass(frozen=True)
class Commit:
    sha: str
    date: str  # committer date, strict ISO-8601
    subject: str


def _first_line(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    # git prefixes its own messages ("fatal: ..."); its usage text follows the first line
    return lines[0] if lines else "git failed"


def _git(cwd: str, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed (history reads the repository with git)") from None
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    if done.returncode != 0:
        raise GitError(_first_line(done.stderr))
    return done.stdout.decode("utf-8", "replace")


class Repo:
    """One repository, seen from a directory inside its work tree."""

    def __init__(self, cwd: str) -> None:
        self.cwd = cwd
        try:
            out = _git(cwd, "rev-parse", "--show-toplevel", "--show-prefix")
        except GitError as exc:
            raise GitError(f"{cwd} is not inside a git work tree ({exc})") from None
        lines = out.split("\n")
        self.toplevel = lines[0]
        # the rootdir relative to the top of the work tree ("" or "sub/dir")
        self.prefix = lines[1].strip("/") if len(lines) > 1 else ""
        self._proc: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ commits

    def commits(self, rev_range: str | None, since: str | None) -> list[Commit]:
        """First-parent history of ``rev_range`` (default ``HEAD``), oldest first."""
        revs = rev_range or "HEAD"
        if revs.startswith("-"):
            raise GitError(f"bad revision range {revs!r} (it may not start with '-')")
        args = ["rev-list", "--first-parent", "--format=%H%x00%cI%x00%s", "--no-commit-header"]
        if since:
            args.append(f"--since={since}")
        try:
            out = _git(self.cwd, *args, *revs.split(), "--")
        except GitError as exc:
            raise GitError(f"git cannot read the revision range {revs!r}: {exc}") from None
        found = []
        for line in out.splitlines():
            parts = line.split("\0")
            if len(parts) == 3:
                found.append(Commit(parts[0], parts[1], parts[2]))
        found.reverse()
        return found

    # ------------------------------------------------------------------ objects

    def _batch(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = subprocess.Popen(["git", "cat-file", "--batch"], cwd=self.cwd,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL)
        return self._proc

    def _read_one(self, out: "subprocess.IO[bytes]", name: str) -> tuple[str, bytes]:
        header = out.readline()
        if not header:
            raise GitError("git cat-file stopped unexpectedly")
        fields = header.split()
        if len(fields) == 2 and fields[1] == b"missing":
            raise GitError(f"git object {name} is missing (a shallow or partial clone?)")
        if len(fields) != 3:
            raise GitError(f"unexpected answer from git cat-file: {header[:80]!r}")
        size = int(fields[2])
        data = out.read(size + 1)[:size]  # the content, then a newline
        return fields[1].decode(), data

    def read(self, name: str) -> tuple[str, bytes]:
        """``(type, content)`` of one object (a sha, or ``<commit>:<path>``)."""
        proc = self._batch()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(name.encode() + b"\n")
        proc.stdin.flush()
        return self._read_one(proc.stdout, name)

    def read_many(self, names: Iterable[str]) -> Iterator[tuple[str, bytes]]:
        """``(type, content)`` of many objects, in order, pipelined: a thread writes the requests
        while this one reads the answers (a pipe holds only so much either way)."""
        proc = self._batch()
        assert proc.stdin is not None and proc.stdout is not None
        names = list(names)
        stdin = proc.stdin
        failed: list[BaseException] = []

        def feed() -> None:
            try:
                for i in range(0, len(names), 512):
                    stdin.write(("\n".join(names[i:i + 512]) + "\n").encode())
                stdin.flush()
            except (OSError, ValueError) as exc:  # git died: the reader reports it
                failed.append(exc)

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        answered = 0
        try:
            for name in names:
                kind, data = self._read_one(proc.stdout, name)
                answered += 1
                yield kind, data
        finally:
            if answered < len(names):  # stopped early: git may be blocked writing answers
                proc.kill()
                self.close()
            writer.join()

    def read_spread(self, names: list[str], processes: int = 2, at_least: int = 256
                    ) -> Iterator[tuple[str, str, bytes]]:
        """``(name, type, content)`` of many objects, in any order, read by ``processes``
        ``cat-file`` processes at once (from ``at_least`` objects on): inflating objects is
        git's work, and the slowest part of a cold history; each process takes a core."""
        if processes <= 1 or len(names) < max(at_least, processes):
            for name, (kind, data) in zip(names, self.read_many(names)):
                yield name, kind, data
            return
        import queue

        results: "queue.Queue[tuple[str, str, bytes] | BaseException | None]" = queue.Queue(256)
        helpers = [Repo.__new__(Repo) for _ in range(processes - 1)]
        for h in helpers:
            h.cwd, h.toplevel, h.prefix, h._proc = self.cwd, self.toplevel, self.prefix, None
        readers = [self, *helpers]
        shares = [names[k::processes] for k in range(processes)]
        stop = threading.Event()

        def pump(repo: "Repo", share: list[str]) -> None:
            try:
                for name, (kind, data) in zip(share, repo.read_many(share)):
                    if stop.is_set():
                        break
                    results.put((name, kind, data))
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                results.put(exc)
            finally:
                results.put(None)

        threads = [threading.Thread(target=pump, args=(r, sh), daemon=True)
                   for r, sh in zip(readers, shares)]
        for t in threads:
            t.start()
        running = len(threads)
        try:
            while running:
                item = results.get()
                if item is None:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            stop.set()
            while any(t.is_alive() for t in threads):  # let blocked pumps finish
                try:
                    results.get(timeout=0.05)
                except queue.Empty:
                    pass
            for h in helpers:
                h.close()

    def parse_tree(self, data: bytes) -> list[tuple[bytes, str, bytes]]:
        """``(mode, name, raw id)`` of one tree object (binary: mode SP name NUL id)."""
        entries = []
        pos, n = 0, len(data)
        width = self.hash_bytes
        while pos < n:
            space = data.index(b" ", pos)
            nul = data.index(b"\0", space)
            mode = data[pos:space]
            name = data[space + 1:nul].decode("utf-8", "surrogateescape")
            sha = data[nul + 1:nul + 1 + width]
            entries.append((mode, name, sha))
            pos = nul + 1 + width
        return entries

    @property
    def hash_bytes(self) -> int:
        if not hasattr(self, "_hash_bytes"):
            fmt = "sha1"
            try:
                fmt = _git(self.cwd, "rev-parse", "--show-object-format").strip() or "sha1"
            except GitError:
                pass  # older git: sha1 only
            self._hash_bytes = 32 if fmt == "sha256" else 20
        return self._hash_bytes

    def commit_trees(self, shas: list[str]) -> list[str]:
        """The root tree of each commit."""
        out = []
        for sha, (kind, data) in zip(shas, self.read_many(shas)):
            if kind != "commit" or not data.startswith(b"tree "):
                raise GitError(f"git object {sha} is not a commit")
            out.append(data[5:data.index(b"\n")].decode())
        return out

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> "Repo":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
