#!/usr/bin/env bash
# SYN scan of ports 1-1024 on a lab host with a handful of listeners:
# `netdiag tcpprobe --syn -p 1-1024` against `nmap -n -sS -Pn -p1-1024`.
# Both must find the same open ports (and every other port closed); the
# figure is the ratio of the median wall times over alternating runs
# (goal: netdiag <= nmap).
#
# Run as root. It builds its own namespaces (client - router - host, on
# 198.18.0.0/24 and 198.18.1.0/24) and removes them on exit.
#
# Environment: RUNS (default 15) runs of each tool; DROP=1 also drops 8
# ports at the router, to time the scan of a range with filtered ports.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-15}
. bench/lib.sh
bench_init bench/tcpprobe-syn.sh ip nft nmap socat
bench_netns C R H
ip link add c0 netns "$C" type veth peer name r0 netns "$R"
ip link add h0 netns "$H" type veth peer name r1 netns "$R"
ip -n "$C" addr add 198.18.0.2/24 dev c0
ip -n "$R" addr add 198.18.0.1/24 dev r0
ip -n "$R" addr add 198.18.1.1/24 dev r1
ip -n "$H" addr add 198.18.1.10/24 dev h0
ip -n "$C" link set c0 up; ip -n "$R" link set r0 up; ip -n "$R" link set r1 up; ip -n "$H" link set h0 up
ip -n "$C" route add default via 198.18.0.1
ip -n "$H" route add default via 198.18.1.1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0

listeners="22 25 80 443 631 993"
for p in $listeners; do
	ip netns exec "$H" socat "TCP4-LISTEN:$p,fork,reuseaddr" SYSTEM:true &
done
if [ "${DROP:-0}" = 1 ]; then
	ip netns exec "$R" nft -f - <<-EOF
	table inet bench { chain fw { type filter hook forward priority 0; tcp dport { 100-103, 900-903 } drop; }; }
	EOF
fi
for p in $listeners; do
	for _ in $(seq 100); do
		ip netns exec "$H" ss -Hltn "sport = :$p" | grep -q . && break
		sleep 0.01
	done
done
ip netns exec "$C" ping -c1 -W1 198.18.1.10 >/dev/null

nd=("$work/netdiag" tcpprobe --syn -p 1-1024 198.18.1.10)
nm=(nmap -n -sS -Pn -p1-1024 198.18.1.10)

# Same result: the open ports, and how many are closed and filtered.
nd_result=$(ip netns exec "$C" "${nd[@]}" --json | python3 -c '
import json, sys
s = {"open": [], "closed": 0, "filtered": 0}
for line in sys.stdin:
    o = json.loads(line)
    if o["type"] != "probe": continue
    if o["state"] == "open": s["open"].append(o["port"])
    elif o["state"] in ("closed", "filtered"): s[o["state"]] += 1
print(sorted(s["open"]), s["closed"], s["filtered"])
' || true)
nm_result=$(ip netns exec "$C" "${nm[@]}" -oG - | python3 -c '
import re, sys
s = {"open": [], "closed": 0, "filtered": 0}
for line in sys.stdin:
    m = re.search(r"Ports: ([^\t]*)", line)
    if m:
        for p in m.group(1).split(", "):
            port, state = p.split("/")[:2]
            if state == "open": s["open"].append(int(port))
            elif state in s: s[state] += 1
    m = re.search(r"Ignored State: (\w+) \((\d+)\)", line)
    if m and m.group(1) in s: s[m.group(1)] += int(m.group(2))
print(sorted(s["open"]), s["closed"], s["filtered"])
')
echo "netdiag: open, closed, filtered = $nd_result"
echo "nmap:    open, closed, filtered = $nm_result"
if [ "$nd_result" != "$nm_result" ]; then
	echo "bench/tcpprobe-syn.sh: the results differ" >&2
	exit 1
fi

# Alternating runs inside the client's namespace, wall time in
# microseconds.
ip netns exec "$C" bash -s "$runs" "$work" "${#nd[@]}" "${nd[@]}" "${nm[@]}" <<'EOF'
runs=$1 work=$2 n=$3
shift 3
nd=("${@:1:n}") nm=("${@:n+1}")
: >"$work/nd.ms"; : >"$work/nm.ms"
for _ in $(seq "$runs"); do
	t0=$(date +%s%N); "${nd[@]}" -q >/dev/null || true; t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000 )) >>"$work/nd.ms"
	t0=$(date +%s%N); "${nm[@]}" >/dev/null; t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000 )) >>"$work/nm.ms"
done
EOF
python3 - "$work/nd.ms" "$work/nm.ms" "$runs" <<'EOF'
import statistics, sys
nd = [int(x) / 1000 for x in open(sys.argv[1])]
nm = [int(x) / 1000 for x in open(sys.argv[2])]
mnd, mnm = statistics.median(nd), statistics.median(nm)
print(f"netdiag tcpprobe --syn: median {mnd:.1f} ms (min {min(nd):.1f}, max {max(nd):.1f})")
print(f"nmap -sS:               median {mnm:.1f} ms (min {min(nm):.1f}, max {max(nm):.1f})")
print(f"ratio netdiag/nmap: {mnd / mnm:.2f} over {sys.argv[3]} alternating runs each")
EOF
