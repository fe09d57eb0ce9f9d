package handshake

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"golang.org/x/sys/unix"
)

func TestDecodeTCPInfo(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		b := make([]byte, 232)
		b[tcpiOptions] = tcpiOptTimestamps | tcpiOptSACK | tcpiOptWScale
		if order == binary.LittleEndian {
			b[tcpiWScale] = 0x7a // rcv_wscale 7 in the high nibble, snd_wscale 10 in the low one
		} else {
			b[tcpiWScale] = 0xa7
		}
		order.PutUint32(b[tcpiSndMSS:], 1448)
		order.PutUint32(b[tcpiRTT:], 412)
		in := decodeTCPInfo(b, order)
		want := TCPInfo{MSS: 1448, WScale: 10, SACK: true, Timestamps: true, RTT: 412 * time.Microsecond}
		if *in != want {
			t.Errorf("%v: %+v, want %+v", order, *in, want)
		}
		b[tcpiOptions] = 0
		if in := decodeTCPInfo(b, order); in.WScale != -1 || in.SACK || in.Timestamps {
			t.Errorf("%v: options off, got %+v", order, *in)
		}
	}
}

func TestParseExtendedErr(t *testing.T) {
	ee := func(origin, typ, code uint8, offender []byte) []byte {
		b := make([]byte, sizeofSockExtendedErr, sizeofSockExtendedErr+len(offender))
		binary.NativeEndian.PutUint32(b, uint32(unix.EHOSTUNREACH))
		b[4], b[5], b[6] = origin, typ, code
		return append(b, offender...)
	}
	sin := make([]byte, 16)
	binary.NativeEndian.PutUint16(sin, unix.AF_INET)
	copy(sin[4:], []byte{198, 18, 0, 1})
	sin6 := make([]byte, 28)
	binary.NativeEndian.PutUint16(sin6, unix.AF_INET6)
	a6 := netip.MustParseAddr("2001:db8::1").As16()
	copy(sin6[8:], a6[:])

	msg := func(level, typ int32, data []byte) unix.SocketControlMessage {
		return unix.SocketControlMessage{Header: unix.Cmsghdr{Level: level, Type: typ}, Data: data}
	}
	got := parseExtendedErr(msg(unix.IPPROTO_IP, unix.IP_RECVERR, ee(unix.SO_EE_ORIGIN_ICMP, 3, 13, sin)))
	if got == nil || got.V6 || got.Type != 3 || got.Code != 13 || got.From != netip.MustParseAddr("198.18.0.1") {
		t.Errorf("IPv4: %+v", got)
	}
	got = parseExtendedErr(msg(unix.IPPROTO_IPV6, unix.IPV6_RECVERR, ee(unix.SO_EE_ORIGIN_ICMP6, 1, 1, sin6)))
	if got == nil || !got.V6 || got.Type != 1 || got.Code != 1 || got.From != netip.MustParseAddr("2001:db8::1") {
		t.Errorf("IPv6: %+v", got)
	}
	if got := parseExtendedErr(msg(unix.IPPROTO_IP, unix.IP_RECVERR, ee(unix.SO_EE_ORIGIN_LOCAL, 0, 0, sin))); got != nil {
		t.Errorf("a local error is not an ICMP error: %+v", got)
	}
	if got := parseExtendedErr(msg(unix.IPPROTO_IP, unix.IP_RECVERR, []byte{1, 2, 3})); got != nil {
		t.Errorf("short message: %+v", got)
	}
	if got := parseExtendedErr(msg(unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, ee(unix.SO_EE_ORIGIN_ICMP, 3, 1, sin))); got != nil {
		t.Errorf("another control message: %+v", got)
	}
	if got := parseExtendedErr(msg(unix.IPPROTO_IP, unix.IP_RECVERR, ee(unix.SO_EE_ORIGIN_ICMP, 3, 1, nil))); got == nil || got.From.IsValid() {
		t.Errorf("no offender: %+v", got)
	}
}

// loopbackTarget returns a target on 127.0.0.1 with a listener behind it
// (listening true) or a port just closed.
func loopbackTarget(t *testing.T, listening bool) Target {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no IPv4 loopback: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if listening {
		t.Cleanup(func() { ln.Close() })
	} else {
		ln.Close()
	}
	return Target{Name: "127.0.0.1", Addr: netip.MustParseAddr("127.0.0.1"), Port: port}
}

func TestConnectLoopback(t *testing.T) {
	p := NewConnectProber(ConnectOptions{Timeout: 2 * time.Second})
	defer p.Close()

	r, err := p.Probe(context.Background(), loopbackTarget(t, true), 0)
	if err != nil || r.State != Open || r.Failure != nil || r.RTT <= 0 {
		t.Fatalf("open port: %+v, %v", r, err)
	}
	if r.Info == nil || r.Info.MSS <= 0 || r.Info.RTT <= 0 {
		t.Errorf("open port without TCP_INFO: %+v", r.Info)
	}

	r, err = p.Probe(context.Background(), loopbackTarget(t, false), 3)
	if err != nil || r.State != Closed || r.Reason() != failure.Reset || r.ICMP != nil || r.Seq != 3 {
		t.Fatalf("closed port: %+v, %v", r, err)
	}
}

func TestConnectCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := NewConnectProber(ConnectOptions{Timeout: time.Second})
	_, err := p.Probe(ctx, loopbackTarget(t, true), 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}
