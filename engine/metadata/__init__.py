"""Layer 1, metadata: doctype YAML to typed, immutable metadata; no database.

``doctype`` (DocType, Field), ``loader`` (YAML, JSON Schema, cross-checks),
``fieldtypes`` (the one table of field types), ``expressions`` (the safe condition
language), ``record_rules`` (checks of record-rule conditions), ``reverse_links``
(which columns point at a doctype) and ``app`` (an app folder).
Imports only ``engine.errors``.
"""
