"""Sphinx configuration for the negstate documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` after
``pip install -e '.[docs]'``.  Nothing is fetched from the network at build time.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import TYPE_CHECKING, Any

import attrs

import negstate

if TYPE_CHECKING:
    from docutils.nodes import Element, TextElement
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

project = "negstate"
author = "The negstate authors"
copyright = "2025, The negstate authors"  # noqa: A001 - Sphinx reads this name
release = negstate.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinxarg.ext",
    "sphinx_copybutton",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
# Resolve Markdown links only in these domains (sphinx-argparse adds one that
# cannot resolve "any" references and would warn about it).
myst_ref_domains = ["std", "py"]

# Single backticks in docstrings and argparse help mean code, and "--flag" stays
# two hyphens (no typographic dashes or quotes in command lines).
default_role = "literal"
smartquotes = False

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_class_signature = "mixed"

html_theme = "furo"
html_title = f"negstate {release}"
html_static_path: list[str] = []

copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True


_SUBMODULES = ("log", "records", "registry", "revisions", "replay", "stores")
"""Modules whose own objects the reference documents under their module's name."""


def _candidates(target: str, node: Element) -> list[str]:
    """Names under which the API reference may document ``target``."""
    parts = target.split(".")
    if parts[0] == "negstate":
        # negstate.events.Event -> negstate.Event; negstate.log.EventLog.verify ->
        # negstate.EventLog.verify
        return [
            ".".join(["negstate", *parts[start:]]) for start in range(2, len(parts))
        ]
    # A short name in a docstring: make_converter, EventLog.verify, Storage.
    found = [f"negstate.{target}"]
    module = node.get("py:module")
    if module and str(module).startswith("negstate."):
        found.append(f"{module}.{target}")
    owner = node.get("py:class")
    if owner:
        found.append(f"negstate.{owner}.{target}")
    found += [f"negstate.{module}.{target}" for module in _SUBMODULES]
    return found


def _resolve_reexports(
    app: Sphinx, env: BuildEnvironment, node: Element, contnode: TextElement
) -> Element | None:
    """Point ``negstate.events.Event`` at ``negstate.Event``, which is documented.

    The API reference documents the public objects under the package name; the
    docstrings and type hints name them by the module that defines them, or by
    their short name.
    """
    if node.get("refdomain") != "py":
        return None
    target = str(node.get("reftarget", ""))
    domain: Any = env.get_domain("py")
    for candidate in _candidates(target, node):
        if candidate == target:
            continue
        found = domain.resolve_xref(
            env,
            node.get("refdoc", ""),
            app.builder,
            node.get("reftype", "obj"),
            candidate,
            node,
            contnode,
        )
        if found is not None:
            return found
    return None


_INDIRECT_DEFAULT = re.compile(r"attr_dict\['\w+'\]\.default|NOTHING")


def _default_text(field: attrs.Attribute[Any]) -> str:
    """A field's default as a reader would write it."""
    default = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        factory = default.factory
        return f"{factory.__name__}()" if isinstance(factory, type) else "..."
    if isinstance(default, Enum):
        return f"{type(default).__name__}.{default.name}"
    return repr(default)


def _parameters(signature: str) -> list[str]:
    """The top-level parameters of ``(a: int = 1, b: dict[str, int] = ...)``."""
    parts: list[str] = []
    depth, current = 0, ""
    for char in signature[1:-1]:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += (char in "([{") - (char in ")]}")
        current += char
    return [*parts, current] if current.strip() else parts


def _attrs_signature(
    _app: Sphinx,
    what: str,
    _name: str,
    obj: object,
    _options: object,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None] | None:
    """Show attrs defaults as values, not as ``attr_dict['note'].default``.

    With ``autodoc_preserve_defaults``, autodoc reads defaults from the source of
    the ``__init__`` that attrs generates, which names them indirectly.
    """
    if what != "class" or not signature or not attrs.has(obj):  # type: ignore[arg-type]
        return None
    if not signature.startswith("(") or not signature.endswith(")"):
        return None
    fields = {field.alias: field for field in attrs.fields(obj)}  # type: ignore[arg-type]
    parameters = []
    for parameter in _parameters(signature):
        head, equals, default = parameter.rpartition(" = ")
        name = head.split(":")[0].strip()
        if equals and name in fields and _INDIRECT_DEFAULT.fullmatch(default.strip()):
            parameters.append(f"{head.strip()} = {_default_text(fields[name])}")
        else:
            parameters.append(parameter.strip())
    return f"({', '.join(parameters)})", return_annotation


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the resolver for re-exported names."""
    app.connect("missing-reference", _resolve_reexports)
    app.connect("autodoc-process-signature", _attrs_signature)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
