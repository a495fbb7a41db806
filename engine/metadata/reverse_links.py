"""Which columns can point at a doctype: the reverse-link index, from metadata alone.

Deleting or renaming a document asks only these columns (see :mod:`engine.rules.links`
and :mod:`engine.documents.rename`), never every table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from engine.metadata.doctype import DocType


@dataclass(frozen=True, slots=True)
class LinkSource:
    """A column that can hold the ID of some target doctype."""

    doctype: DocType  # the doctype owning the column (may be a child doctype)
    field: str
    doctype_field: str | None = None  # for Dynamic Links: the column holding the target doctype


class ReverseLinks:
    """For each doctype, the Link and Dynamic Link columns that may point at it."""

    def __init__(self, doctypes: Mapping[str, DocType]):
        self.static: dict[str, list[LinkSource]] = defaultdict(list)
        self.dynamic: list[LinkSource] = []
        for dt in doctypes.values():
            for f in dt.link_fields:
                if f.type == "Link" and isinstance(f.options, str):
                    self.static[f.options].append(LinkSource(dt, f.name))
                elif f.type == "Dynamic Link" and isinstance(f.options, str):
                    self.dynamic.append(LinkSource(dt, f.name, f.options))

    def sources(self, target: str) -> list[LinkSource]:
        return self.static.get(target, []) + self.dynamic
