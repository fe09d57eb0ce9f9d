#!/bin/bash
# Recreates the captures in this directory, which pkg/layers' tests read.
# Run as root: bash testdata/layers/capture.sh [NAME...] (NAME: echo, errors,
# ttl, ipopts, mtu, tcp, ext, offload, sll, rawip, vlan; all when none is
# given).
#
# It builds its own network from namespaces whose names end in a random
# suffix, and deletes them on exit (also on failure):
#
#   A (client) a0 ---- r0 R (router) r1 ---- b0 B (server)
#   198.18.0.1/24     198.18.0.2/24  198.18.1.1/24     198.18.1.2/24
#   2001:db8::1/64    2001:db8::2/64 2001:db8:1::1/64  2001:db8:1::2/64
#                                    (MTU 1280 on r1 and b0)
#
# Every capture is taken by tcpdump on A's a0 unless said otherwise.
# Checksum offload is switched off on every interface (ethtool -K DEV tx off)
# so the TCP and UDP checksums that A sends are complete in the capture;
# offload.pcap is the one capture taken with offload on, on purpose.
#
# Files:
#   echo.pcap      ARP, neighbour discovery, ICMP and ICMPv6 echo through R
#   errors.pcap    ICMP errors: port unreachable (UDP to a closed port),
#                  host/net unreachable (unreachable route, no route),
#                  prohibited route, nft "reject with icmp(v6) type
#                  admin-prohibited" for ICMP, UDP and a TCP SYN
#   ttl.pcap       time exceeded for a ping and a TCP SYN sent with TTL 1
#   ipopts.pcap    IPv4 options: ping -R (record route) and ping -T
#                  tsandaddr (timestamps), as filled in by R and B
#   mtu.pcap       fragmentation needed (RFC 1191 MTU) and packet too big:
#                  DF pings larger than R's 1280-byte next hop
#   tcp.pcap       TCP handshake, data and close over IPv4 and IPv6, and a
#                  SYN answered by RST; UDP request and answer
#   ext.pcap       IPv4 fragments and IPv6 Fragment headers (3000-byte
#                  pings), MLDv2 reports with a hop-by-hop header
#   offload.pcap   a TCP exchange captured with tx checksum offload on
#   sll.pcap       a ping and a TCP exchange on the "any" device (LINUX_SLL)
#   sll2.pcap      the same as LINUX_SLL2
#   rawip.pcap     IPv4 and IPv6 pings through a TUN device (LINKTYPE_RAW)
#   vlan.pcap      802.1Q and QinQ (802.1ad + 802.1Q) tagged frames. This
#                  kernel has neither 8021q nor act_vlan, so the tagged frames
#                  are the first ARP request, ICMP echo request/reply and TCP
#                  SYN of echo.pcap and tcp.pcap with tags inserted, sent with
#                  socat on a veth (PF_PACKET) and captured by tcpdump on the
#                  peer.
set -euo pipefail
cd "$(dirname "$0")"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(echo errors ttl ipopts mtu tcp ext offload sll rawip vlan)
for tool in ip nft tcpdump socat ethtool ping; do
	command -v "$tool" >/dev/null || { echo "capture.sh: $tool is missing" >&2; exit 1; }
done

sfx=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
A=nd-cap-a-$sfx R=nd-cap-r-$sfx B=nd-cap-b-$sfx V=nd-cap-v-$sfx
tcpdump_pid=
pids=() # background processes to end on exit
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for ns in $A $R $B $V; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT

inA() { ip netns exec "$A" "$@"; }
inR() { ip netns exec "$R" "$@"; }
inB() { ip netns exec "$B" "$@"; }

for ns in $A $R $B; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	# No duplicate address detection: link-local addresses usable at once.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip -n "$A" link add a0 address 02:00:00:00:00:01 type veth peer name r0 address 02:00:00:00:00:02 netns "$R"
ip -n "$R" link add r1 address 02:00:00:00:01:01 type veth peer name b0 address 02:00:00:00:01:02 netns "$B"
ip -n "$R" link set r1 mtu 1280
ip -n "$B" link set b0 mtu 1280
ip -n "$A" addr add 198.18.0.1/24 dev a0
ip -n "$A" addr add 2001:db8::1/64 dev a0 nodad
ip -n "$R" addr add 198.18.0.2/24 dev r0
ip -n "$R" addr add 2001:db8::2/64 dev r0 nodad
ip -n "$R" addr add 198.18.1.1/24 dev r1
ip -n "$R" addr add 2001:db8:1::1/64 dev r1 nodad
ip -n "$B" addr add 198.18.1.2/24 dev b0
ip -n "$B" addr add 2001:db8:1::2/64 dev b0 nodad
for x in "$A a0" "$R r0" "$R r1" "$B b0"; do
	read -r ns dev <<<"$x"
	ip -n "$ns" link set "$dev" up
	ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null
done
ip -n "$A" route add default via 198.18.0.2
ip -n "$A" -6 route add default via 2001:db8::2
ip -n "$B" route add default via 198.18.1.1
ip -n "$B" -6 route add default via 2001:db8:1::1
inR sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
for ns in $R $B; do
	# No ICMP rate limiting: every probe below gets its error.
	ip netns exec "$ns" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
done

# The faults on R.
ip -n "$R" route add unreachable 198.18.5.0/24
ip -n "$R" -6 route add unreachable 2001:db8:5::/64
ip -n "$R" route add prohibit 198.18.6.0/24
ip -n "$R" -6 route add prohibit 2001:db8:6::/64
inR nft -f - <<'EOF'
table inet ndcap {
	chain forward_reject {
		type filter hook forward priority 0; policy accept;
		ip daddr 198.18.1.3 reject with icmp type admin-prohibited
		ip6 daddr 2001:db8:1::3 reject with icmpv6 type admin-prohibited
	}
}
EOF

# Wait until both families work end to end (IPv6 takes a moment after the
# links come up), then forget the neighbours so captures show ARP and ND.
for _ in $(seq 50); do
	inA ping -c 1 -W 0.2 198.18.1.2 >/dev/null 2>&1 &&
		inA ping -6 -c 1 -W 0.2 2001:db8:1::2 >/dev/null 2>&1 && break
	sleep 0.2
done
for x in "$A a0" "$R r0" "$R r1" "$B b0"; do
	read -r ns dev <<<"$x"
	ip -n "$ns" neigh flush dev "$dev"
done

# start_capture NS DEV FILE [tcpdump args...]: runs tcpdump until stop_capture.
start_capture() {
	local ns=$1 dev=$2 file=$3
	shift 3
	rm -f "$file" "$file.log"
	ip netns exec "$ns" tcpdump -i "$dev" --immediate-mode -U -w "$file" "$@" 2>"$file.log" &
	tcpdump_pid=$!
	pids+=("$!")
	for _ in $(seq 50); do
		grep -q "listening on" "$file.log" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "capture.sh: tcpdump did not start: $(cat "$file.log")" >&2
	exit 1
}
stop_capture() {
	sleep 1
	kill -INT "$tcpdump_pid"
	wait "$tcpdump_pid" || true
	tcpdump_pid=
	rm -f "$1.log"
}

# echo.pcap
cap_echo() {
	start_capture "$A" a0 echo.pcap 'arp or icmp or (icmp6 and (ip6[40] == 128 or ip6[40] == 129 or ip6[40] == 135 or ip6[40] == 136))'
	inA ping -c 2 -i 0.2 -W 1 198.18.1.2 >/dev/null
	inA ping -6 -c 2 -i 0.2 -W 1 2001:db8:1::2 >/dev/null
	stop_capture echo.pcap
}

# errors.pcap
cap_errors() {
	start_capture "$A" a0 errors.pcap 'icmp or udp or tcp or (icmp6 and ip6[40] < 130)'
	inA bash -c 'echo probe > /dev/udp/198.18.1.2/33434'
	inA bash -c 'echo probe > /dev/udp/2001:db8:1::2/33434'
	inA ping -c 1 -W 1 198.18.5.1 >/dev/null || true
	inA ping -6 -c 1 -W 1 2001:db8:5::1 >/dev/null || true
	inA ping -c 1 -W 1 198.18.7.1 >/dev/null || true
	inA ping -6 -c 1 -W 1 2001:db8:7::1 >/dev/null || true
	inA ping -c 1 -W 1 198.18.6.1 >/dev/null || true
	inA ping -6 -c 1 -W 1 2001:db8:6::1 >/dev/null || true
	inA ping -c 1 -W 1 198.18.1.3 >/dev/null || true
	inA ping -6 -c 1 -W 1 2001:db8:1::3 >/dev/null || true
	inA bash -c 'echo probe > /dev/udp/198.18.1.3/53'
	inA socat -T 1 /dev/null TCP:198.18.1.3:80,connect-timeout=1 2>/dev/null || true
	inA socat -T 1 /dev/null TCP6:[2001:db8:1::3]:80,connect-timeout=1 2>/dev/null || true
	stop_capture errors.pcap
}

# ttl.pcap
cap_ttl() {
	start_capture "$A" a0 ttl.pcap 'icmp or tcp or (icmp6 and ip6[40] < 130)'
	inA ping -c 1 -t 1 -W 1 198.18.1.2 >/dev/null || true
	inA ping -6 -c 1 -t 1 -W 1 2001:db8:1::2 >/dev/null || true
	inA socat -T 1 /dev/null TCP:198.18.1.2:80,connect-timeout=1,ip-ttl=1 2>/dev/null || true
	stop_capture ttl.pcap
}

# ipopts.pcap: IPv4 options: record route and timestamps, filled in by R
# and B on the way.
cap_ipopts() {
	start_capture "$A" a0 ipopts.pcap icmp
	inA ping -c 1 -W 1 -R 198.18.1.2 >/dev/null
	inA ping -c 1 -W 1 -T tsandaddr 198.18.1.2 >/dev/null
	stop_capture ipopts.pcap
}

# mtu.pcap
cap_mtu() {
	start_capture "$A" a0 mtu.pcap 'icmp or (icmp6 and ip6[40] < 130)'
	inA ping -c 1 -M do -s 1400 -W 1 198.18.1.2 >/dev/null || true
	inA ping -6 -c 1 -M do -s 1400 -W 1 2001:db8:1::2 >/dev/null || true
	stop_capture mtu.pcap
}

# tcp.pcap: handshakes with options, data, close; a refused connection; UDP.
cap_tcp() {
	ip netns exec "$B" socat -u TCP-LISTEN:8080,reuseaddr OPEN:/dev/null &
	srv4=$!
	pids+=("$!")
	ip netns exec "$B" socat -u TCP6-LISTEN:8081,reuseaddr OPEN:/dev/null &
	srv6=$!
	pids+=("$!")
	ip netns exec "$B" socat UDP-RECVFROM:7000 SYSTEM:'echo answer' &
	udp4=$!
	pids+=("$!")
	sleep 0.5
	start_capture "$A" a0 tcp.pcap 'tcp or udp'
	echo hello | inA socat -u STDIN TCP:198.18.1.2:8080
	echo hello | inA socat -u STDIN TCP6:[2001:db8:1::2]:8081
	inA socat -T 1 /dev/null TCP:198.18.1.2:9 2>/dev/null || true
	echo question | inA socat -T 1 - UDP:198.18.1.2:7000 >/dev/null
	stop_capture tcp.pcap
	kill "$srv4" "$srv6" "$udp4" 2>/dev/null || true
	wait "$srv4" "$srv6" "$udp4" 2>/dev/null || true
}

# ext.pcap: fragments, and MLD reports (hop-by-hop) when A joins the
# solicited-node group of a new address.
cap_ext() {
	start_capture "$A" a0 ext.pcap '(ip[6:2] & 0x3fff != 0) or (ip6 and (ip6[6] == 44 or ip6[6] == 0))'
	inA ping -c 1 -s 3000 -W 1 198.18.0.2 >/dev/null
	inA ping -6 -c 1 -s 3000 -W 1 2001:db8::2 >/dev/null
	ip -n "$A" addr add 2001:db8::10/64 dev a0 nodad
	sleep 2
	stop_capture ext.pcap
}

# offload.pcap: the same kind of exchange with tx checksum offload on at A.
cap_offload() {
	inA ethtool -K a0 tx on >/dev/null
	ip netns exec "$B" socat -u TCP-LISTEN:8082,reuseaddr OPEN:/dev/null &
	srv=$!
	pids+=("$!")
	sleep 0.5
	start_capture "$A" a0 offload.pcap tcp
	echo hello | inA socat -u STDIN TCP:198.18.1.2:8082
	stop_capture offload.pcap
	kill "$srv" 2>/dev/null || true
	wait "$srv" 2>/dev/null || true
	inA ethtool -K a0 tx off >/dev/null
}

# sll.pcap and sll2.pcap: the "any" device.
cap_sll() {
	for v in sll:LINUX_SLL sll2:LINUX_SLL2; do
		ip netns exec "$B" socat -u TCP-LISTEN:8083,reuseaddr OPEN:/dev/null &
		srv=$!
	pids+=("$!")
		sleep 0.5
		start_capture "$A" any "${v%%:*}.pcap" -y "${v#*:}" 'icmp or tcp'
		inA ping -c 1 -W 1 198.18.1.2 >/dev/null
		echo hello | inA socat -u STDIN TCP:198.18.1.2:8083
		stop_capture "${v%%:*}.pcap"
		kill "$srv" 2>/dev/null || true
		wait "$srv" 2>/dev/null || true
	done
}

# rawip.pcap: a TUN device whose other end (socat) sends every packet back.
cap_rawip() {
	ip netns exec "$A" socat TUN:198.18.8.1/24,tun-name=tun0,tun-type=tun,iff-up,iff-no-pi PIPE &
	tun=$!
	pids+=("$!")
	for _ in $(seq 50); do ip -n "$A" link show tun0 >/dev/null 2>&1 && break; sleep 0.1; done
	ip -n "$A" addr add 2001:db8:8::1/64 dev tun0 nodad
	start_capture "$A" tun0 rawip.pcap 'icmp or (icmp6 and ip6[40] == 128)'
	inA ping -c 1 -W 1 198.18.8.2 >/dev/null || true
	inA ping -6 -c 1 -W 1 2001:db8:8::2 >/dev/null || true
	stop_capture rawip.pcap
	kill "$tun"
	wait "$tun" 2>/dev/null || true
}

# vlan.pcap: tagged copies of real frames, sent on a veth in V.
cap_vlan() {
	frame_hex() { # FILE FILTER: hex of the first frame matching FILTER
		tcpdump -r "$1" -c 1 -xx "$2" 2>/dev/null | sed -n 's/^\s*0x[0-9a-f]*:\s*//p' | tr -d ' \n'
	}
	send_hex() { # HEX: sends the frame on V's v0
		printf '%b' "$(echo "$1" | sed 's/../\\x&/g')" | ip netns exec "$V" socat -u STDIN INTERFACE:v0
	}
	ip netns add "$V"
	ip -n "$V" link add v0 type veth peer name v1
	ip -n "$V" link set v0 up
	ip -n "$V" link set v1 up
	start_capture "$V" v1 vlan.pcap 'vlan'
	for f in "echo.pcap arp" "echo.pcap icmp[0] == 8" "echo.pcap icmp[0] == 0" "tcp.pcap tcp[13] == 2"; do
		hex=$(frame_hex ${f%% *} "${f#* }")
		# 802.1Q, VLAN 100, priority 5
		send_hex "${hex:0:24}8100a064${hex:24}"
		# 802.1ad service tag 10 (priority 3, DEI) around 802.1Q VLAN 20
		send_hex "${hex:0:24}88a8700a81000014${hex:24}"
	done
	stop_capture vlan.pcap
}

for n in "${names[@]}"; do
	"cap_$n"
done
ls -l ./*.pcap
