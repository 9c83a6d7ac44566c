"""tests/ports.py: the ports test servers are started on."""

import socket

import ports


def test_worker_slices_are_disjoint_and_below_the_ephemeral_range():
    low = ports.ephemeral_low()
    gw0, gw1 = ports.worker_slice("gw0"), ports.worker_slice("gw1")
    assert len(gw0) > 1000 and len(gw1) > 1000
    assert not set(gw0) & set(gw1)
    for each in (gw0, gw1, ports.worker_slice(None)):
        assert each.start >= ports.LOWEST and each.stop <= low


def test_the_ephemeral_range_is_read_from_the_kernel_setting(tmp_path):
    setting = tmp_path / "range"
    setting.write_text("40000\t60999\n")
    assert ports.ephemeral_low(setting) == 40000
    setting.write_text("garbage")
    assert ports.ephemeral_low(setting) == 32768
    assert ports.ephemeral_low(tmp_path / "missing") == 32768


def test_a_port_is_never_handed_out_twice_in_one_run(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    first = ports.free_port()
    offered = iter([first, first, first + 1 if first + 1 < ports.ephemeral_low() else first - 1])
    monkeypatch.setattr(ports.random, "choice", lambda _range: next(offered))
    second = ports.free_port()
    assert second != first
    assert first < ports.ephemeral_low() and second < ports.ephemeral_low()


def test_a_port_something_listens_on_is_passed_over(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw3")
    mine = ports.worker_slice("gw3")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))  # any port: what matters is that it is held
        held = holder.getsockname()[1]
        holder.listen()
        spare = next(p for p in mine if p not in ports._given and ports._bindable(p))
        offered = iter([held, spare])
        monkeypatch.setattr(ports.random, "choice", lambda _range: next(offered))
        assert ports.free_port() == spare


def test_no_free_port_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(ports, "_bindable", lambda port: False)
    try:
        ports.free_port()
    except RuntimeError as error:
        assert "no free loopback port" in str(error)
    else:
        raise AssertionError("free_port returned a port although none could be bound")


def test_a_kernel_whose_ephemeral_range_starts_low_still_gets_a_port(monkeypatch):
    monkeypatch.setattr(ports, "ephemeral_low", lambda: ports.LOWEST + 10)
    port = ports.free_port()
    assert 0 < port < 65536


def test_a_port_browsers_refuse_is_never_handed_out(monkeypatch):
    """Chromium loads nothing from port 10080 (net::ERR_UNSAFE_PORT): a server there fails
    every browser test that uses it. It is passed over even when free."""
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    assert 10080 in ports.worker_slice("gw0") and 10080 in ports.BROWSER_BLOCKED
    monkeypatch.setattr(ports, "_bindable", lambda port: True)
    spare = next(p for p in ports.worker_slice("gw0") if p not in ports._given and p != 10080)
    offered = iter([10080, 10080, spare])
    monkeypatch.setattr(ports.random, "choice", lambda _range: next(offered))
    assert ports.free_port() == spare
