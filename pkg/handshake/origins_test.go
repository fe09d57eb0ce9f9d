package handshake

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/netdiag/netdiag/pkg/failure"
)

func TestResetOrigins(t *testing.T) {
	host := netip.MustParseAddr("198.18.1.10")
	other := netip.MustParseAddr("2001:db8:1::10")
	answer := func(a netip.Addr, port int, state State, ttl int) Result {
		r := Result{Target: Target{Addr: a, Port: port}, TTL: ttl, State: state}
		if state == Closed {
			r.failed(failure.Reset, "")
		}
		return r
	}
	var o ResetOrigins
	for _, r := range []Result{
		answer(host, 81, Closed, 63),  // the host's own reset
		answer(host, 90, Closed, 64),  // listed in port order, not probe order
		answer(host, 82, Closed, 64),  // a firewall one hop closer
		answer(host, 80, Open, 63),    // the SYN-ACK that names the host's TTL
		answer(host, 83, Closed, 64),  // firewall again
		answer(host, 82, Closed, 64),  // a second round: listed once
		answer(host, 84, Closed, 0),   // connect mode: no TTL, no evidence
		answer(host, 85, Filtered, 0), // not a reset
		answer(other, 81, Closed, 64), // resets without any SYN-ACK: no reference
	} {
		o.Add(r)
	}
	want := []ForeignResets{{Addr: host, TTL: 64, SYNACKTTL: 63, Ports: []int{82, 83, 90}}}
	got := o.Foreign()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if got[0].HopsCloser() != 1 {
		t.Errorf("hops closer %d", got[0].HopsCloser())
	}

	// SYN-ACKs with two TTLs (two backends behind one address): no
	// conclusion.
	o.Add(answer(host, 443, Open, 60))
	if got := o.Foreign(); len(got) != 0 {
		t.Errorf("SYN-ACKs disagree, yet %+v", got)
	}
	var empty ResetOrigins
	if got := empty.Foreign(); got != nil {
		t.Errorf("zero value: %+v", got)
	}
}
