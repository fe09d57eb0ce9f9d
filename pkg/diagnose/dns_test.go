package diagnose

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/netdiag/netdiag/pkg/failure"
)

// startDNS serves a tiny zone on loopback: each name maps to an rcode and
// optional A/AAAA answers.
func startDNS(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := dns.NewServeMux()
	mux.HandleFunc(".", func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		switch q.Name {
		case "both.lab.test.", "web.corp.lab.test.":
			if q.Qtype == dns.TypeA {
				rr, _ := dns.NewRR(q.Name + " 60 IN A 198.18.1.10")
				m.Answer = append(m.Answer, rr)
			} else if q.Qtype == dns.TypeAAAA {
				rr, _ := dns.NewRR(q.Name + " 60 IN AAAA 2001:db8:1::10")
				m.Answer = append(m.Answer, rr)
			}
		case "v4only.lab.test.":
			if q.Qtype == dns.TypeA {
				rr, _ := dns.NewRR(q.Name + " 60 IN A 198.18.1.11")
				m.Answer = append(m.Answer, rr)
			}
		case "v6fail.lab.test.":
			if q.Qtype == dns.TypeA {
				rr, _ := dns.NewRR(q.Name + " 60 IN A 198.18.1.12")
				m.Answer = append(m.Answer, rr)
			} else {
				m.Rcode = dns.RcodeServerFailure
			}
		case "blocked.lab.test.", "v6blocked.lab.test.":
			switch {
			case q.Qtype == dns.TypeA && q.Name == "blocked.lab.test.":
				rr, _ := dns.NewRR(q.Name + " 60 IN A 0.0.0.0")
				m.Answer = append(m.Answer, rr)
			case q.Qtype == dns.TypeA:
				rr, _ := dns.NewRR(q.Name + " 60 IN A 198.18.1.13")
				m.Answer = append(m.Answer, rr)
			case q.Qtype == dns.TypeAAAA:
				rr, _ := dns.NewRR(q.Name + " 60 IN AAAA ::")
				m.Answer = append(m.Answer, rr)
			}
		case "fail.lab.test.":
			m.Rcode = dns.RcodeServerFailure
		case "refused.lab.test.":
			m.Rcode = dns.RcodeRefused
		default:
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})
	srv := &dns.Server{PacketConn: pc, Handler: mux}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

// silentDNS is a UDP socket that never answers.
func silentDNS(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

// closedDNS is a UDP port nothing listens on: queries to it come back as
// ICMP port unreachable.
func closedDNS(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

func TestLookupDNS(t *testing.T) {
	good := startDNS(t)
	silent := silentDNS(t)
	closed := closedDNS(t)
	noHosts := filepath.Join(t.TempDir(), "hosts")
	cases := []struct {
		name         string
		servers      []string
		want4, want6 bool
		a, aaaa      int
		reason       failure.Reason
	}{
		{"both.lab.test", []string{good}, true, true, 1, 1, ""},
		{"both.lab.test", []string{good}, true, false, 1, 0, ""},
		{"v4only.lab.test", []string{good}, true, true, 1, 0, ""},
		{"v4only.lab.test", []string{good}, false, true, 0, 0, failure.NoAddress},
		{"nope.lab.test", []string{good}, true, true, 0, 0, failure.NXDomain},
		{"fail.lab.test", []string{good}, true, true, 0, 0, failure.ServFail},
		{"refused.lab.test", []string{good}, true, true, 0, 0, failure.DNSRefused},
		{"both.lab.test", []string{silent}, true, true, 0, 0, failure.DNSTimeout},
		{"both.lab.test", []string{silent, good}, true, true, 1, 1, ""},
		{"both.lab.test", []string{closed, good}, true, true, 1, 1, ""},
		{"both.lab.test", []string{closed}, true, true, 0, 0, failure.DNSTimeout},
		{"blocked.lab.test", []string{good}, true, true, 0, 0, failure.NoAddress},
		{"v6blocked.lab.test", []string{good}, true, true, 1, 0, ""},
	}
	for _, c := range cases {
		ans, err := LookupDNS(context.Background(), c.name, c.want4, c.want6,
			DNSConfig{Servers: c.servers, Hosts: noHosts, Timeout: 300 * time.Millisecond})
		if c.reason != "" {
			f, ok := err.(*failure.Failure)
			if !ok || f.Reason != c.reason || f.Layer != failure.LayerDNS {
				t.Errorf("%s via %v: got %v, want %s", c.name, c.servers, err, c.reason)
			}
			continue
		}
		if err != nil || len(ans.A.Addrs) != c.a || len(ans.AAAA.Addrs) != c.aaaa {
			t.Errorf("%s via %v: got %+v, %v", c.name, c.servers, ans, err)
			continue
		}
		if ans.Source != good || (c.want4 && ans.A.Rcode != "NOERROR") {
			t.Errorf("%s: source %q rcode %q", c.name, ans.Source, ans.A.Rcode)
		}
		if c.servers[0] != good && (len(ans.A.Unanswered) != 1 || !strings.HasPrefix(ans.A.Unanswered[0], c.servers[0]+": ")) {
			t.Errorf("%s via %v: unanswered %q", c.name, c.servers, ans.A.Unanswered)
		}
	}
}

// TestLookupDNSUnanswered checks what is said of resolvers that do not
// answer, and that one is asked only once per query however long the
// search list.
func TestLookupDNSUnanswered(t *testing.T) {
	good, silent, closed := startDNS(t), silentDNS(t), closedDNS(t)
	timeout := 300 * time.Millisecond
	q := DNSQuery{Type: "A"}
	start := time.Now()
	q.resolve(context.Background(), []string{"nope.lab.test.", "nope.corp.lab.test.", "both.lab.test."}, []string{silent, closed, good}, timeout)
	if q.Rcode != "NOERROR" || len(q.Addrs) != 1 || len(q.Names) != 3 || q.Server != good {
		t.Fatalf("query %+v", q)
	}
	want := []string{silent + ": no answer within 300ms", closed + ": refused with ICMP port unreachable: nothing serves DNS there"}
	if strings.Join(q.Unanswered, "|") != strings.Join(want, "|") {
		t.Fatalf("unanswered %q, want %q", q.Unanswered, want)
	}
	if el := time.Since(start); el > 2*timeout {
		t.Fatalf("the silent resolver was asked again: %v", el)
	}

	// Nobody answers: only the first name is asked.
	q = DNSQuery{Type: "AAAA"}
	q.resolve(context.Background(), []string{"a.lab.test.", "b.lab.test."}, []string{silent}, timeout)
	if q.Rcode != "" || len(q.Names) != 1 || len(q.Unanswered) != 1 {
		t.Fatalf("query %+v", q)
	}
}

func TestCheckHostName(t *testing.T) {
	for _, ok := range []string{"web", "web.lab.test", "web.lab.test.", "_srv.x-1.lab.test", strings.Repeat("a", 63) + ".test"} {
		if err := CheckHostName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for name, want := range map[string]string{
		"":                               "empty host name",
		"a..b":                           "empty label",
		".web":                           "empty label",
		"a b":                            `' ' is not allowed`,
		"bad!":                           `'!' is not allowed`,
		"bücher.test":                    `'ü' is not allowed`,
		strings.Repeat("a", 64) + ".b":   "longer than 63",
		strings.Repeat("abc.", 64) + "d": "more than DNS allows",
	} {
		err := CheckHostName(name)
		var fe *failure.Error
		if !errors.As(err, &fe) || fe.Kind != failure.KindInput || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an input error with %q", name, err, want)
		}
	}
}

func TestLookupDNSSearchAndHosts(t *testing.T) {
	good := startDNS(t)
	dir := t.TempDir()
	host, port, _ := net.SplitHostPort(good)
	resolv := filepath.Join(dir, "resolv.conf")
	os.WriteFile(resolv, []byte("nameserver "+host+"\nsearch corp.lab.test\noptions ndots:1 timeout:1\n"), 0o644)
	hosts := filepath.Join(dir, "hosts")
	os.WriteFile(hosts, []byte("# comment\n198.18.9.9 pinned.lab.test pinned\n2001:db8:9::9 pinned.lab.test\n"), 0o644)

	// The port of the test server is not 53, so point the config at it by
	// rewriting through Servers but keeping the search list from the file.
	_, search, ndots, err := DNSConfig{ResolvConf: resolv}.resolvers()
	if err != nil || len(search) != 1 || ndots != 1 {
		t.Fatalf("resolv.conf: search %v ndots %d err %v", search, ndots, err)
	}
	got := candidates("web", search, ndots)
	if len(got) != 2 || got[0] != "web.corp.lab.test." || got[1] != "web." {
		t.Fatalf("candidates: %v", got)
	}
	q := DNSQuery{Type: "A"}
	q.resolve(context.Background(), got, []string{net.JoinHostPort(host, port)}, time.Second)
	if q.Rcode != "NOERROR" || len(q.Addrs) != 1 || q.Addrs[0] != netip.MustParseAddr("198.18.1.10") ||
		strings.Join(q.Names, ",") != "web.corp.lab.test" {
		t.Fatalf("search list lookup: %+v", q)
	}

	ans, err := LookupDNS(context.Background(), "PINNED.lab.test", true, false, DNSConfig{Hosts: hosts, ResolvConf: resolv})
	if err != nil || ans.Source != hosts || len(ans.A.Addrs) != 1 || len(ans.AAAA.Addrs) != 0 {
		t.Fatalf("hosts file: %+v %v", ans, err)
	}
	if _, _, _, err := (DNSConfig{ResolvConf: filepath.Join(dir, "missing")}).resolvers(); err == nil {
		t.Fatal("a missing resolv.conf must be an error")
	}
	// Lines that are not addresses are skipped, not looked up.
	os.WriteFile(resolv, []byte("nameserver 198.18.1.53:99\nnameserver dns.lab.test\nnameserver 198.18.1.53\nnameserver 2001:db8:1::53\n"), 0o644)
	servers, _, _, err := DNSConfig{ResolvConf: resolv}.resolvers()
	if err != nil || strings.Join(servers, " ") != "198.18.1.53:53 [2001:db8:1::53]:53" {
		t.Fatalf("servers %q, %v", servers, err)
	}
	os.WriteFile(resolv, []byte("nameserver dns.lab.test\n"), 0o644)
	if _, _, _, err := (DNSConfig{ResolvConf: resolv}).resolvers(); err == nil || !strings.Contains(err.Error(), "names no nameserver address") {
		t.Fatalf("no usable nameserver: %v", err)
	}
}
