package handshake_test

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netdiag/netdiag/internal/netlab"
	"github.com/netdiag/netdiag/pkg/handshake"
	"github.com/netdiag/netdiag/pkg/layers"
	"golang.org/x/sys/unix"
)

// TestLabTCPInfoMatchesSYNACK checks what connect and trace mode report
// for an open port against the SYN-ACK that opened it, recorded in the
// same trace: a default Linux server, and one with SACK, timestamps and
// window scaling switched off that advertises an MSS of 1000.
func TestLabTCPInfoMatchesSYNACK(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{Servers: 2})
	plain, bare := lab.Servers[0], lab.Servers[1]
	for _, k := range []string{"net.ipv4.tcp_sack", "net.ipv4.tcp_timestamps", "net.ipv4.tcp_window_scaling"} {
		bare.Sysctl(t, k, "0")
	}
	for _, network := range []string{"tcp4", "tcp6"} {
		go acceptAndClose(plain.Listen(t, network, fmt.Sprintf(":%d", portOpen)))
		ln := bare.Listen(t, network, fmt.Sprintf(":%d", portOpen))
		rc, err := ln.(*net.TCPListener).SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var serr error
		rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_MAXSEG, 1000) })
		if serr != nil {
			t.Fatal(serr)
		}
		go acceptAndClose(ln)
	}
	p, err := handshake.NewTraceProber(handshake.TraceOptions{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, addr := range []netip.Addr{plain.Addr4, plain.Addr6, bare.Addr4, bare.Addr6} {
		r := probeFrom(t, lab.Client, p, addr, portOpen)
		if r.State != handshake.Open || r.Info == nil || r.Trace == nil || len(r.Trace.Packets) < 2 {
			t.Fatalf("%s: %s, info %+v, trace %+v", addr, r.State, r.Info, r.Trace)
		}
		synAck := r.Trace.Packets[1]
		if synAck.Flags != layers.TCPFlagSYN|layers.TCPFlagACK {
			t.Fatalf("%s: second packet %v", addr, synAck.Flags)
		}
		want := handshake.TCPInfo{WScale: -1}
		var mssOption int
		for _, o := range synAck.Options {
			switch {
			case strings.HasPrefix(o, "mss "):
				mssOption, _ = strconv.Atoi(strings.TrimPrefix(o, "mss "))
			case strings.HasPrefix(o, "wscale "):
				want.WScale, _ = strconv.Atoi(strings.TrimPrefix(o, "wscale "))
			case o == "sackOK":
				want.SACK = true
			case strings.HasPrefix(o, "TS "):
				want.Timestamps = true
			}
		}
		// The send MSS is the peer's MSS option less the timestamps
		// option every segment then carries.
		want.MSS = mssOption
		if want.Timestamps {
			want.MSS -= 12
		}
		got := *r.Info
		got.RTT = 0
		if got != want {
			t.Errorf("%s: TCP_INFO %+v, the SYN-ACK %q says %+v", addr, got, synAck.Options, want)
		}
		if addr == bare.Addr4 || addr == bare.Addr6 {
			if mssOption != 1000 || want.SACK || want.Timestamps || want.WScale != -1 {
				t.Errorf("%s: the bare server's SYN-ACK offers %q", addr, synAck.Options)
			}
		} else if !want.SACK || !want.Timestamps || want.WScale < 0 {
			t.Errorf("%s: the default server's SYN-ACK offers %q", addr, synAck.Options)
		}
		if r.Info.RTT <= 0 {
			t.Errorf("%s: no kernel RTT", addr)
		}
	}
}
