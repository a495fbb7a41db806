"""Layer 3, rules: checks and queries over a document or a doctype.

``naming``, ``validation``, ``links``, ``permissions``, ``tree`` and ``query``, each
given a :class:`~engine.storage.unit.UnitOfWork` and documents as the
:class:`~engine.rules.record.Record` protocol. Imports only the layers below.
"""
