"""Layer 5, site: the Site (an app on a database) and its Sessions (the document API).

``session`` (below ``site`` within the layer: it never imports it), ``site``,
``fixtures`` and ``demo`` (records loaded through sessions), ``auth`` (passwords and
API keys) and ``token_cache``. The web layer and the CLI sit on top.
"""
