"""The static site: what it contains and how each file is served, shared by the running server
and by set-up/export (server/build/).

`static_site` lists the site's files (one listing for serving and export) and serves them;
the rules that name the files set-up makes live beside it, because the server reads them
on every listing: `snapshot_plan` (which modules the Pyodide snapshot holds, and the
manifest the loader reads first), `stdlib_trim` (the trimmed stdlib zip), `precompress`
(where the compressed vendor copies are), `runtime_sizes` (the boot's progress totals).
Imports neither the rest of the server nor server/build/ nor server/testing/.
"""
