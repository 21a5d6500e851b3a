"""Repeated XML elements written as text, spliced into an lxml document (same bytes as lxml).

Why: a 50-tank plan has ~10 000 photo placemarks of ~30 elements each, per KML and per DJI WPML
file. Building one lxml element per field took most of ``drone plan``'s export time, so the
exporters build the document's frame with lxml (where the structure varies) and the repeated
placemarks from string templates. The templates reproduce lxml's ``pretty_print`` layout (two
spaces per level, ``<a></a>`` for empty text); tests compare them with an lxml-built element.

Usage: :func:`add_slot` marks where text goes (an XML comment, indented by lxml like any child),
the document is serialised, then :func:`fill_slots` replaces each marker line with its text.
Element text from outside data goes through :func:`xml_text`; numbers need no escaping.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.sax.saxutils import escape

from lxml import etree

__all__ = ["add_slot", "fill_slots", "xml_text"]

_SLOT = "plantwatch-slot {}"
_SLOT_LINE = re.compile(rb"^ *<!--plantwatch-slot (\d+)-->\n", re.MULTILINE)
# Characters XML 1.0 cannot hold; lxml refuses them with the same ValueError.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ENTITIES = {"\r": "&#13;"}  # lxml writes a carriage return in text as a character reference


def xml_text(value: str) -> str:
    """``value`` escaped as element text exactly as lxml writes it (``&``, ``<``, ``>``, CR).

    Raises
    ------
    ValueError
        ``value`` holds a character XML cannot carry (NUL, other control characters), as
        lxml raises when such a string is set as text.
    """
    if _NOT_XML.search(value):
        raise ValueError(
            "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control "
            f"characters; got {value!r}"
        )
    return escape(value, _ENTITIES)


def add_slot(parent: etree._Element, number: int) -> None:
    """Append slot ``number``'s marker as the last child of ``parent``."""
    parent.append(etree.Comment(_SLOT.format(number)))


def fill_slots(document: bytes, bodies: Sequence[str]) -> bytes:
    """Replace marker line ``i`` of the pretty-printed ``document`` with ``bodies[i]`` (UTF-8).

    Each body is complete lines (indented for its depth, each ending in a newline); an empty
    body leaves the parent as if the marker had never been there. Element text is escaped, so
    only a marker comment can produce a marker line.
    """
    parts = _SLOT_LINE.split(document)
    if len(parts) != 2 * len(bodies) + 1:
        raise ValueError(f"expected {len(bodies)} slot markers, found {(len(parts) - 1) // 2}")
    out = [parts[0]]
    for position in range(1, len(parts), 2):
        out.append(bodies[int(parts[position])].encode("utf-8"))
        out.append(parts[position + 1])
    return b"".join(out)
