"""Demo data: the app's ``demo/*.yaml`` files loaded through the document API.

Each file is a YAML list of documents, each a mapping with a ``doctype`` key and
the document's values (child rows as lists of mappings). Files load in name
order (``01_groups.yaml`` before ``02_customers.yaml``), every document through
``Session.insert`` so naming, validation and the app's hooks run as for any
other write. Everything loads in one transaction: a bad document leaves nothing.
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
    with session.atomic():
        for doc in docs:
            try:
                session.insert(doc.doctype, doc.values)
            except DocframeError as exc:
                raise DocframeError(f"{doc.where}: {exc.message}", exc.errors) from exc
            counts[doc.doctype] += 1
            if progress is not None:
                progress(1)
    return counts
