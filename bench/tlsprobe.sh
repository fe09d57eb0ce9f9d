#!/usr/bin/env bash
# tlsprobe against the peer tools, on an OpenSSL s_server in a lab namespace:
#   1. a full TLS 1.2 handshake with certificate verification, whole
#      process: `netdiag tlsprobe --quick` against `openssl s_client
#      -tls1_2`, alternating, median of RUNS each (goal: netdiag <= openssl);
#   2. version and cipher suite enumeration: `netdiag tlsprobe --enum`
#      against `sslscan` limited to its cipher scan, which must find the
#      same accepted suites per version (goal: netdiag's wall time <=
#      sslscan's).
#
# Run as root. It builds two namespaces joined by a veth pair (client
# 198.18.0.2, server 198.18.0.10) and removes them on exit.
#
# Environment: RUNS (default 20) handshakes of each tool; ENUM_RUNS
# (default 5) enumerations of each; SERVER_ARGS adds s_server options (for
# example "-cipher ALL:@SECLEVEL=0" to widen the suites).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-20}
enum_runs=${ENUM_RUNS:-5}
. bench/lib.sh
bench_init bench/tlsprobe.sh ip openssl sslscan python3
bench_netns C S
bench_link "$C" 198.18.0.2/24 "$S" 198.18.0.10/24

# A root and an RSA 2048 server certificate for server.test.
cd "$work"
openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -days 30 \
	-subj "/CN=bench root" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=server.test" 2>/dev/null
printf 'subjectAltName=DNS:server.test\nextendedKeyUsage=serverAuth\n' >srv.ext
openssl x509 -req -in srv.csr -CA root.pem -CAkey root.key -CAcreateserial -out srv.pem -days 30 \
	-extfile srv.ext 2>/dev/null
cd - >/dev/null

# shellcheck disable=SC2086
ip netns exec "$S" openssl s_server -accept 443 -quiet -cert "$work/srv.pem" -key "$work/srv.key" \
	${SERVER_ARGS:-} </dev/null >/dev/null 2>&1 &
for _ in $(seq 100); do
	ip netns exec "$S" ss -Hltn "sport = :443" | grep -q . && break
	sleep 0.01
done

nd=("$work/netdiag" tlsprobe --quick -q --ca "$work/root.pem" --sni server.test 198.18.0.10:443)
os=(openssl s_client -connect 198.18.0.10:443 -servername server.test -CAfile "$work/root.pem"
	-tls1_2 -verify_return_error)
ip netns exec "$C" "${nd[@]}" >/dev/null || { echo "bench/tlsprobe.sh: netdiag's handshake failed" >&2; exit 1; }
ip netns exec "$C" "${os[@]}" </dev/null >/dev/null 2>&1 || { echo "bench/tlsprobe.sh: s_client failed" >&2; exit 1; }

# Alternating whole-process runs inside the client's namespace, wall time
# in microseconds.
time_runs() { # n outfile-a outfile-b count-a cmd-a... cmd-b...
	ip netns exec "$C" bash -s "$@" <<-'EOF'
	n=$1 a=$2 b=$3 na=$4
	shift 4
	ca=("${@:1:na}") cb=("${@:na+1}")
	: >"$a"; : >"$b"
	for _ in $(seq "$n"); do
		t0=$(date +%s%N); "${ca[@]}" </dev/null >/dev/null 2>&1 || true; t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 )) >>"$a"
		t0=$(date +%s%N); "${cb[@]}" </dev/null >/dev/null 2>&1 || true; t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 )) >>"$b"
	done
	EOF
}

report() { # label-a file-a label-b file-b runs
	python3 - "$@" <<-'EOF'
	import statistics, sys
	la, fa, lb, fb, n = sys.argv[1:6]
	a = [int(x) / 1000 for x in open(fa)]
	b = [int(x) / 1000 for x in open(fb)]
	ma, mb = statistics.median(a), statistics.median(b)
	print(f"{la}: median {ma:.2f} ms (min {min(a):.2f}, max {max(a):.2f})")
	print(f"{lb}: median {mb:.2f} ms (min {min(b):.2f}, max {max(b):.2f})")
	print(f"ratio: {ma / mb:.2f} over {n} alternating runs each")
	EOF
}

echo "== full TLS 1.2 handshake with verification, whole process"
time_runs "$runs" "$work/nd.ms" "$work/os.ms" "${#nd[@]}" "${nd[@]}" "${os[@]}"
report "netdiag tlsprobe --quick" "$work/nd.ms" "openssl s_client -tls1_2" "$work/os.ms" "$runs"

# Enumeration: the same accepted suites first.
ne=("$work/netdiag" tlsprobe --enum --quick --json --ca "$work/root.pem" --sni server.test 198.18.0.10:443)
ss=(sslscan --no-colour --no-check-certificate --no-compression --no-fallback --no-groups
	--no-heartbleed --no-renegotiation --no-cipher-details --sni-name=server.test)
nd_suites=$(ip netns exec "$C" "${ne[@]}" | python3 -c '
import json, sys
r = json.loads(sys.stdin.readline())
for s in sorted(r["enum"]["cipher_suites"], key=lambda s: (s["version"], s["value"])):
    print(s["version"].replace(" ", ""), s["value"].lower())
')
ss_suites=$(ip netns exec "$C" "${ss[@]}" --xml=- 198.18.0.10:443 2>/dev/null | python3 -c '
import sys, xml.etree.ElementTree as ET
names = {"TLSv1.0": "TLS1.0", "TLSv1.1": "TLS1.1", "TLSv1.2": "TLS1.2", "TLSv1.3": "TLS1.3", "SSLv3": "SSL3.0"}
out = set()
for c in ET.parse(sys.stdin).getroot().iter("cipher"):
    if c.get("status") in ("accepted", "preferred"):
        out.add((names.get(c.get("sslversion"), c.get("sslversion")), c.get("id").lower()))
for v, i in sorted(out):
    print(v, "0x%04x" % int(i, 16))
')
echo
echo "== enumeration: accepted suites"
echo "netdiag: $(echo "$nd_suites" | wc -l) suites; sslscan: $(echo "$ss_suites" | wc -l) suites"
if [ "$nd_suites" != "$ss_suites" ]; then
	echo "bench/tlsprobe.sh: the accepted suites differ:" >&2
	diff <(echo "$nd_suites") <(echo "$ss_suites") >&2 || true
	exit 1
fi
echo "same accepted suites per version"
time_runs "$enum_runs" "$work/ne.ms" "$work/ss.ms" "${#ne[@]}" "${ne[@]}" "${ss[@]}" 198.18.0.10:443
report "netdiag tlsprobe --enum" "$work/ne.ms" "sslscan (ciphers only)" "$work/ss.ms" "$enum_runs"
