"""Where the data lives: the database and the data directory.

`db` opens SQLite or PostgreSQL behind one small interface and migrates the schema, `store`
is the queries (rows in, rows out, no HTTP and no rules), `storage` names the data directory
(the SQLite file and the photos), `backup` copies it, `seed` writes the demo data. Part of
the running server; knows nothing of sockets (imports nothing of server/realtime).
"""
