//go:build linux

package netlab_test

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/netdiag/netdiag/internal/netlab"
)

func TestDNS(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{Servers: 2})
	requireTool(t, "dnsmasq")
	requireTool(t, "getent")
	s0, s1 := lab.Servers[0], lab.Servers[1]
	d := lab.StartDNS(t, netlab.DNSConfig{
		Records: map[string][]netip.Addr{
			"web":             {s0.Addr4, s0.Addr6},
			"v4only.lab.test": {s1.Addr4},
		},
		Rcodes: map[string]int{
			"broken":           dns.RcodeServerFailure,
			"refused.lab.test": dns.RcodeRefused,
		},
	})

	t.Run("resolv.conf", func(t *testing.T) {
		b, err := os.ReadFile("/etc/netns/" + lab.Client.Name + "/resolv.conf")
		if err != nil {
			t.Fatal(err)
		}
		inside := lab.Client.Run(t, "cat", "/etc/resolv.conf")
		if inside != string(b) || !strings.Contains(inside, "nameserver 198.18.1.53\n") {
			t.Errorf("the client sees resolv.conf\n%s\nwant the lab's\n%s", inside, b)
		}
	})

	t.Run("getent", func(t *testing.T) {
		for _, c := range []struct{ db, name, want string }{
			{"ahostsv4", "web", "198.18.1.10"},
			{"ahostsv6", "web.lab.test", "2001:db8:1::10"},
			{"ahostsv4", "v4only", "198.18.1.11"},
		} {
			out, err := lab.Client.Exec("getent", c.db, c.name)
			if err != nil || !strings.HasPrefix(out, c.want+" ") {
				t.Errorf("getent %s %s: %v\n%s", c.db, c.name, err, out)
			}
		}
		if out, err := lab.Client.Exec("getent", "hosts", "nosuch.lab.test"); err == nil {
			t.Errorf("getent resolved a name that has no record:\n%s", out)
		}
	})

	t.Run("answers", func(t *testing.T) {
		cases := []struct {
			server netip.Addr
			name   string
			qtype  uint16
			rcode  int
			answer string // the address in the answer, "" for none
		}{
			{netlab.DNS4, "web.lab.test", dns.TypeA, dns.RcodeSuccess, "198.18.1.10"},
			{netlab.DNS6, "WEB.lab.test", dns.TypeAAAA, dns.RcodeSuccess, "2001:db8:1::10"},
			{netlab.DNS4, "v4only.lab.test", dns.TypeAAAA, dns.RcodeSuccess, ""},
			{netlab.DNS4, "nosuch.lab.test", dns.TypeA, dns.RcodeNameError, ""},
			{netlab.DNS4, "elsewhere.invalid", dns.TypeA, dns.RcodeNameError, ""},
			{netlab.DNS4, "broken.lab.test", dns.TypeA, dns.RcodeServerFailure, ""},
			{netlab.DNS6, "deep.broken.lab.test", dns.TypeAAAA, dns.RcodeServerFailure, ""},
			{netlab.DNS4, "refused.lab.test", dns.TypeA, dns.RcodeRefused, ""},
			{netlab.RcodeDNS4, "web.lab.test", dns.TypeA, dns.RcodeServerFailure, ""},
			{netlab.RcodeDNS6, "refused.lab.test", dns.TypeA, dns.RcodeRefused, ""},
		}
		for _, c := range cases {
			resp, err := query(t, lab.Client, c.server, c.name, c.qtype, time.Second)
			if err != nil {
				t.Errorf("%s %s at %s: %v", dns.TypeToString[c.qtype], c.name, c.server, err)
				continue
			}
			var got string
			for _, rr := range resp.Answer {
				switch rr := rr.(type) {
				case *dns.A:
					got = rr.A.String()
				case *dns.AAAA:
					got = rr.AAAA.String()
				}
			}
			if resp.Rcode != c.rcode || got != c.answer {
				t.Errorf("%s %s at %s: %s %q, want %s %q", dns.TypeToString[c.qtype], c.name, c.server,
					dns.RcodeToString[resp.Rcode], got, dns.RcodeToString[c.rcode], c.answer)
			}
		}
	})

	t.Run("silent", func(t *testing.T) {
		for _, a := range []netip.Addr{netlab.SilentDNS4, netlab.SilentDNS6} {
			start := time.Now()
			resp, err := query(t, lab.Client, a, "web.lab.test", dns.TypeA, 500*time.Millisecond)
			if !isTimeout(err) {
				t.Errorf("%s answered %v, %v; want a timeout", a, resp, err)
			}
			if took := time.Since(start); took < 400*time.Millisecond {
				t.Errorf("%s failed after %v, before the timeout: not silent", a, took)
			}
		}
	})

	// Nothing went anywhere but to the answer-code responder.
	forwards := 0
	for _, line := range strings.Split(d.Dnsmasq.Output(), "\n") {
		if !strings.Contains(line, "forwarded") {
			continue
		}
		forwards++
		if !strings.Contains(line, "broken.lab.test to 198.18.1.54") && !strings.Contains(line, "refused.lab.test to 198.18.1.54") {
			t.Errorf("dnsmasq forwarded something else: %s", line)
		}
	}
	if forwards == 0 {
		t.Errorf("dnsmasq's log shows no forwarding at all; is query logging on?\n%s", d.Dnsmasq.Output())
	}
}

// query asks server about name from inside n with miekg/dns.
func query(t *testing.T, n *netlab.Node, server netip.Addr, name string, qtype uint16, timeout time.Duration) (*dns.Msg, error) {
	t.Helper()
	var resp *dns.Msg
	err := n.Do(func() error {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), qtype)
		c := &dns.Client{Timeout: timeout}
		var err error
		resp, _, err = c.Exchange(m, net.JoinHostPort(server.String(), "53"))
		return err
	})
	return resp, err
}
