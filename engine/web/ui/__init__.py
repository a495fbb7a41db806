"""The desk: server-rendered pages for every doctype (list, form, tree), the login page and search.

Generic views driven by the metadata; each page's context is a dataclass the
templates render (templates never query). Templates resolve most-specific-first
(``doctypes/<doctype>/form.html``, then ``form.html``) in the app's ``templates/desk``
folder, then the bundled one.
"""
