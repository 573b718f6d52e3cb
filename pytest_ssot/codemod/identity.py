"""The proof questions: "which names of the canonical module are the object ``M.X``?".

Asked in batches of a fresh probe interpreter (``probe.run_tasks``), never guessed by name:
a rewrite is applied only when the answer shows the very same object.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from ..probe import run_tasks

__all__ = ["Identity", "Question"]

Question = tuple[str, str, str]  # (module, attribute, canonical module)


class Identity:
    """Answers identity questions in batches; remembers every answer."""

    def __init__(self, sys_path: Sequence[str], timeout: float) -> None:
        self.sys_path = list(sys_path)
        self.timeout = timeout
        self.answers: dict[Question, list[str] | str] = {}

    def ask(self, queries: Iterable[Question]) -> None:
        todo = sorted({q for q in queries if q not in self.answers})
        if not todo:
            return
        tasks = [{"kind": "same", "module": m, "attr": a, "target": t, "preimport": ""}
                 for m, a, t in todo]
        for q, answer in zip(todo, run_tasks(tasks, sys_path=self.sys_path,
                                              timeout=self.timeout)):
            if "died" in answer:
                self.answers[q] = str(answer["died"])
            elif "error" in answer:
                self.answers[q] = str(answer["error"])
            else:
                self.answers[q] = list(answer["names"])

    def same(self, module: str, attr: str, target: str, prefer: Sequence[str]
             ) -> tuple[str | None, str]:
        """``(name in target, "")`` or ``(None, why not)``."""
        got = self.answers.get((module, attr, target))
        if got is None:
            return None, f"internal: no identity fact for {module}.{attr}"
        if isinstance(got, str):
            return None, f"{module}.{attr} does not resolve to a comparable object: {got}"
        if not got:
            return None, f"{module}.{attr} is not any object of {target}"
        for name in prefer:
            if name in got:
                return name, ""
        return got[0], ""
