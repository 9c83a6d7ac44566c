"""tests/conftest.py: the servers and tools this suite starts keep their bytecode between
starts, in one temporary folder, never next to the sources."""

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_child_process_writes_its_bytecode_in_the_runs_temporary_folder(tmp_path):
    module = tmp_path / "probe_module_for_pycache.py"
    module.write_text("VALUE = 1\n")
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import probe_module_for_pycache; "
             "print(sys.pycache_prefix); print(sys.flags.dont_write_bytecode)")
    out = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    prefix, dont_write = Path(out[0]), out[1]
    assert dont_write == "0"
    assert prefix.parent == Path(tempfile.gettempdir()) and prefix.name.startswith("coachline-test-pycache-")
    assert list(prefix.rglob("probe_module_for_pycache*.pyc"))  # written there ...
    assert not (tmp_path / "__pycache__").exists()  # ... and not beside the source
    assert not prefix.is_relative_to(ROOT)
