#!/bin/sh
# Writes the hex dumps ParseHex is tested with, made by the real tools from
# packets of ../icmp.pcap: packet 3 (an ICMP echo request) through od, xxd
# and hexdump -C, and the first four packets through tcpdump -x, -xx, -XX.
# Needs tcpdump, editcap (tshark), od, xxd and hexdump (bsdextrautils).
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
editcap -F pcap -r ../icmp.pcap "$tmp" 3
frame() { tail -c +41 "$tmp"; }
frame | od -Ax -tx1 >od.txt
frame | xxd >xxd.txt
frame | hexdump -C >hexdump-C.txt
for f in x xx XX; do
	tcpdump -nr ../icmp.pcap -c 4 -$f >tcpdump-$f.txt 2>/dev/null
done
