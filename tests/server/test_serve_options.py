"""serve.py's options from the environment (issue 19: "every option can also come from an
environment variable"): COACHLINE_<OPTION>, converted like the option, the command line wins."""

from __future__ import annotations

import importlib.util

import pytest

from server_harness import ROOT


@pytest.fixture
def serve(monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("COACHLINE_"):
            monkeypatch.delenv(name)
    spec = importlib.util.spec_from_file_location("serve_under_test", ROOT / "serve.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse(serve, argv=()):
    return serve.serve_parser().parse_args(list(argv))


def test_options_come_from_coachline_variables_converted_like_the_option(serve, monkeypatch):
    monkeypatch.setenv("COACHLINE_SEND_RATE", "50/5")
    monkeypatch.setenv("COACHLINE_WORKERS", "3")
    monkeypatch.setenv("COACHLINE_REDIS", "redis://127.0.0.1:6390/2")
    monkeypatch.setenv("COACHLINE_DATABASE", "postgresql://coach@db/coachline")
    monkeypatch.setenv("COACHLINE_ALLOW_ORIGIN", "https://a.example, https://b.example")
    monkeypatch.setenv("COACHLINE_NO_INBOX", "yes")
    monkeypatch.setenv("COACHLINE_FAULTS", "0")
    args = parse(serve)
    assert args.send_rate == (50, 5.0)
    assert args.workers == 3
    assert args.redis == "redis://127.0.0.1:6390/2"
    assert args.database == "postgresql://coach@db/coachline"
    assert args.allow_origin == ["https://a.example", "https://b.example"]
    assert args.inbox is False and args.faults is False


def test_the_command_line_wins_over_the_environment(serve, monkeypatch):
    monkeypatch.setenv("COACHLINE_PORT", "9100")
    monkeypatch.setenv("COACHLINE_SEND_RATE", "50/5")
    args = parse(serve, ["--port", "9200", "--send-rate", "7/1"])
    assert args.port == 9200 and args.send_rate == (7, 1.0)


def test_without_variables_the_defaults_stay(serve):
    args = parse(serve)
    assert (args.workers, args.redis, args.database, args.port) == (1, None, None, 8000)


@pytest.mark.parametrize("name, value", [("COACHLINE_PORT", "eighty"), ("COACHLINE_SEND_RATE", "fast"),
                                         ("COACHLINE_FAULTS", "maybe")])
def test_a_bad_value_is_a_usage_error_naming_the_variable(serve, monkeypatch, capsys, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        parse(serve)
    assert exited.value.code == 2
    assert name in capsys.readouterr().err


def test_several_workers_without_redis_is_one_line_and_exit_2(serve, capsys):
    assert serve.main(["--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--redis" in err


def test_keeping_password_hashes_is_refused_without_the_fault_controls(serve, capsys, monkeypatch):
    # The check runs after parsing, so the environment's form of the switch is refused alike.
    for argv in (["--keep-password-hashes"], []):
        if not argv:
            monkeypatch.setenv("COACHLINE_KEEP_PASSWORD_HASHES", "1")
        with pytest.raises(SystemExit) as exited:
            serve.main(argv)
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert "--keep-password-hashes" in err and "--faults" in err
