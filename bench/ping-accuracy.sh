#!/usr/bin/env bash
# RTT accuracy of `netdiag ping` against iputils ping (goal: medians within
# 20 µs). Both ping the same host over the same namespace path (a veth pair
# between two namespaces, the host's kernel answering), their probes
# alternating: ROUNDS rounds of COUNT probes each, INTERVAL apart. Prints each
# round's medians and the medians over all probes, and their difference. Run
# as root.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5} COUNT=${COUNT:-200} INTERVAL=${INTERVAL:-0.01}

. bench/lib.sh
bench_init "$0" ip ping python3
bench_netns client server
bench_link "$client" 198.18.0.2/24 "$server" 198.18.0.10/24
ip netns exec "$client" ping -c 1 -W 2 198.18.0.10 >/dev/null   # resolve ARP first

in_client() { ip netns exec "$client" "$@"; }
# Each round runs both at once, netdiag's probes half an interval after
# iputils': the probes alternate, so both see the same load on the machine
# (the runs do not see each other's replies). Rounds alternate who starts.
half=$(python3 -c "print($INTERVAL / 2)")
iputils() { in_client ping -n -c "$COUNT" -i "$INTERVAL" 198.18.0.10 | sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' >"$work/iputils.$1"; }
netdiag() { in_client "$work/netdiag" ping --json -c "$COUNT" -i "$INTERVAL" 198.18.0.10 |
	sed -n 's/^{"type":"reply".*"rtt_ms":\([0-9.e-]*\),.*/\1/p' >"$work/netdiag.$1"; }
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then first=iputils second=netdiag; else first=netdiag second=iputils; fi
	$first "$r" &
	sleep "$half"
	$second "$r" &
	wait
done

python3 - "$work" "$ROUNDS" "$COUNT" <<'PY'
import statistics, sys
work, rounds, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(tool, r):
    return [float(x) * 1000 for x in open(f"{work}/{tool}.{r}").read().split()]  # µs
alls = {"iputils": [], "netdiag": []}
for r in range(1, rounds + 1):
    med = {}
    for tool in alls:
        v = load(tool, r)
        if len(v) != count:
            sys.exit(f"round {r}: {tool} reported {len(v)} of {count} replies")
        alls[tool] += v
        med[tool] = statistics.median(v)
    print(f"round {r}: iputils median {med['iputils']:7.1f} µs   netdiag median {med['netdiag']:7.1f} µs   difference {med['netdiag'] - med['iputils']:+6.1f} µs")
mi, mn = statistics.median(alls["iputils"]), statistics.median(alls["netdiag"])
print(f"all {rounds * count} probes each: iputils median {mi:.1f} µs, netdiag median {mn:.1f} µs, difference {mn - mi:+.1f} µs (goal: within ±20 µs)")
PY
