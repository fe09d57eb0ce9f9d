#!/bin/sh
# Recreates the captures in this directory, as root, in throw-away network
# namespaces (internal/netlab): tcpdump (dumpcap for the pcapng) records on
# the lab client while pings, ICMP errors, TCP connections, DNS lookups and
# TLS 1.2 handshakes against openssl s_server and gnutls-serv run. The
# traffic of each file is in pkg/decode/lab_linux_test.go (labCaptures).
# Needs iproute2, nftables, tcpdump, tshark (dumpcap), openssl, gnutls-bin,
# dnsmasq-base and ethtool.
#
# Afterwards regenerate the golden outputs that depend on the captures:
#   go test ./internal/cli -run Decode -update
set -eu
cd "$(dirname "$0")/../.."
go test ./pkg/decode -run '^TestLabCaptures$' -count=1 -recapture -v
