#!/usr/bin/env python3
"""Every public item of the `spoor` facade has a runnable example (issue 28): lists those that
do not and exits 1. Public items are found by walking `pub mod` declarations from src/lib.rs
(modules that are private or `#[doc(hidden)]` are not the API); an item's example is a code
block in the doc comment right above it (a module's in its own `//!` header). The examples
themselves run as doctests (`cargo test --doc`)."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src"
ITEM = re.compile(r"^\s*pub (async )?(fn|struct|enum|trait|type|const|static) (\w+)")
MODULE = re.compile(r"^\s*(pub )?mod (\w+);")
REEXPORT = re.compile(r"^\s*pub use (\w+)::(\{[^}]*\}|\w+);")


def module_file(parent: Path, name: str) -> Path:
    base = parent.parent if parent.name in ("lib.rs", "mod.rs") else parent.with_suffix("")
    flat = base / f"{name}.rs"
    return flat if flat.exists() else base / name / "mod.rs"


def doc_above(lines, i):
    """The doc comment and attributes right above line i."""
    out = []
    j = i - 1
    while j >= 0 and (lines[j].strip().startswith("///") or lines[j].strip().startswith("#[")):
        out.append(lines[j].strip())
        j -= 1
    return out


def missing_in(path: Path, missing: list, only=None):
    """A public module's items (`only` None), or those of a private one its parent re-exports."""
    lines = path.read_text().split("\n")
    if only is None and path.name != "lib.rs" and not any(l.startswith("//!") and "```" in l for l in lines):
        missing.append(f"{path.relative_to(ROOT.parent)}: the module's header has no example")
    reexported = {}
    for line in lines:
        if (m := REEXPORT.match(line)) is not None:
            names = re.findall(r"\w+", m.group(2))
            reexported.setdefault(m.group(1), set()).update(names)
    for i, line in enumerate(lines):
        if line.strip().startswith("#[cfg(test)]"):
            break
        above = doc_above(lines, i)
        if "#[doc(hidden)]" in above or "#[cfg(doctest)]" in above:
            continue
        if (m := MODULE.match(line)) is not None:
            public = m.group(1) is not None and only is None
            names = None if public else reexported.get(m.group(2), set())
            if public or names:
                missing_in(module_file(path, m.group(2)), missing, names)
        elif (m := ITEM.match(line)) is not None and (only is None or m.group(3) in only or line.startswith(" ")):
            if not any("```" in d for d in above):
                missing.append(f"{path.relative_to(ROOT.parent)}:{i + 1}: {line.strip()[:80]}")


def main() -> int:
    missing: list = []
    missing_in(ROOT / "lib.rs", missing)
    for m in missing:
        print(f"no example: {m}", file=sys.stderr)
    if missing:
        print(f"{len(missing)} public items of the facade without a runnable example", file=sys.stderr)
        return 1
    print("every public item of the facade has an example")
    return 0


if __name__ == "__main__":
    sys.exit(main())
