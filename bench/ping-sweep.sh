#!/usr/bin/env bash
# A sweep of 1,000 lab addresses, one probe each: `netdiag ping -c 1` against
# `fping -c 1` at the same rate (one request per millisecond: fping gets
# -i 1; netdiag gets --rate 1000, its default, and an interval of TARGETS
# milliseconds, since it spreads a round of targets over its interval, at
# most 10 ms apart — 1 s, its default, for 1,000 targets). Goal:
# netdiag's wall time no longer than fping's, and its peak memory under
# 30 MB. The addresses are answered by one namespace that owns the whole
# block (a "local" route), across a veth pair. ROUNDS alternating runs per
# tool; prints every run and the medians. Run as root; needs GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5} TARGETS=${TARGETS:-1000}

[ -x /usr/bin/time ] || { echo "$0: needs GNU time (Debian package time)" >&2; exit 1; }
. bench/lib.sh
bench_init "$0" ip fping python3
bench_netns client server
bench_link "$client" 198.18.0.2/24 "$server" 198.18.0.10/24
# The server answers for all of 198.18.128.0/20 (4,094 hosts at most).
ip -n "$server" route add local 198.18.128.0/20 dev lo
ip -n "$client" route add 198.18.128.0/20 via 198.18.0.10
ip netns exec "$server" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000
ip netns exec "$client" ping -c 1 -W 2 198.18.128.1 >/dev/null

python3 -c '
import ipaddress, sys
n = int(sys.argv[1]); a = ipaddress.ip_address("198.18.128.1")
print("\n".join(str(a + i) for i in range(n)))' "$TARGETS" >"$work/targets"

in_client() { ip netns exec "$client" "$@"; }
measure() { # tool round: one run, "wall_s peak_kb" into $work/<tool>.<round>
	local tool=$1 r=$2 out=$work/$1.$2.out
	case $tool in
	fping) /usr/bin/time -o "$work/$tool.$r" -f "%e %M" \
		ip netns exec "$client" fping -c 1 -q -i 1 -f "$work/targets" 2>"$out" || true
		alive=$(grep -c ' 1/1/0%' "$out" || true) ;;
	netdiag) /usr/bin/time -o "$work/$tool.$r" -f "%e %M" \
		ip netns exec "$client" "$work/netdiag" ping -c 1 -q --rate 1000 -i "${TARGETS}ms" $(cat "$work/targets") >"$out" || true
		alive=$(grep -c '^1 packets transmitted, 1 received' "$out" || true) ;;
	esac
	[ "$alive" -eq "$TARGETS" ] || { echo "$tool round $r: $alive of $TARGETS answered" >&2; exit 1; }
}
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then order="fping netdiag"; else order="netdiag fping"; fi
	for tool in $order; do measure "$tool" "$r"; done
	printf 'round %d: fping %s s %s kB   netdiag %s s %s kB\n' "$r" $(cat "$work/fping.$r") $(cat "$work/netdiag.$r")
done

python3 - "$work" "$ROUNDS" "$TARGETS" <<'PY'
import statistics, sys
work, rounds, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
res = {}
for tool in ("fping", "netdiag"):
    runs = [open(f"{work}/{tool}.{r}").read().split() for r in range(1, rounds + 1)]
    res[tool] = (statistics.median(float(w) for w, _ in runs), max(int(m) for _, m in runs) / 1024)
(fw, fm), (nw, nm) = res["fping"], res["netdiag"]
print(f"{n} targets, 1 probe each, 1 ms apart: fping median {fw:.2f} s (peak {fm:.1f} MB), "
      f"netdiag median {nw:.2f} s (peak {nm:.1f} MB); netdiag/fping wall time {nw / fw:.2f}")
PY
