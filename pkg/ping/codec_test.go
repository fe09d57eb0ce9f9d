package ping

import (
	"bufio"
	"encoding/hex"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// capturedPackets reads testdata/packets.txt: real packets, IP header on.
func capturedPackets(t testing.TB) map[string][]byte {
	t.Helper()
	f, err := os.Open("testdata/packets.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hx, _ := strings.Cut(line, " ")
		b, err := hex.DecodeString(hx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = b
	}
	return out
}

// asRead turns a captured packet into what a raw socket read returns:
// IPv4 with its header, ICMPv6 without.
func asRead(name string, b []byte) []byte {
	if strings.HasPrefix(name, "v6") {
		return b[40:]
	}
	return b
}

func TestDecodeCapturedPackets(t *testing.T) {
	pkts := capturedPackets(t)
	cases := []struct {
		name      string
		ok        bool
		kind      inboundKind
		id, seq   uint16
		from, dst string
		typ, code uint8
		mtu, ttl  int
		bytes     int
	}{
		{name: "v4-echo-request"},
		{name: "v6-echo-request"},
		{"v4-echo-reply", true, inReply, 0x6615, 1, "198.18.1.10", "", 0, 0, 0, 63, 64},
		{"v6-echo-reply", true, inReply, 0x66d0, 1, "", "", 0, 0, 0, -1, 64},
		{"v4-time-exceeded", true, inError, 0x6618, 1, "198.18.0.1", "198.18.1.10", 11, 0, 0, 64, 92},
		{"v4-net-unreachable", true, inError, 0x66cd, 1, "198.18.0.1", "198.18.6.6", 3, 0, 0, 64, 92},
		{"v4-host-unreachable", true, inError, 0x695b, 1, "198.18.0.1", "198.18.5.5", 3, 1, 0, 64, 92},
		{"v4-admin-prohibited", true, inError, 0x695c, 1, "198.18.0.1", "198.18.6.6", 3, 13, 0, 64, 92},
		{"v4-frag-needed", true, inError, 0x6960, 1, "198.18.0.1", "198.18.1.10", 3, 4, 1300, 64, 556},
		{"v6-time-exceeded", true, inError, 0x66d2, 1, "", "2001:db8:1::10", 3, 0, 0, -1, 112},
		{"v6-no-route", true, inError, 0x66d7, 1, "", "2001:db8:5::5", 1, 0, 0, -1, 112},
		{"v6-admin-prohibited", true, inError, 0x695e, 1, "", "2001:db8:6::6", 1, 1, 0, -1, 112},
		{"v6-packet-too-big", true, inError, 0x6961, 1, "", "2001:db8:1::10", 2, 0, 1300, -1, 1240},
	}
	for _, c := range cases {
		b, found := pkts[c.name]
		if !found {
			t.Fatalf("%s: not in testdata", c.name)
		}
		p := inbound{ttl: -1}
		var ok bool
		if strings.HasPrefix(c.name, "v4") {
			p.fam = 4
			ok = decodeIPv4Packet(&p, asRead(c.name, b))
		} else {
			p.fam = 6
			ok = decodeMessage(&p, 6, asRead(c.name, b))
		}
		if ok != c.ok {
			t.Fatalf("%s: decoded %v", c.name, ok)
		}
		if !ok {
			continue
		}
		if p.kind != c.kind || p.id != c.id || p.seq != c.seq || p.icmpType != c.typ || p.icmpCode != c.code ||
			p.mtu != c.mtu || p.ttl != c.ttl || p.bytes != c.bytes || p.badSum {
			t.Errorf("%s: %+v", c.name, p)
		}
		if c.from != "" && p.from.String() != c.from {
			t.Errorf("%s: from %v", c.name, p.from)
		}
		if c.dst != "" && p.dst.String() != c.dst {
			t.Errorf("%s: quoted destination %v", c.name, p.dst)
		}
		if c.kind == inReply && len(p.payload) != 56 {
			t.Errorf("%s: payload of %d bytes", c.name, len(p.payload))
		}
	}
}

func TestDecodeSpotsBadChecksum(t *testing.T) {
	b := append([]byte(nil), capturedPackets(t)["v4-echo-reply"]...)
	b[len(b)-1] ^= 0x40
	var p inbound
	if !decodeIPv4Packet(&p, b) || !p.badSum {
		t.Fatalf("a changed byte must fail the checksum: %+v", p)
	}
}

func TestDecodePayloadIsACopy(t *testing.T) {
	b := append([]byte(nil), capturedPackets(t)["v4-echo-reply"]...)
	var p inbound
	decodeIPv4Packet(&p, b)
	before := append([]byte(nil), p.payload...)
	clear(b)
	if string(p.payload) != string(before) {
		t.Fatal("the payload aliases the read buffer, which the next read reuses")
	}
}

func TestDecodeQueuedError(t *testing.T) {
	pkts := capturedPackets(t)
	// A datagram socket's error queue holds the quoted request alone: take
	// it from the captured errors (after outer IP + ICMP + quoted IP header).
	req4 := pkts["v4-admin-prohibited"][20+8+20:]
	req6 := pkts["v6-admin-prohibited"][40+8+40:]
	router4, router6 := netip.MustParseAddr("198.18.0.1"), netip.MustParseAddr("2001:db8::1")
	var p inbound
	if !decodeQueuedError(&p, 4, req4, netip.MustParseAddr("198.18.6.6"), router4, 3, 13, 0) ||
		p.kind != inError || p.id != 0x695c || p.seq != 1 || p.from != router4 || p.icmpCode != 13 || p.mtu != 0 {
		t.Fatalf("v4: %+v", p)
	}
	p = inbound{}
	if !decodeQueuedError(&p, 6, req6, netip.MustParseAddr("2001:db8:6::6"), router6, 2, 0, 1280) ||
		p.id != 0x695e || p.mtu != 1280 || p.from != router6 {
		t.Fatalf("v6: %+v", p)
	}
	if decodeQueuedError(&p, 4, req4[:4], netip.Addr{}, router4, 3, 1, 0) {
		t.Fatal("a quote too short to hold the request's header must be refused")
	}
	if decodeQueuedError(&p, 4, pkts["v4-echo-reply"][20:], netip.Addr{}, router4, 3, 1, 0) {
		t.Fatal("a quote that is not an echo request must be refused")
	}
}

func TestICMPText(t *testing.T) {
	if got := icmpText(4, 3, 13); got != "destination unreachable (communication administratively prohibited)" {
		t.Errorf("v4: %q", got)
	}
	if got := icmpText(6, 3, 0); !strings.HasPrefix(got, "time exceeded") {
		t.Errorf("v6: %q", got)
	}
}

func fuzzSeeds(f *testing.F, v6 bool) {
	for name, b := range capturedPackets(f) {
		if strings.HasPrefix(name, "v6") == v6 {
			f.Add(asRead(name, b))
		}
	}
}

func FuzzDecodeIPv4Packet(f *testing.F) {
	fuzzSeeds(f, false)
	f.Fuzz(func(t *testing.T, b []byte) {
		var p inbound
		if decodeIPv4Packet(&p, b) {
			checkDecoded(t, &p, b)
		}
	})
}

func FuzzDecodeMessage(f *testing.F) {
	fuzzSeeds(f, true)
	for name, b := range capturedPackets(f) {
		if strings.HasPrefix(name, "v4") {
			f.Add(b[20:])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, fam := range []int{4, 6} {
			p := inbound{fam: fam}
			if decodeMessage(&p, fam, b) {
				checkDecoded(t, &p, b)
			}
			p = inbound{fam: fam}
			if decodeQueuedError(&p, fam, b, netip.Addr{}, netip.Addr{}, 3, 1, 0) && p.kind != inError {
				t.Fatalf("queued error decoded as %d", p.kind)
			}
		}
	})
}

func checkDecoded(t *testing.T, p *inbound, b []byte) {
	t.Helper()
	if p.kind != inReply && p.kind != inError {
		t.Fatalf("decoded kind %d", p.kind)
	}
	if len(p.payload) > len(b) || p.bytes > len(b) {
		t.Fatalf("payload %d, message %d from %d bytes", len(p.payload), p.bytes, len(b))
	}
}
