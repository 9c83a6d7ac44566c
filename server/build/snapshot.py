"""Builds the Pyodide snapshot of the current py/ (scripts/make_snapshot.mjs) for `serve.py export`.

What the snapshot holds, and its name, is server/site/snapshot_plan.py's rule; this only runs
the Node script that makes the file, a no-op when one of the current name exists.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def rebuild(site_root: Path) -> str | None:
    """Build the snapshot of the current py/ when it is missing (scripts/make_snapshot.mjs,
    a no-op when it exists). Returns None on success, else why not (the site still works:
    the page boots without a snapshot)."""
    try:
        proc = subprocess.run(["node", str(site_root / "scripts" / "make_snapshot.mjs")], cwd=site_root,
                              capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if proc.returncode == 0 else (proc.stderr or proc.stdout).strip()[-500:]
