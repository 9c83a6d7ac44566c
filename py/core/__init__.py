"""Pure logic: the rules of the app as plain Python.

Nothing here imports `js`, `pyodide` or `pyscript`, or anything from `web`: time comes in as
an argument, work goes out as return values, and every module runs under CPython in
tests/unit. tests/test_architecture.py holds the folder to that.
"""
