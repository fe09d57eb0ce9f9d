package diagnose

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
)

func TestPathDecidedAndTrimmed(t *testing.T) {
	te := failure.TTLExceeded
	cases := []struct {
		name    string
		hops    []Hop
		done    []bool
		decided bool
		kept    int
	}{
		{"reply at hop 2", []Hop{hop(1, "198.18.0.1", te), hop(2, "198.18.1.10", "reply"), {TTL: 3}}, []bool{true, true, false}, true, 2},
		{"hop 1 still out", []Hop{{TTL: 1}, hop(2, "198.18.1.10", "reply"), {TTL: 3}}, []bool{false, true, false}, false, 0},
		{"unreachable at hop 1", []Hop{hop(1, "198.18.0.1", failure.HostUnreachable), {TTL: 2}}, []bool{true, false}, true, 1},
		{"silent after hop 1", []Hop{hop(1, "198.18.0.1", te), {TTL: 2}, {TTL: 3}}, []bool{true, true, true}, true, 2},
		{"silent hop in the middle", []Hop{hop(1, "198.18.0.1", te), {TTL: 2}, hop(3, "198.18.9.1", te), {TTL: 4}}, []bool{true, true, true, true}, true, 4},
		{"nothing answers", []Hop{{TTL: 1}, {TTL: 2}}, []bool{true, true}, true, 1},
		{"all time exceeded", []Hop{hop(1, "198.18.0.1", te), hop(2, "198.18.2.2", te)}, []bool{true, true}, true, 2},
	}
	for _, c := range cases {
		if got := pathDecided(c.hops, c.done); got != c.decided {
			t.Errorf("%s: decided %v", c.name, got)
		}
		if !c.decided {
			continue
		}
		if got := trimHops(c.hops, c.done); len(got) != c.kept {
			t.Errorf("%s: kept %d hops, want %d", c.name, len(got), c.kept)
		}
	}
}

func TestPathReading(t *testing.T) {
	te := failure.TTLExceeded
	a := netip.MustParseAddr
	reached := &Path{Hops: []Hop{hop(1, "198.18.0.1", te), hop(2, "198.18.1.10", "reply")}, MaxHops: 8}
	if !reached.Reached() || reached.Describe() != "reaches 198.18.1.10 at hop 2" || reached.Loop() != nil {
		t.Errorf("reached: %q", reached.Describe())
	}
	stopped := &Path{Hops: []Hop{hop(1, "198.18.0.1", te), hop(2, "198.18.0.1", failure.HostUnreachable)}, MaxHops: 8}
	end, ok := stopped.End()
	if stopped.Reached() || !ok || end.TTL != 2 || stopped.FirstSeen(a("198.18.0.1")) != 1 ||
		stopped.Describe() != "stops at hop 2: 198.18.0.1 answers host-unreachable" {
		t.Errorf("stopped: %q", stopped.Describe())
	}
	silent := &Path{Hops: []Hop{hop(1, "198.18.0.1", te), {TTL: 2}}, MaxHops: 8}
	last, ok := silent.LastTransit()
	if _, ended := silent.End(); ended || !ok || last.TTL != 1 ||
		silent.Describe() != "packets stop after hop 1 (198.18.0.1): no answer beyond it" {
		t.Errorf("silent: %q", silent.Describe())
	}
	loop := &Path{Hops: []Hop{hop(1, "198.18.0.1", te), hop(2, "198.18.2.2", te), hop(3, "198.18.9.9", te), hop(4, "198.18.2.2", te)}, MaxHops: 4}
	if got := loop.Loop(); !slices.Equal(got, []netip.Addr{a("198.18.2.2"), a("198.18.9.9")}) ||
		loop.Describe() != "routing loop: 198.18.2.2 → 198.18.9.9 → 198.18.2.2" {
		t.Errorf("loop %v: %q", got, loop.Describe())
	}
	long := &Path{Hops: []Hop{hop(1, "198.18.0.1", te), hop(2, "198.18.2.2", te)}, MaxHops: 2}
	if long.Describe() != "no end within 2 hops; the last router answering is 198.18.2.2" {
		t.Errorf("long: %q", long.Describe())
	}
	none := &Path{Hops: []Hop{{TTL: 1}}, MaxHops: 8}
	if _, ok := none.LastTransit(); ok || none.Reached() {
		t.Errorf("none: %q", none.Describe())
	}
	for _, h := range []Hop{hop(3, "", ""), hop(1, "198.18.0.1", te), hop(2, "198.18.1.10", "reply")} {
		if h.String() == "" {
			t.Errorf("hop %d renders empty", h.TTL)
		}
	}
}

func TestHopString(t *testing.T) {
	from := netip.MustParseAddr("198.18.0.1")
	cases := []struct {
		h    Hop
		want string
	}{
		{Hop{TTL: 1, From: from, Failure: failure.New(failure.TTLExceeded, ""), Message: "time exceeded (TTL exceeded in transit)", RTT: 81 * time.Microsecond},
			"hop 1: 198.18.0.1 time exceeded (TTL exceeded in transit) in 0.081 ms"},
		{Hop{TTL: 2, From: netip.MustParseAddr("198.18.1.10"), Reply: true, RTT: 120 * time.Microsecond}, "hop 2: 198.18.1.10 echo reply in 0.120 ms"},
		{Hop{TTL: 3}, "hop 3: no answer"},
	}
	for _, c := range cases {
		if got := c.h.String(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
