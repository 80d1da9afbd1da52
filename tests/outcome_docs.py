"""The outcome tables of docs/audit.md, made from the outcome registry.

`python tests/outcome_docs.py --write` rewrites the part of docs/audit.md between the markers
below from `socialcredit.audit.catalogue.doc_rows` (each outcome's kind, unit, comparison and
its `description`, the text the audit also writes into audit.json); tests/test_docs.py fails
while the file differs from what this would write. Edit an outcome's definition in
src/socialcredit/audit/catalogue.py, never in the doc.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "audit.md"
BEGIN = "<!-- outcomes: made by `python tests/outcome_docs.py --write` from the registry -->"
END = "<!-- end of outcomes -->"


def tables() -> str:
    """The two tables (stated aims, harms) as Markdown."""
    from socialcredit.audit.catalogue import doc_rows

    rows = doc_rows()
    out = [BEGIN]
    for kind, title in (("aim", "Stated aims"), ("harm", "Harms")):
        out += ["", f"### {title}", "", "| outcome | unit | definition | comparison |"]
        out.append("|---|---|---|---|")
        for r in rows:
            if r["kind"] != kind:
                continue
            names = ", ".join(f"`{n}`" for n in r["names"])
            text = r["description"].replace("|", "\\|")
            out.append(f"| {names} | {r['unit']} | {text} | {r['comparison']} |")
    return "\n".join([*out, "", END])


def expected(doc: str) -> str:
    """The doc with its outcome tables as the registry makes them."""
    if BEGIN not in doc or END not in doc:
        raise ValueError(f"{DOC} lacks the markers {BEGIN!r} ... {END!r}")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + tables() + tail


def main() -> None:
    doc = DOC.read_text(encoding="utf-8")
    new = expected(doc)
    if "--write" in sys.argv[1:]:
        DOC.write_text(new, encoding="utf-8")
        print(f"wrote {DOC}")
    elif new != doc:
        sys.exit(f"{DOC} is out of date: run python tests/outcome_docs.py --write")


if __name__ == "__main__":
    main()
