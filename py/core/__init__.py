"""Pure logic: the rules of the app as plain Python.

Nothing here imports `js`, `pyodide` or `pyscript`, anything from `web`, or the modules at the
top of py/ (they re-export from here): time comes in as an argument, work goes out as return
values, and every module runs under CPython in tests/unit. tests/test_architecture.py holds
the folder to that.
"""
