"""Inserting many documents of one doctype at once: the insert lifecycle, step by step over a batch.

The data import's bulk path. Every document goes through exactly the steps of
``LIFECYCLE["insert"]``, in that order; what differs is that each step runs over the
whole batch before the next one starts, so the costly ones can be done once:

- ``set_name``: whether the IDs the naming rule gives are taken is asked in one query
  for the batch; an ID given to an earlier document of the batch counts as taken, so
  a repeated name gets its ``-1`` exactly as one by one;
- ``check_fields``: the Link values of the whole batch are looked up in one query
  (all target doctypes together); reads by ID of hooks are remembered for the batch
  (:meth:`engine.storage.unit.UnitOfWork.memoized`);
- ``write_insert``: one ``executemany`` for the documents and one per child table;
- a hook module that implements ``after_insert_many`` gets the written batch once,
  instead of ``after_insert`` per document (other hooks run per document);
- ``record_version``: one ``executemany``.

A document that fails before the write is left out of the batch and reported; a
failure from the write on ends the batch. Either way :class:`BatchFailed` is raised
and the caller rolls its savepoint back: the documents are then inserted again, one by
one or without the failed ones, so every document gets the outcome a single insert gives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from engine.documents import lifecycle, versions, writer
from engine.documents.hookspecs import HOOK_NAMES
from engine.errors import DocframeError
from engine.rules import links, naming

if TYPE_CHECKING:
    from engine.documents.document import Document, DocumentSession

_HOOKS = frozenset(HOOK_NAMES)
_STEPS = lifecycle.LIFECYCLE["insert"]
_WRITE = _STEPS.index("write_insert")


class BatchFailed(Exception):
    """Documents of a batch failed: ``errors`` by position in the batch.

    ``written``: the failure came at or after the write, so the whole batch must be
    rolled back and inserted again one by one; otherwise nothing of the batch was
    written but what its hooks wrote, and the other documents can be tried again.
    """

    def __init__(self, errors: dict[int, BaseException], written: bool):
        self.errors, self.written = errors, written
        first = next(iter(errors.values()), None)
        super().__init__(f"{len(errors)} document(s) of the batch failed" + (f": {first}" if first else ""))


def insert_many(docs: list[Document], ctx: DocumentSession) -> None:
    """Insert new documents of one doctype as one batch; raises :class:`BatchFailed`.

    Run inside the caller's transaction (a savepoint of it, to roll back on failure).
    """
    if not docs:
        return
    meta = docs[0].meta
    if any(d.meta is not meta for d in docs):
        raise ValueError("insert_many: the documents of a batch must all be of one doctype")
    failed: dict[int, BaseException] = {}
    with ctx.atomic(), ctx.memoized():
        for step in _STEPS[:_WRITE]:
            live = [(i, d) for i, d in enumerate(docs) if i not in failed]
            if step == "set_name":
                naming.prefetch([d for _, d in live], ctx)
            elif step == "check_fields":
                links.prefetch(ctx, [d for _, d in live])
            for i, doc in live:
                try:
                    _run_step(step, doc, ctx)
                    if step == "set_name" and doc.name:
                        ctx.memo(meta.name)[("exists", str(doc.name).lower())] = True  # type: ignore[index]
                except DocframeError as exc:
                    failed[i] = exc
        if failed:
            raise BatchFailed(failed, written=False)
        try:
            writer.insert_many(docs, ctx)
            for step in _STEPS[_WRITE + 1:]:
                if step == "record_version":
                    versions.record_many(docs, ctx)
                elif step in _HOOKS:
                    _run_hook_many(step, docs, ctx)
                else:
                    for doc in docs:
                        lifecycle.BUILTIN_STEPS[step](doc, ctx)
        except (DocframeError, BatchFailed, sa.exc.IntegrityError) as exc:
            raise BatchFailed({}, written=True) from exc
    for doc in docs:
        doc.snapshot()


def _run_step(step: str, doc: Document, ctx: DocumentSession) -> None:
    if step in _HOOKS:
        caller = ctx.hook_caller(doc.meta.name, step)
        if caller is not None:
            caller(doc=doc, ctx=ctx)
    else:
        lifecycle.BUILTIN_STEPS[step](doc, ctx)


def _run_hook_many(step: str, docs: list[Document], ctx: DocumentSession) -> None:
    """``<step>_many`` hooks once for the batch; the per-document hook of every other module per document."""
    per_doc, many = ctx.batch_hook_callers(docs[0].meta.name, step)
    if many is not None:
        many(docs=docs, ctx=ctx)
    if per_doc is not None:
        for doc in docs:
            per_doc(doc=doc, ctx=ctx)
