package failure

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestEveryReasonIsDescribed(t *testing.T) {
	for _, r := range Reasons() {
		if r.Layer().Rank() < 0 {
			t.Errorf("%s: layer %q is not one of Layers()", r, r.Layer())
		}
		if r.Sentence() == "" || r.Sentence() == string(r) {
			t.Errorf("%s: no sentence", r)
		}
		if r.Device() == "" {
			t.Errorf("%s: no likely device", r)
		}
	}
	if Reason("no-such-reason").Known() {
		t.Error("unknown reason reported as known")
	}
}

func TestFromICMP(t *testing.T) {
	cases := []struct {
		v6        bool
		typ, code uint8
		want      Reason
		wantOK    bool
	}{
		{false, 3, 0, NetUnreachable, true},
		{false, 3, 1, HostUnreachable, true},
		{false, 3, 3, PortUnreachable, true},
		{false, 3, 4, FragNeeded, true},
		{false, 3, 10, AdminProhibited, true},
		{false, 3, 13, AdminProhibited, true},
		{false, 11, 0, TTLExceeded, true},
		{false, 11, 1, ReassemblyTimeout, true},
		{false, 12, 0, ParamProblem, true},
		{false, 0, 0, "", false},
		{false, 8, 0, "", false},
		{true, 1, 0, NetUnreachable, true},
		{true, 1, 1, AdminProhibited, true},
		{true, 1, 3, HostUnreachable, true},
		{true, 1, 4, PortUnreachable, true},
		{true, 2, 0, FragNeeded, true},
		{true, 3, 0, TTLExceeded, true},
		{true, 4, 1, ParamProblem, true},
		{true, 129, 0, "", false},
	}
	for _, c := range cases {
		f := FromICMPv4
		if c.v6 {
			f = FromICMPv6
		}
		got, ok := f(c.typ, c.code)
		if got != c.want || ok != c.wantOK {
			t.Errorf("v6=%v type %d code %d: got %q,%v want %q,%v", c.v6, c.typ, c.code, got, ok, c.want, c.wantOK)
		}
		if ok && !got.Known() {
			t.Errorf("v6=%v type %d code %d: mapped to undefined reason %q", c.v6, c.typ, c.code, got)
		}
	}
}

func TestFailureAsError(t *testing.T) {
	f := New(AdminProhibited, "icmp 3/13")
	f.From = "198.18.0.1"
	err := fmt.Errorf("probe: %w", f.At(LayerTransport))
	var got *Failure
	if !errors.As(err, &got) {
		t.Fatal("errors.As did not find the Failure")
	}
	if got.Layer != LayerTransport || got.Reason != AdminProhibited {
		t.Fatalf("got %+v", got)
	}
	if f.Layer != LayerNetwork {
		t.Fatalf("At modified the original: %+v", f)
	}
	want := "a firewall rejects the traffic (administratively prohibited) (icmp 3/13), reported by 198.18.0.1; likely at fault: a firewall"
	if got.Explain() != want {
		t.Fatalf("Explain:\n got %q\nwant %q", got.Explain(), want)
	}
}

// TestExplainAtLayer: a timeout after the TCP connection was made is
// not explained as packets dropped by a firewall.
func TestExplainAtLayer(t *testing.T) {
	transport := New(Timeout, "")
	tls := New(Timeout, "read ServerHello").At(LayerTLS)
	if !strings.Contains(transport.Explain(), "dropped silently") {
		t.Errorf("transport: %q", transport.Explain())
	}
	want := "the server accepted the connection but did not answer in time (read ServerHello); likely at fault: the server"
	if got := tls.Explain(); !strings.HasPrefix(got, want) {
		t.Errorf("tls:\n got %q\nwant %q...", got, want)
	}
}

func TestKindExitCodes(t *testing.T) {
	var e *Error
	err := fmt.Errorf("wrapped: %w", Inputf("bad port %q", "x"))
	if !errors.As(err, &e) || e.Kind.ExitCode() != 2 || e.Error() != `bad port "x"` {
		t.Fatalf("got %v", err)
	}
	cause := errors.New("operation not permitted")
	l := Localf(cause, "no raw socket")
	if !errors.Is(l, cause) || l.Kind.ExitCode() != 4 {
		t.Fatalf("Localf lost its cause or kind: %v", l)
	}
}

func TestEveryReasonIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/json.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Reasons() {
		if !strings.Contains(string(doc), "| `"+string(r)+"` | "+string(r.Layer())+" |") {
			t.Errorf("docs/json.md does not list reason %s (layer %s)", r, r.Layer())
		}
	}
}
