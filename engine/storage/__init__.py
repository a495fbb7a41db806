"""Layer 2, storage: the database.

``db`` (engines made to behave alike), ``schema`` (pure compile of metadata to
tables), ``sqltypes`` and ``sync`` (diff, plan, migrate), ``store`` (an app's tables
and prebuilt statements on one database) and ``unit`` (one user's connection and
transaction). Imports only the metadata layer and ``engine.errors``.
"""
