"""MkDocs hook: the performance page carries benchmarks/README.md as it is in the
repository, so the figures on the site cannot drift from the record they come from."""

from __future__ import annotations

from pathlib import Path

_MARKER = "<!-- benchmarks/README.md -->"


def on_page_markdown(markdown, page, config, files):  # noqa: ARG001 (MkDocs' signature)
    if _MARKER not in markdown:
        return markdown
    record = Path(config["config_file_path"]).parent / "benchmarks" / "README.md"
    text = record.read_text(encoding="utf-8")
    # one level down: the record's title and sections sit under the page's own heading
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("#"):
            line = "#" + line
        lines.append(line)
    return markdown.replace(_MARKER, "\n".join(lines))
