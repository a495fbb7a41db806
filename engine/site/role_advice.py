"""``docframe check``'s advice on roles: a role named in a doctype that no standard record defines.

Roles are records (doctype Role), so a role may be created at run time; but a role named
in ``permissions`` or ``record_rules`` that the app's fixtures do not install is most
often a typo ("Sales Usr"), which silently grants nobody anything. Hence a warning, with
the nearest known role, not an error.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from engine.errors import DocframeError
from engine.metadata.doctype import DocType
from engine.site.demo import read_demo
from engine.site.fixtures import fixture_files


def standard_roles(fixtures_dir: Path) -> set[str] | None:
    """Names of the Role records the app's fixtures install, or None if they cannot be read."""
    try:
        docs = read_demo(fixture_files(fixtures_dir))
    except DocframeError:
        return None  # migrate reports the broken file itself
    return {str(d.values["name"]) for d in docs if d.doctype == "Role" and d.values.get("name")}


def role_warnings(fixtures_dir: Path, doctypes: dict[str, DocType], own: set[str]) -> list[str]:
    """One message per role that the ``own`` doctypes name and no fixture installs."""
    known = standard_roles(fixtures_dir)
    if known is None:
        return []
    out: list[str] = []
    for name in sorted(own):
        dt = doctypes[name]
        named = [(role, "permissions") for role in dt.permissions]
        named += [(role, f"record_rules[{i}]") for i, rule in enumerate(dt.record_rules, 1) for role in rule.roles]
        for role, where in named:
            if role in known:
                continue
            close = difflib.get_close_matches(role, sorted(known), n=1, cutoff=0.75)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            out.append(f"{name}: {where} names role {role!r}, which no standard record (fixtures/) creates"
                       f"{hint}; unless it is created as a Role record, nobody has it")
    return out
