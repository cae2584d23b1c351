"""How a long-running Swarmdesk process uses CPython's cyclic garbage collector.

Nearly everything the service allocates is freed by reference counting: under the
command benchmark (`bench/http_commands.py`, projector on) the collector found about 700
cyclic objects in 30 s, yet it ran some 4,000 young and 34 full collections. The full
ones walk every live container (cached aggregates, the projector's documents) and took
30-85 ms each on these machines, each one stalling every request in flight: they were
most of the p99. So, once start-up is done:

- what start-up built (modules, models, routes, pools) is moved out of the collected
  generations (`gc.freeze()`), so no collection walks it again;
- the young generation is collected after 10,000 net new containers instead of 700:
  the cheap collections run 15 times less often, and full collections (which also wait
  for 10 middle ones, and for the long-lived objects to have grown by a quarter) become
  rare. Cycles are still collected, just later; the memory they hold meanwhile is small.

Measured with `bench/http_commands.py` (projector on, 30 s, same machine, side by side):
default 34 full collections, loop stalls up to 92 ms, p99 35 ms; with this policy none
after start-up, stalls up to 40 ms (start-up's own), p99 20-26 ms.
"""

from __future__ import annotations

import gc

#: (young, middle, old) collection thresholds; CPython's defaults are (700, 10, 10).
THRESHOLDS = (10_000, 10, 10)


def settle() -> None:
    """Call once start-up is complete: collect, freeze the survivors, raise the threshold."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
