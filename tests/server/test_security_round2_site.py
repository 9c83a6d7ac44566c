"""Issue 23 item 7: an unknown path costs no more than a known one (no walk of the site per 404)."""


def test_unknown_paths_never_walk_the_site(make_app, tmp_path, monkeypatch):
    import os
    import pathlib

    from server_harness import write_fake_site
    from starlette.testclient import TestClient

    root = write_fake_site(tmp_path / "site")
    calls = []
    for owner, name in [(os, "scandir"), (os, "walk"), (os, "listdir"), (pathlib.Path, "iterdir"),
                        (pathlib.Path, "glob"), (pathlib.Path, "rglob")]:
        real = getattr(owner, name)
        monkeypatch.setattr(owner, name, lambda *a, _real=real, _name=name, **kw: calls.append(_name) or _real(*a, **kw))
    with TestClient(make_app(site_root=root)) as client:
        for path in ("/py/nothing.py", "/no/such/page", "/index.html"):  # warm-up
            client.get(path)
        calls.clear()
        unknown = ["/no/such/page", "/wp-login.php", "/py/nothing.py", "/py/../serve.py", "/static/x.css",
                   "/vendor/pyodide/0.0.0/pyodide.mjs", "/vendor/pyodide/nothing/x.js", "/snapshot/x.gz",
                   "/py/app.py/x", "/.git/config"]
        for i in range(50):
            assert client.get(unknown[i % len(unknown)]).status_code == 404
        assert calls == []
        # a file added since the listing is still found (one relisting), then a 404 again costs nothing
        (root / "py" / "added.py").write_text("ADDED = 1\n")
        assert client.get("/py/added.py").text == "ADDED = 1\n"
        (root / "py" / "added.py").unlink()
        assert client.get("/py/added.py").status_code == 404  # a listed file went: relisted once
        calls.clear()
        for _ in range(20):
            assert client.get("/py/added.py").status_code == 404
        assert calls == []
