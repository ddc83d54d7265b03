import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cuekit"
HEAVY = ("cv2", "av", "ai_edge_litert", "mediapipe", "streamlit", "tensorflow", "jax", "torch")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys; {code}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def test_import_cuekit_and_the_cli_stay_light():
    """`import cuekit`, the CLI's module and the settings load no decoder, no model runtime,
    no OpenCV and no dashboard: `cuekit --version` and `--help` answer at once."""
    assert _loaded_after("import cuekit, cuekit.cli, cuekit.config, cuekit.cueset, cuekit.cues") == []
    assert "ai_edge_litert" not in _loaded_after("import cuekit.session, cuekit.media")


def _imports(path: Path) -> set[str]:
    """The cuekit modules a source file imports (absolute names)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            found |= {name} | {f"{name}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {n for n in found if n == "cuekit" or n.startswith("cuekit.")}


def test_data_flows_one_way():
    """Siblings never import each other (video and audio meet only in dynamics), the stages
    never import the session, the app-side modules or the CLI, and nothing imports the CLI."""
    stages = ("cuekit.video", "cuekit.audio", "cuekit.dynamics", "cuekit.layout",
              "cuekit.media", "cuekit.transcript")
    above = ("cuekit.session", "cuekit.cli", "cuekit.batch", "cuekit.store", "cuekit.jobs",
             "cuekit.charts", "cuekit.export", "cuekit.auth", "cuekit.tables", "cuekit.web")
    bad = []
    for path in PACKAGE.rglob("*.py"):
        mod = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for imp in _imports(path):
            if mod.startswith("cuekit.video") and imp.startswith("cuekit.audio") or \
                    mod.startswith("cuekit.audio") and imp.startswith("cuekit.video"):
                bad.append(f"{mod} imports {imp} (siblings)")
            if mod.startswith(stages) and imp.startswith(above):
                bad.append(f"{mod} imports {imp} (a stage importing what runs it)")
            if imp.startswith("cuekit.cli") and mod != "cuekit.__main__":
                bad.append(f"{mod} imports the CLI")
    assert not bad, bad


STORE_PARTS = {  # a part of cuekit.store: the parts it may import (the package composes them)
    "access": set(), "db": set(), "intake": set(),
    "base": {"access", "db", "intake"},
    "sessions": {"access", "base", "db", "intake"}, "queue": {"base", "db"},
    "accounts": {"access", "base", "db"}, "links": {"base", "db"},
}


def test_the_store_parts_import_downward_only():
    """Rules, the database and intake stand alone; the parts that compose them into the Library
    do not import one another; the rules are pure (no database, no files)."""
    found = {p.stem for p in (PACKAGE / "store").glob("*.py")} - {"__init__"}
    assert found == set(STORE_PARTS)
    bad = []
    for part, allowed in STORE_PARTS.items():
        path = PACKAGE / "store" / f"{part}.py"
        used = {i.split(".")[2] for i in _imports(path) if i.startswith("cuekit.store.")}
        bad += [f"store.{part} imports store.{u}" for u in used - allowed - {part}]
    assert not bad, bad
    access_source = (PACKAGE / "store" / "access.py").read_text(encoding="utf-8")
    assert "sqlite3" not in access_source and "open(" not in access_source


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "cuekit", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.startswith("cuekit ")
