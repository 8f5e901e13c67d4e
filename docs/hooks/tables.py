"""MkDocs hook: the family and host-dialect tables, rendered from the library's own data.

A page that holds ``<!-- families -->`` or ``<!-- dialects -->`` gets, in its place, every
row of that table with its rules, why and sources, as ``thinking-round-trip families --json``
gives them; so the docs cannot say other than the code does.
"""

from __future__ import annotations

import html
import re
from typing import Any

from agent.families import FamilyRegistry
from agent.families.listing import table_records

_URL = re.compile(r"https?://[^\s;,)]+[^\s;,).]")


def _text(value: str) -> str:
    """Plain text from the table as Markdown: nothing read as markup, URLs as links."""
    escaped = html.escape(value, quote=False).replace("*", r"\*").replace("|", r"\|")
    return _URL.sub(lambda m: f"<{m.group(0)}>", escaped)


def _code(values: list[str]) -> str:
    return ", ".join(f"`{v}`" for v in values) or "—"


def _rows(pairs: list[tuple[str, str]]) -> list[str]:
    lines = ["| | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in pairs if value]
    return lines


def _sources(record: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = [("source", _text(record["source"]))]
    pairs += [(f"source: `{rule}`", _text(text)) for rule, text in record["sources"].items()]
    return pairs


def _family(r: dict[str, Any]) -> list[str]:
    hosts = ", ".join(r["hosts"]) or "—"
    pairs = [
        ("model ids", _code(r["models"])),
        ("not", _code(r["not_models"]) if r["not_models"] else ""),
        ("when thinking is on", _code(r["when_thinking"]) if r["when_thinking"] else ""),
        ("hosts", hosts + (" (authoritative)" if r["authoritative"] else "")),
        ("Anthropic Messages", _text(r["anthropic_messages"])),
        ("Chat Completions", _text(r["chat_completions"])),
        ("Responses", _text(r["responses"])),
        ("why", _text(r["why"])),
        *_sources(r),
    ]
    return [f"### Family `{r['name']}` ({r['origin']})", "", *_rows(pairs), ""]


def _dialect(r: dict[str, Any]) -> list[str]:
    preserve = ", ".join(f"`{k}`: `{v}`" for k, v in r["preserve"].items())
    pairs = [
        ("hosts", ", ".join(r["hosts"]) or "— (a provider names it: `dialect: " + r["name"] + "`)"),
        ("carries", _text(r["carries"])),
        ("rejects", _code(r["rejects"]) if r["rejects"] else ""),
        ("strict schema", "yes" if r["strict"] else ""),
        ("provenance bound to", _text(r["bound_to"])),
        ("preservation switch", preserve),
        ("why", _text(r["why"])),
        *_sources(r),
    ]
    return [f"### Dialect `{r['name']}` ({r['origin']})", "", *_rows(pairs), ""]


def render(kind: str) -> str:
    """Every row of one table (``family`` or ``dialect``) as Markdown."""
    render_one = _family if kind == "family" else _dialect
    records = [r for r in table_records(FamilyRegistry.builtin()) if r["kind"] == kind]
    return "\n".join(line for r in records for line in render_one(r))


def on_page_markdown(markdown: str, **_: Any) -> str:
    """MkDocs' event: fill the markers of a page."""
    markdown = markdown.replace("<!-- families -->", render("family"))
    return markdown.replace("<!-- dialects -->", render("dialect"))
