"""Packaging (issue 20 item 3): pyproject.toml declares what the server needs; requirements/*.txt
lock it with hashes; the server runs with the smallest set and says in one line when an option
needs the scale-out drivers it does not have."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from server_harness import ROOT

LOCKS = {name: ROOT / "requirements" / f"{name}.txt" for name in ("run", "scale", "test")}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# The project's own modules (server/ files also run as scripts import each other by name).
OWN = {"server", "serve"} | {path.stem for path in (ROOT / "server").rglob("*.py")}
# Only for --redis / a postgresql:// database: imported lazily, locked in scale.txt.
SCALE_DRIVERS = {"redis", "psycopg", "psycopg_pool"}
# Import name -> distribution name, where they differ.
DISTRIBUTION = {"jwt": "pyjwt", "multipart": "python-multipart", "python_multipart": "python-multipart",
                "PIL": "pillow", "psycopg_pool": "psycopg-pool"}


def locked(path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of one lock file (pip-compile's format: `name==version \\`
    followed by `--hash=sha256:...` lines)."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        pin = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s\\]+)", line)
        if pin:
            current = canonicalize_name(pin.group(1))
            pins[current] = (pin.group(2), [])
        elif current and (digest := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            pins[current][1].append(digest.group(1))
        elif line.strip() and not line.lstrip().startswith(("#", "--hash")):
            raise AssertionError(f"{path.name}: a line that is not a pin: {line!r}")
    return pins


def third_party_imports() -> dict[str, bool]:
    """Top-level module name -> imported at module level (True) or only inside a function
    (False), over serve.py and server/."""
    found: dict[str, bool] = {}
    for source in [ROOT / "serve.py", *sorted((ROOT / "server").rglob("*.py"))]:
        tree = ast.parse(source.read_text())
        top_level = {id(node) for node in tree.body}
        guarded = {id(inner) for node in tree.body if isinstance(node, (ast.If, ast.Try))
                   for inner in ast.walk(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                if root in sys.stdlib_module_names or root in OWN or root == "__future__":
                    continue
                eager = id(node) in top_level and id(node) not in guarded
                found[root] = found.get(root, False) or eager
    return found


def test_every_lock_pins_every_package_with_a_hash():
    for name, path in LOCKS.items():
        pins = locked(path)
        assert pins, name
        for package, (version, hashes) in pins.items():
            assert hashes, f"{name}.txt: {package}=={version} has no hash"


def test_the_locks_satisfy_pyproject_and_nest():
    run, scale, test = (locked(LOCKS[n]) for n in ("run", "scale", "test"))
    declared = {"run": PYPROJECT["project"]["dependencies"],
                "scale": PYPROJECT["project"]["optional-dependencies"]["scale"],
                "test": PYPROJECT["project"]["optional-dependencies"]["test"]}
    for set_name, lock in (("run", run), ("scale", scale), ("test", test)):
        wanted = declared["run"] + (declared["scale"] if set_name != "run" else []) + (
            declared["test"] if set_name == "test" else [])
        for text in wanted:
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            assert name in lock, f"{set_name}.txt lacks {name} (pyproject.toml: {text})"
            assert requirement.specifier.contains(lock[name][0], prereleases=True), (
                f"{set_name}.txt pins {name}=={lock[name][0]}, outside {text}")
    # One version of a package in every set that holds it: ./test.sh after ./run.sh changes nothing.
    for smaller, larger in ((run, scale), (scale, test)):
        for package, (version, _) in smaller.items():
            assert larger.get(package, (None,))[0] == version, package


def test_the_server_imports_only_what_the_run_set_locks():
    run = locked(LOCKS["run"])
    for module, eager in third_party_imports().items():
        distribution = canonicalize_name(DISTRIBUTION.get(module, module))
        if module in SCALE_DRIVERS:
            assert not eager, f"{module} is imported at module level: a server without the scale extra fails"
            assert distribution in locked(LOCKS["scale"]), module
        else:
            assert distribution in run, f"server/ imports {module}, which requirements/run.txt does not lock"


def without_scale_drivers(code: str, *args: str) -> subprocess.CompletedProcess:
    """Run `code` in a Python where importing redis/psycopg fails, as in a venv with run.txt only."""
    blocker = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {sorted(SCALE_DRIVERS)!r}: raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import importlib.util\n"
        "_find = importlib.util.find_spec\n"
        f"importlib.util.find_spec = lambda n, *a: None if n.split('.')[0] in {sorted(SCALE_DRIVERS)!r} else _find(n, *a)\n")
    return subprocess.run([sys.executable, "-c", blocker + code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_the_server_starts_without_the_scale_drivers():
    done = without_scale_drivers("import sys; sys.path.insert(0, '.'); import serve, server.app, server.realtime.fanout, "
                                 "server.shared_limits, server.data.db; print('imported')")
    assert done.returncode == 0, done.stderr
    assert "imported" in done.stdout


@pytest.mark.parametrize("option, driver", [(["--redis", "redis://127.0.0.1:1/0"], "redis"),
                                            (["--database", "postgresql://coach@127.0.0.1:1/x"], "psycopg")])
def test_an_option_that_needs_a_missing_driver_says_so_in_one_line(option, driver, tmp_path):
    code = ("import runpy, sys; sys.argv = ['serve.py'] + sys.argv[1:]; "
            "runpy.run_path('serve.py', run_name='__main__')")
    done = without_scale_drivers(code, *option, "--port", "1")
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and driver in lines[0] and "requirements/scale.txt" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
