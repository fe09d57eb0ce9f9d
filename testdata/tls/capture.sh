#!/bin/sh
# Regenerates the TLS captures in this directory: real handshakes between
# openssl s_client and openssl s_server (and gnutls-serv) on the loopback
# interface of a private network namespace, recorded with tcpdump.
#
# For each scenario NAME it writes
#   NAME.pcap  the capture, for decode's tests
#   NAME.hex   the TCP payloads in order, one segment per line:
#              "> HEX" client to server, "< HEX" server to client,
#              "# connection N" before each connection (extracted with
#              tshark's follow,tcp,raw), for the codec's tests and fuzz
#              seeds.
#
# Run as root from anywhere: sh testdata/tls/capture.sh
# Needs openssl, gnutls-bin, tcpdump, tshark and util-linux's unshare.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

if [ "${NETDIAG_CAPTURE_INSIDE:-}" != 1 ]; then
	# Re-run inside a fresh network namespace so that nothing else on the
	# machine's loopback ends up in the captures.
	exec unshare -n env NETDIAG_CAPTURE_INSIDE=1 sh "$0" "$@"
fi

ip link set lo up
work=$(mktemp -d)
trap 'cat "$work/server.log" >&2 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"

# A small PKI: a root CA, an intermediate, RSA and ECDSA server
# certificates for localhost, a client CA, and an OCSP response for the
# RSA certificate.
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 \
	-subj "/CN=netdiag capture root" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout int.key -out int.csr -subj "/CN=netdiag capture intermediate" 2>/dev/null
printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n' >int.ext
openssl x509 -req -in int.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out int.crt -days 3650 -extfile int.ext 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >srv.ext
openssl req -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.csr -subj "/CN=localhost" 2>/dev/null
openssl x509 -req -in rsa.csr -CA int.crt -CAkey int.key -CAcreateserial -out rsa.crt -days 825 -extfile srv.ext 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec.key -out ec.csr -subj "/CN=localhost" 2>/dev/null
openssl x509 -req -in ec.csr -CA int.crt -CAkey int.key -CAcreateserial -out ec.crt -days 825 -extfile srv.ext 2>/dev/null
cat rsa.crt int.crt >rsa-chain.crt
openssl req -x509 -newkey rsa:2048 -nodes -keyout cca.key -out cca.crt -days 3650 \
	-subj "/O=netdiag/CN=netdiag client CA" 2>/dev/null
serial=$(openssl x509 -in rsa.crt -noout -serial | cut -d= -f2)
printf 'V\t301231000000Z\t\t%s\tunknown\t/CN=localhost\n' "$serial" >index.txt
openssl ocsp -issuer int.crt -cert rsa.crt -reqout ocsp.req -no_nonce 2>/dev/null
openssl ocsp -index index.txt -rsigner int.crt -rkey int.key -CA int.crt -reqin ocsp.req \
	-respout ocsp.der -ndays 3650 2>/dev/null

port=4433
serverpid=
dumppid=

start_capture() {
	tcpdump -Z root --immediate-mode -i lo -U -s 0 -w "$here/$1.pcap" "tcp port $port" 2>/dev/null &
	dumppid=$!
	sleep 0.5
}

stop_capture() {
	sleep 1
	kill "$dumppid"
	wait "$dumppid" 2>/dev/null || true
	kill "$serverpid" 2>/dev/null || true
	wait "$serverpid" 2>/dev/null || true
	# follow,tcp,raw prints the client's segments flush left and the
	# server's indented by a tab; keep that order and direction. Each TCP
	# connection starts with a "# connection N" line.
	: >"$here/$1.hex"
	for stream in $(tshark -r "$here/$1.pcap" -T fields -e tcp.stream 2>/dev/null | sort -un); do
		echo "# connection $stream" >>"$here/$1.hex"
		tshark -r "$here/$1.pcap" -q -z follow,tcp,raw,"$stream" 2>/dev/null |
			awk '/^=====/ {body = !body; next} body && /^(Follow|Filter|Node)/ {next}
				body && /^\t/ {sub(/^\t/, ""); print "< " $0; next}
				body && NF {print "> " $0}' >>"$here/$1.hex"
	done
}

s_server() {
	openssl s_server -accept $port -naccept "$NACCEPT" -quiet "$@" </dev/null >/dev/null 2>>"$work/server.log" &
	serverpid=$!
	sleep 0.5
}

s_client() {
	echo Q | openssl s_client -connect 127.0.0.1:$port -servername localhost "$@" >/dev/null 2>&1 || true
}

# 1. TLS 1.2, ECDHE-RSA with AES-128-GCM, session ticket, ALPN, OCSP staple.
NACCEPT=1
start_capture tls12-ecdhe-rsa-gcm
s_server -cert rsa.crt -cert_chain int.crt -key rsa.key -tls1_2 -alpn h2,http/1.1 -status_file ocsp.der
s_client -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -alpn http/1.1 -status
stop_capture tls12-ecdhe-rsa-gcm

# 2. TLS 1.2, DHE-RSA with AES-256-GCM (ffdhe2048 parameters from OpenSSL).
start_capture tls12-dhe-rsa
s_server -cert rsa.crt -cert_chain int.crt -key rsa.key -tls1_2
s_client -tls1_2 -cipher DHE-RSA-AES256-GCM-SHA384
stop_capture tls12-dhe-rsa

# 3. TLS 1.2, static RSA key exchange with AES-128-CBC and HMAC-SHA1.
start_capture tls12-rsa-cbc
s_server -cert rsa.crt -cert_chain int.crt -key rsa.key -tls1_2
s_client -tls1_2 -cipher AES128-SHA
stop_capture tls12-rsa-cbc

# 4. TLS 1.2, ECDHE-ECDSA with ChaCha20-Poly1305, P-384 key exchange.
start_capture tls12-ecdhe-ecdsa-chacha
s_server -cert ec.crt -cert_chain int.crt -key ec.key -tls1_2
s_client -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305 -groups P-384:P-256
stop_capture tls12-ecdhe-ecdsa-chacha

# 5. TLS 1.2 with a CertificateRequest naming a client CA; the client has
#    no certificate and sends an empty Certificate.
start_capture tls12-client-cert-request
s_server -cert rsa.crt -cert_chain int.crt -key rsa.key -tls1_2 -verify 1 -client_sigalgs RSA+SHA256:ECDSA+SHA256 -CAfile cca.crt
s_client -tls1_2
stop_capture tls12-client-cert-request

# 6. TLS 1.2 session resumption by session ID (tickets off), two connections.
NACCEPT=2
start_capture tls12-resume-id
s_server -cert rsa.crt -cert_chain int.crt -key rsa.key -tls1_2 -no_ticket
s_client -tls1_2 -no_ticket -sess_out sess.pem
s_client -tls1_2 -no_ticket -sess_in sess.pem
stop_capture tls12-resume-id
NACCEPT=1

# 7. TLS 1.3 with a HelloRetryRequest: the client's key share is X25519,
#    the server only takes P-256.
start_capture tls13-hrr
s_server -cert rsa.crt -cert_chain int.crt -key rsa.key -tls1_3 -groups P-256
s_client -tls1_3 -groups X25519:P-256
stop_capture tls13-hrr

# 8. TLS 1.2 against GnuTLS: ECDHE-RSA with AES-256-CBC-SHA384 and EMS.
start_capture tls12-gnutls-cbc
gnutls-serv -p $port --x509certfile rsa-chain.crt --x509keyfile rsa.key \
	--priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2:+SHA384' >/dev/null 2>&1 &
serverpid=$!
sleep 1
s_client -tls1_2 -cipher ECDHE-RSA-AES256-SHA384
stop_capture tls12-gnutls-cbc

# 9. An alert: the client offers only a suite the server does not have.
start_capture tls12-handshake-failure
s_server -cert rsa.crt -cert_chain int.crt -key rsa.key -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
s_client -tls1_2 -cipher AES256-SHA
stop_capture tls12-handshake-failure

echo "captures written to $here"
