"""What the app does with untrusted input, checked on its source (AST, not grep: `model.eval()` is
not `eval(`): nothing is unpickled or executed, every torch.load is weights-only, no HTML is built
from values, and pages/ui never write files (uploads stay in memory)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

APP_DIRS = ("core", "ui", "pages")


def app_files() -> list[Path]:
    files = [ROOT / "streamlit_app.py"]
    for folder in APP_DIRS:
        files += sorted((ROOT / folder).rglob("*.py"))
    return [f for f in files if f.is_file()]


def dotted(node: ast.AST) -> str:
    """`torch.load` for Attribute(Name('torch'), 'load'); '' when not a plain dotted name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def keyword(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def is_true(node) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def is_literal_text(node) -> bool:
    """A string the author wrote (constant or constant concatenation), not one built from values."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return is_literal_text(node.left) and is_literal_text(node.right)
    return False


UNPICKLERS = {"pickle.load", "pickle.loads", "cPickle.load", "dill.load", "dill.loads", "joblib.load",
              "marshal.load", "marshal.loads", "shelve.open", "pd.read_pickle", "pandas.read_pickle",
              "cloudpickle.load", "cloudpickle.loads", "yaml.unsafe_load"}
EXECUTORS = {"eval", "exec", "compile", "os.system", "subprocess.call", "subprocess.run",
             "subprocess.Popen", "subprocess.check_output", "os.popen"}
HTML_SINKS = {"st.html", "components.html", "st.components.v1.html", "streamlit.components.v1.html"}
WRITERS = {"write_bytes", "write_text", "torch.save", "np.save", "np.savez", "numpy.save", "tofile"}


def findings(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = path.relative_to(root)
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        where = f"{rel}:{node.lineno}"
        if name in UNPICKLERS:
            out.append(f"{where}: {name}() unpickles data")
        if name in EXECUTORS:
            out.append(f"{where}: {name}() executes code")
        if name == "__import__" and not (node.args and is_literal_text(node.args[0])):
            out.append(f"{where}: __import__() of a name built at run time")
        if name.endswith("torch.load"):
            if not is_true(keyword(node, "weights_only")):
                out.append(f"{where}: torch.load without weights_only=True")
        if name in ("np.load", "numpy.load") and is_true(keyword(node, "allow_pickle")):
            out.append(f"{where}: np.load(allow_pickle=True)")
        if name == "yaml.load" and keyword(node, "Loader") is not None:
            loader = dotted(keyword(node, "Loader"))
            if not loader.endswith("SafeLoader"):
                out.append(f"{where}: yaml.load with {loader}")
        if is_true(keyword(node, "unsafe_allow_html")):
            body = node.args[0] if node.args else keyword(node, "body")
            if not is_literal_text(body):
                out.append(f"{where}: unsafe_allow_html=True with text built at run time")
        if name in HTML_SINKS and not (node.args and is_literal_text(node.args[0])):
            out.append(f"{where}: {name}() with HTML built at run time")
        if rel.parts[0] in ("pages", "ui") or rel.name == "streamlit_app.py":
            short = name.rsplit(".", 1)[-1]
            if name in WRITERS or short in ("write_bytes", "write_text", "tofile"):
                out.append(f"{where}: {name}() writes a file from a page")
            if name == "open":
                mode = node.args[1] if len(node.args) > 1 else keyword(node, "mode")
                if isinstance(mode, ast.Constant) and any(c in str(mode.value) for c in "wax+"):
                    out.append(f"{where}: open(..., {mode.value!r}) writes a file from a page")
    return out


def test_app_sources_exist():
    names = {p.relative_to(ROOT).as_posix() for p in app_files()}
    assert {"core/checkpoints.py", "core/images.py", "ui/jobs.py", "ui/frame.py"} <= names


@pytest.mark.parametrize("path", app_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_unsafe_calls(path):
    assert findings(path) == []


def test_checker_catches_what_it_should(tmp_path):
    """The checker itself must be able to fail (a test that cannot fail is a defect)."""
    bad = tmp_path / "pages"
    bad.mkdir()
    sample = bad / "bad.py"
    sample.write_text(
        "import pickle, torch, streamlit as st\n"
        "model.eval()\n"                                   # fine: a method, not the builtin
        "x = pickle.loads(data)\n"
        "m = torch.load(path)\n"
        "m = torch.load(path, weights_only=False)\n"
        "ok = torch.load(path, weights_only=True)\n"
        "y = eval(text)\n"
        "st.markdown(f'<b>{name}</b>', unsafe_allow_html=True)\n"
        "st.markdown('<br>', unsafe_allow_html=True)\n"     # fine: literal HTML
        "open('/tmp/upload.png', 'wb').write(data)\n"
    )
    found = findings(sample, root=tmp_path)
    kinds = "\n".join(found)
    assert "pickle.loads" in kinds and "eval() executes" in kinds
    assert kinds.count("torch.load without weights_only=True") == 2
    assert kinds.count("unsafe_allow_html") == 1
    assert "writes a file from a page" in kinds
    assert len(found) == 6, found
