#!/usr/bin/env python3
"""How relsite scales from one catalog size to another: ratios of two `bench/catalog.py --json`
results, the larger catalog over the smaller. These are the scale targets of the catalog
benchmark: time linear in builds (1,000 builds within 2.2x of 500, cold and no-change) and peak
memory that does not grow with the catalog (5,000 builds within 1.5x of 500).

    python3 bench/catalog.py --json small.json
    python3 bench/catalog.py --apps 40 --json large.json
    python3 bench/scale.py small.json large.json

Both files should come from the same session: the machine is shared and noisy.
"""

import json
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    small, large = (json.load(open(path)) for path in sys.argv[1:])
    builds = large["shape"]["ipas"] / small["shape"]["ipas"]
    print(f"builds: {small['shape']['ipas']} -> {large['shape']['ipas']} ({builds:.2f}x)")
    print(f"{'measurement':<12} {'time ratio':>11} {'peak ratio':>11}")
    for key in ["cold", "no-change", "add-one", "notes-edit"]:
        if key not in small["median_seconds"] or key not in large["median_seconds"]:
            continue
        time_ratio = large["median_seconds"][key] / small["median_seconds"][key]
        peak_ratio = large["peak_mib"][key] / small["peak_mib"][key]
        print(f"{key:<12} {time_ratio:>11.2f} {peak_ratio:>11.2f}")


if __name__ == "__main__":
    main()
