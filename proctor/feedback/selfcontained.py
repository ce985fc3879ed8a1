"""Checks over generated pages: a tiny HTML tree and a finder for external references.

Why in the package: a course may override the templates, and an override could pull in a
web font or a script from a CDN. ``external_references`` lets the CLI (and the tests) verify
that a page stays self-contained -- it must open offline and must not ping anyone when a
student opens their feedback. Only the standard library's ``html.parser`` is used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr"}

# Attributes through which the browser *loads* something: anything but data: is external.
LOAD_ATTRS = {"src", "srcset", "poster", "data", "background", "manifest"}
LOAD_TAGS_HREF = {"link", "image", "use", "script", "feimage"}  # href here is a load too
# Attributes that only navigate or submit: local (relative) targets are fine, remote not.
NAV_ATTRS = {"href", "xlink:href", "action", "formaction", "cite", "ping"}

_REMOTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*['"]?([^'")\s;]+)""", re.IGNORECASE)


@dataclass
class Element:
    """One element: tag, attributes, children (elements or text strings)."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Element | str] = field(default_factory=list)

    def iter(self) -> Iterator[Element]:
        """This element and all elements below it, in document order."""
        yield self
        for c in self.children:
            if isinstance(c, Element):
                yield from c.iter()

    def find_all(self, tag: str | None = None,
                 pred: Callable[[Element], bool] | None = None) -> list[Element]:
        """Descendants (not this element itself) with this tag that satisfy ``pred``."""
        return [e for e in self.iter()
                if e is not self and (tag is None or e.tag == tag) and (pred is None or pred(e))]

    def find(self, tag: str | None = None,
             pred: Callable[[Element], bool] | None = None) -> Element | None:
        found = self.find_all(tag, pred)
        return found[0] if found else None

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        """All text below this element, whitespace collapsed."""
        parts: list[str] = []

        def walk(e: Element) -> None:
            for c in e.children:
                if isinstance(c, str):
                    parts.append(c)
                else:
                    walk(c)

        walk(self)
        return " ".join("".join(parts).split())


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(html: str) -> Element:
    """Parse a page into an Element tree (lenient, like a browser: stray end tags ignored)."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def _inline(value: str) -> bool:
    return value.strip().lower().startswith(("data:", "#")) or not value.strip()


def external_references(html: str) -> list[str]:
    """Every reference that makes the page depend on something outside itself.

    * resources the browser would load (``src``, ``<link href>``, CSS ``url(...)``,
      ``@import``): anything that is not ``data:`` or a ``#fragment``;
    * links and form targets: only remote ones (``http:``, ``https:``, ``//host``...),
      since the dashboard legitimately links to feedback pages next to it.

    An empty list means the page is self-contained.
    """
    found: list[str] = []
    root = parse_html(html)
    css_chunks: list[str] = []
    for el in root.iter():
        for name, value in el.attrs.items():
            loads = name in LOAD_ATTRS or (name in {"href", "xlink:href"} and el.tag in LOAD_TAGS_HREF)
            if loads and not _inline(value) or name in NAV_ATTRS and _REMOTE.match(value):
                found.append(value)
            if name == "style":
                css_chunks.append(value)
        if el.tag == "style":
            css_chunks.append(el.text())
    for css in css_chunks:
        found += [m for m in _CSS_URL.findall(css) if not _inline(m)]
        found += _CSS_IMPORT.findall(css)
    return found
