"""What the rules read of a document, as a protocol.

The rules (naming, validation, links, permissions, trees) sit below the documents
layer: they check a document without importing :class:`engine.documents.document.Document`,
which implements this protocol (a test holds it to it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

from engine.metadata.doctype import DocType
from engine.storage.unit import Flags


@runtime_checkable
class Record(Protocol):
    """A document: its doctype's metadata, its values and child rows, and its saved state.

    ``_data`` is the values by field name (child rows under their Table field); the
    rules coerce values in place there. Field values also read as attributes.
    """

    meta: DocType
    flags: Flags
    _data: dict[str, Any]
    parent_doc: Record | None

    @property
    def doctype(self) -> str: ...

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...

    def is_new(self) -> bool: ...

    def get_doc_before_save(self) -> Record | None: ...

    def children(self) -> Iterator[tuple[str, list[Any]]]: ...

    def __getattr__(self, key: str) -> Any: ...
