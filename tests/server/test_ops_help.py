"""`serve.py --help` explains every option, and says each one can come from COACHLINE_*."""

import argparse
import subprocess
import sys

import pytest

from server_harness import ROOT

sys.path.insert(0, str(ROOT))
import serve  # noqa: E402

INTERNAL = {"--worker-fd", "--ready-fd"}  # set by the supervisor for its workers, never by hand


def options():
    return [action for action in serve.serve_parser()._actions if action.dest != "help"]


@pytest.mark.parametrize("action", options(), ids=lambda action: action.option_strings[0])
def test_every_option_has_help(action):
    long_name = next(o for o in action.option_strings if o.startswith("--"))
    if long_name in INTERNAL:
        assert action.help == argparse.SUPPRESS
        return
    assert action.help and action.help != argparse.SUPPRESS, f"{long_name} has no help text"
    assert len(action.help) > 15, f"{long_name}: {action.help!r} explains nothing"


def test_help_names_the_environment_variables_and_the_operations():
    done = subprocess.run([sys.executable, str(ROOT / "serve.py"), "--help"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "COACHLINE_SEND_RATE=50/5" in text
    assert "command line wins over the environment" in text
    assert "SIGTERM" in text and "1012" in text and "/readyz" in text
    for action in options():
        long_name = next(o for o in action.option_strings if o.startswith("--"))
        assert (long_name in text) != (long_name in INTERNAL), long_name


def test_log_format_comes_from_the_environment_too(monkeypatch):
    assert serve.serve_parser().parse_args([]).log_format == "text"
    monkeypatch.setenv("COACHLINE_LOG_FORMAT", "json")
    assert serve.serve_parser().parse_args([]).log_format == "json"
    assert serve.serve_parser().parse_args(["--log-format", "text"]).log_format == "text"
