"""The desk's Jinja environment: the app's templates over the bundled ones, most specific first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jinja2
from markupsafe import Markup

from engine.metadata.app import App, bundled_app_dir
from engine.metadata.doctype import snake

DESK_FOLDER = "desk"


def environment(app: App) -> jinja2.Environment:
    """Autoescaping, strict about undefined names; ``{% extends "desk/form.html" %}`` reaches the generic page."""
    folders = [app.templates_dir, bundled_app_dir() / "templates"]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(f)) for f in dict.fromkeys(folders) if f.is_dir()]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["snake"] = snake
    env.filters["nl2br"] = _nl2br
    return env


def page_templates(doctype: str | None, page: str) -> list[str]:
    """``desk/doctypes/customer/form.html`` then ``desk/form.html``: an app overrides one doctype's page."""
    names = [f"{DESK_FOLDER}/doctypes/{snake(doctype)}/{page}"] if doctype else []
    return [*names, f"{DESK_FOLDER}/{page}"]


def render(env: jinja2.Environment, names: Sequence[str], **context: Any) -> str:
    return env.select_template(list(names)).render(**context)


def _nl2br(value: Any) -> Markup:
    text = jinja2.utils.markupsafe.escape("" if value is None else str(value))
    return Markup("<br>".join(text.split("\n")))
