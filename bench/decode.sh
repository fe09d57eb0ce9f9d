#!/usr/bin/env bash
# netdiag decode against tcpdump and tshark on one capture of PACKETS
# packets (default 300,000) made by bench/mkcapture from the lab captures
# in testdata/decode: --summary against `tcpdump -nr` (goal: at least as
# fast), the tree against `tshark -V` (goal: 3x faster), --json against
# `tshark -T json` (goal: 10x faster). Each pair runs ROUNDS times
# (default 5), alternating, output to /dev/null; the table gives the
# medians of wall time and of peak resident memory.
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${PACKETS:-300000}
rounds=${ROUNDS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bin=$work/netdiag
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin" ./cmd/netdiag
capture=$work/decode.pcap
go run ./bench/mkcapture -n "$packets" -o "$capture" \
	testdata/decode/{icmp,tcp,bulk-mss,ipv6,tls-openssl,tls-gnutls}.pcap testdata/decode/dns.pcapng
printf 'capture: %d packets, %d MB\n\n' "$packets" $(( $(stat -c %s "$capture") / 1000000 ))

python3 - "$rounds" "$bin" "$capture" <<'PY'
import os, statistics, subprocess, sys, time

rounds, bin, cap = int(sys.argv[1]), sys.argv[2], sys.argv[3]
pairs = [
    ("one line per packet", [bin, "decode", "--summary", cap], ["tcpdump", "-nr", cap], "tcpdump -nr", 1),
    ("layered tree", [bin, "decode", cap], ["tshark", "-r", cap, "-V"], "tshark -V", 3),
    ("JSON", [bin, "decode", "--json", cap], ["tshark", "-r", cap, "-T", "json"], "tshark -T json", 10),
]

def run(cmd):
    devnull = os.open(os.devnull, os.O_WRONLY)
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=devnull, stderr=devnull)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - start
    os.close(devnull)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("%s failed" % " ".join(cmd))
    return elapsed, usage.ru_maxrss / 1024.0

print("| view | netdiag | peer | peer time | speed-up (goal) | netdiag peak RSS | peer peak RSS |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for name, ours, peer, peername, goal in pairs:
    t_ours, t_peer, m_ours, m_peer = [], [], [], []
    for _ in range(rounds):
        t, m = run(ours); t_ours.append(t); m_ours.append(m)
        t, m = run(peer); t_peer.append(t); m_peer.append(m)
    a, b = statistics.median(t_ours), statistics.median(t_peer)
    print("| %s | %.3f s | %s | %.3f s | %.1fx (%dx) | %.1f MiB | %.1f MiB |" % (
        name, a, peername, b, b / a, goal, statistics.median(m_ours), statistics.median(m_peer)))
    sys.stdout.flush()
PY
