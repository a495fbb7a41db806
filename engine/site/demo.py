"""Demo data: the app's ``demo/*.yaml`` files loaded through the document API.

Each file is a YAML list of documents, each a mapping with a ``doctype`` key and
the document's values (child rows as lists of mappings). Files load in name
order (``01_groups.yaml`` before ``02_customers.yaml``), every document through
``Session.insert`` so naming, validation and the app's hooks run as for any
other write. Everything loads in one transaction: a bad document leaves nothing.

Two keys are the loader's, not the document's: ``docstatus: 1`` submits the document
once inserted (a submittable doctype's invoices, payments), and ``demo_id: KEY`` lets a
later document name it as ``"@KEY"`` anywhere in its values (a payment allocated to an
invoice whose ID its naming series gives only when it is loaded).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from engine.errors import DocframeError

if TYPE_CHECKING:
    from engine.site.session import Session


@dataclass(frozen=True)
class DemoDocument:
    file: Path
    position: int  # 1-based within its file
    doctype: str
    values: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.file.name}: document {self.position} ({self.doctype})"


def demo_files(folder: Path) -> list[Path]:
    """The demo files of an app's ``demo/`` folder, in load order."""
    return sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml")) if folder.is_dir() else []


def read_demo(files: list[Path]) -> list[DemoDocument]:
    """Parse every file first, so a broken file is reported before anything is written."""
    docs: list[DemoDocument] = []
    for path in files:
        try:
            raw = yaml.safe_load(path.read_text("utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise DocframeError(f"{path}: invalid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
        if raw is None:
            continue
        if not isinstance(raw, list):
            raise DocframeError(f"{path}: a demo file must be a list of documents")
        for i, item in enumerate(raw, 1):
            if not isinstance(item, dict) or not isinstance(item.get("doctype"), str):
                raise DocframeError(f"{path}: document {i} must be a mapping with a 'doctype' key")
            values = {k: v for k, v in item.items() if k != "doctype"}
            docs.append(DemoDocument(path, i, item["doctype"], values))
    return docs


def load_demo(session: Session, docs: list[DemoDocument],
              progress: Callable[[int], None] | None = None) -> Counter[str]:
    """Insert the documents in one transaction; returns how many of each doctype were created."""
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    with session.atomic():
        for doc in docs:
            values = dict(doc.values)
            key, submit = values.pop("demo_id", None), values.pop("docstatus", 0) == 1
            try:
                inserted = session.insert(doc.doctype, _resolved(values, names, doc))
                if submit:
                    inserted.submit()
            except DocframeError as exc:
                raise DocframeError(f"{doc.where}: {exc.message}", exc.errors) from exc
            if key is not None:
                names[str(key)] = str(inserted.name)
            counts[doc.doctype] += 1
            if progress is not None:
                progress(1)
    return counts


def _resolved(value: Any, names: dict[str, str], doc: DemoDocument) -> Any:
    """``"@KEY"`` replaced by the ID of the earlier document with ``demo_id: KEY``."""
    if isinstance(value, str) and value.startswith("@"):
        if value[1:] not in names:
            raise DocframeError(f"{doc.where}: {value!r} names no earlier document's demo_id")
        return names[value[1:]]
    if isinstance(value, dict):
        return {k: _resolved(v, names, doc) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolved(v, names, doc) for v in value]
    return value
