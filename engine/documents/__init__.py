"""Layer 4, documents: the Document and its lifecycle.

``document`` (the record and the session it calls back into), ``lifecycle`` (the
order of steps, as data), ``writer`` (the only writer of rows), ``versions``,
``rename``, ``hookspecs`` and ``hooks`` (the app's hooks) and ``whitelist`` (its
methods). Imports only the layers below.
"""
