"""Fan-out benchmark: one write, thousands of live sockets, Tandem against a bare floor.

Run it with `.venv/bin/python -m bench.fanout.run`; see run.py.
"""
