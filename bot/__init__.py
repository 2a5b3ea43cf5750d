"""Vyraj: wiring (settings, factories, runners, CLI, the local sandbox)."""

import os

# numpy's BLAS starts a thread per core even for the tiny SVDs of cross-tab suppression; on a
# small, busy machine they spin against the event loop (a snapshot took 0.3 s instead of
# 5 ms). Set before numpy is first imported; a value the operator gives wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
