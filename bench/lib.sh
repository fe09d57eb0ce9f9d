# Shared set-up for the benchmark scripts: sourced, not run.
#
#   bench_init NAME TOOL...   check root and tools, make $work, build netdiag
#                             as the release does into $netdiag, and remove
#                             everything on exit (the namespaces made with
#                             bench_netns included, their processes killed)
#   bench_netns VAR...        make one namespace per VAR (nd-b<var>-<random>,
#                             loopback up) and set VAR to its name
#   bench_link NS1 ADDR1 NS2 ADDR2
#                             join two namespaces with a veth pair named
#                             eth0 at both ends, addresses given with prefix
#
# Addresses are only ever from 198.18.0.0/15; nothing leaves the namespaces.

bench_namespaces=()

bench_cleanup() {
	local ns
	for ns in "${bench_namespaces[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$work"
}

bench_init() {
	local name=$1 tool
	shift
	if [ "$(id -u)" -ne 0 ]; then
		echo "$name: run as root: it builds network namespaces and opens raw sockets" >&2
		exit 1
	fi
	for tool in "$@"; do
		command -v "$tool" >/dev/null || { echo "$name: $tool is missing" >&2; exit 1; }
	done
	work=$(mktemp -d)
	bench_suffix=$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
	trap bench_cleanup EXIT
	netdiag=$work/netdiag
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$netdiag" ./cmd/netdiag
}

bench_netns() {
	local var ns
	for var in "$@"; do
		ns=nd-b$(printf '%s' "$var" | tr 'A-Z' 'a-z')-$bench_suffix
		ip netns add "$ns"
		bench_namespaces+=("$ns")
		ip -n "$ns" link set lo up
		printf -v "$var" '%s' "$ns"
	done
}

bench_link() {
	ip link add eth0 netns "$1" type veth peer name eth0 netns "$3"
	ip -n "$1" addr add "$2" dev eth0
	ip -n "$3" addr add "$4" dev eth0
	ip -n "$1" link set eth0 up
	ip -n "$3" link set eth0 up
}
