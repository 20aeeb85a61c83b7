"""The browser files the map's first page needs, for the sign-in page to prefetch while the
user types: Streamlit's entry scripts (as its index.html names them) and the chunks its
bundler splits off and loads only when an element first appears (the chart engine, the
table, the select boxes...). Measured in a real browser (benchmarks/README.md), fetching
those chunks after the sign-in was about half a second of the first map: the server is busy
running the page meanwhile.

The chunk files carry content hashes in their names; which file holds an element, and what
it needs with it, is read from the bundler's own dependency lists in those files (Vite's
``__vite__mapDeps``), so a Streamlit upgrade changes the files, not this module."""

from __future__ import annotations

import functools
import re
from pathlib import Path

# the elements of the map's first page (app/overview.py and app/navigation.py), as the
# bundle's lazily loaded modules are named; a name the bundle does not have is skipped
MAP_ELEMENTS = (
    "Button",
    "ButtonGroup",
    "Selectbox",
    "Radio",
    "Metric",
    "ArrowVegaLiteChart",
    "embed",  # the chart engine, which ArrowVegaLiteChart loads in its turn
    "vega-interpreter",
    "DataFrame",
    "DownloadButton",
    "NumberInput",
    "TextInput",
    "rehype-raw",  # markdown with HTML (the tiles' legend)
)

_ENTRY = re.compile(r'(?:src|href)="\./(static/(?:js|css)/[^"]+\.(?:js|css))"')
_DEPS_LIST = re.compile(r"m\.f=\[([^\]]*)\]")
_LAZY = re.compile(
    r"import\(`\./([^`]+\.js)`\)(?:\.then\([^()]*\))?(?:,__vite__mapDeps\(\[([\d,]*)\]\))?"
)


def static_root() -> Path:
    import streamlit

    return Path(streamlit.__file__).parent / "static"


@functools.cache
def app_bundle() -> tuple[str, ...]:
    """URL paths of the entry files and of the map's lazily loaded chunks, each once; empty
    when Streamlit's static files cannot be read (the page then simply prefetches nothing)."""
    root = static_root()
    try:
        index = (root / "index.html").read_text(encoding="utf-8")
    except OSError:
        return ()
    paths = [f"/{path}" for path in _ENTRY.findall(index)]
    for name in lazy_chunks(root / "static" / "js", MAP_ELEMENTS):
        paths.append(f"/static/{name}" if name.startswith("css/") else f"/static/js/{name}")
    return tuple(dict.fromkeys(paths))


def lazy_chunks(folder: Path, stems: tuple[str, ...]) -> list[str]:
    """File names of the chunks named ``stems`` (a name before its hash) and of what the
    bundler loads with each (``css/…`` for a style sheet), from every script in ``folder``
    that imports one of them."""
    wanted = set(stems)
    found: list[str] = []
    for script in sorted(folder.glob("*.js")):
        try:
            text = script.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "import(`./" not in text:
            continue
        listed = _DEPS_LIST.search(text)
        deps = re.findall(r'"\.\.?/([^"]+)"', listed.group(1)) if listed else []
        for name, indices in _LAZY.findall(text):
            if name.split(".", 1)[0] not in wanted:
                continue
            found.append(name)
            found += [deps[int(i)] for i in indices.split(",") if i and int(i) < len(deps)]
    return list(dict.fromkeys(found))
