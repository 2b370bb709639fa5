"""Import boundaries: a package's names reach other packages only through its ``__init__``, and private
scikit-learn names only through ``avsc_sk/_sklearn_private.py``. Parsed with ``ast``, lazy imports included."""

import ast
from pathlib import Path

import avsc_sk

ROOT = Path(avsc_sk.__file__).parent
SKLEARN_PRIVATE = ROOT / "_sklearn_private.py"


def _modules():
    return sorted(ROOT.rglob("*.py"))


def _dotted(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imports(path):
    """``(line, module parts, imported name or None)`` for every import of ``path``, relative ones resolved."""
    here = _dotted(path)
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split("."), None
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = base + (node.module.split(".") if node.module else [])
            for alias in node.names:
                yield node.lineno, module, alias.name


def _private_reach(importer, module, name):
    """Why ``importer`` may not import ``name`` from ``module`` (another avsc_sk package's private part), or None."""
    if module[:1] != ["avsc_sk"]:
        return None
    own = importer[1] if len(importer) > 2 or (len(importer) == 2 and not importer[1].startswith("_")) else None
    target = module + ([name] if name else [])
    if len(target) < 3 or target[1].startswith("_") or target[1] == own:
        return None  # the root package's private modules are its subpackages' to use
    private = [p for p in target[2:] if p.startswith("_") and p != "__version__"]
    return f"{'.'.join(module)} import {name}" if private else None


def test_no_module_imports_another_packages_private_module_or_name():
    bad = []
    for path in _modules():
        importer = _dotted(path)
        for line, module, name in _imports(path):
            if (why := _private_reach(importer, module, name)) is not None:
                bad.append(f"{path.relative_to(ROOT.parent)}:{line}: {why}")
    assert bad == []


def test_the_boundary_check_catches_what_it_should():
    # The checker itself: a cross-package private import is caught, one inside a package or of root's privates is not.
    assert _private_reach(["avsc_sk", "cli", "_tune"], ["avsc_sk", "tuning", "_run"], "x")
    assert _private_reach(["avsc_sk", "cli", "_tune"], ["avsc_sk", "tuning"], "_plain")
    assert _private_reach(["avsc_sk", "_demo"], ["avsc_sk", "runs"], "_scores")
    assert _private_reach(["avsc_sk", "runs", "_fit"], ["avsc_sk", "runs", "_build"], "build_estimator") is None
    assert _private_reach(["avsc_sk", "runs", "_fit"], ["avsc_sk", "_config"], "_check") is None
    assert _private_reach(["avsc_sk", "cli", "_fit"], ["avsc_sk", "runs"], "fit_run") is None
    path = ROOT / "cli" / "_tune.py"
    assert (["avsc_sk", "runs"], "build_estimator") in [(m, n) for _, m, n in _imports(path)]


def _sklearn_private(module, name):
    if module[:1] != ["sklearn"]:
        return False
    return any(p.startswith("_") for p in module[1:]) or (name or "").startswith("_")


def test_private_scikit_learn_names_are_imported_in_one_place():
    bad = []
    for path in _modules():
        if path == SKLEARN_PRIVATE:
            continue
        for line, module, name in _imports(path):
            if _sklearn_private(module, name):
                bad.append(f"{path.relative_to(ROOT.parent)}:{line}: {'.'.join(module)} import {name}")
    assert bad == []
    listed = [(m, n) for _, m, n in _imports(SKLEARN_PRIVATE) if _sklearn_private(m, n)]
    assert listed  # and each is documented there, with its reason
    doc = ast.get_docstring(ast.parse(SKLEARN_PRIVATE.read_text(encoding="utf-8")))
    for module, name in listed:
        assert name.lstrip("_") in doc, name
