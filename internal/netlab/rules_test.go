package netlab

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// These run without root: the translation of faults into nftables rules
// and of DNS records into dnsmasq's input.

func TestFaultRules(t *testing.T) {
	srv4 := netip.MustParseAddr("198.18.1.10")
	srv6 := netip.MustParseAddr("2001:db8:1::10")
	cases := []struct {
		f     Fault
		rules []string
		err   string
	}{
		{f: Fault{Action: Drop}, rules: []string{"drop"}},
		{f: Fault{Action: Drop, Dst: srv4}, rules: []string{"ip daddr 198.18.1.10 drop"}},
		{f: Fault{Action: Drop, DstNet: netip.MustParsePrefix("198.18.1.77/24")}, rules: []string{"ip daddr 198.18.1.0/24 drop"}},
		{f: Fault{Action: Drop, Proto: ICMP}, rules: []string{"icmp type echo-request drop", "icmpv6 type echo-request drop"}},
		{f: Fault{Action: RejectAdminProhibited, Dst: srv6, Proto: ICMP}, rules: []string{"ip6 daddr 2001:db8:1::10 icmpv6 type echo-request reject with icmpx type admin-prohibited"}},
		{f: Fault{Action: RejectHostUnreachable, Dst: srv4, Proto: TCP}, rules: []string{"ip daddr 198.18.1.10 meta l4proto tcp reject with icmpx type host-unreachable"}},
		{f: Fault{Action: RejectNetUnreachable, Dst: srv4, Proto: UDP, Port: 53}, rules: []string{"ip daddr 198.18.1.10 udp dport 53 reject with icmpx type no-route"}},
		{f: Fault{Action: RejectPortUnreachable, Proto: UDP, Port: 5353}, rules: []string{"udp dport 5353 reject with icmpx type port-unreachable"}},
		{f: Fault{Action: RejectTCPReset, Dst: srv6, Port: 443}, rules: []string{"ip6 daddr 2001:db8:1::10 tcp dport 443 reject with tcp reset"}},
		{f: Fault{Action: RejectTCPReset}, rules: []string{"meta l4proto tcp reject with tcp reset"}},
		{f: Fault{Action: Drop, Dst: netip.MustParseAddr("::ffff:198.18.1.10")}, rules: []string{"ip daddr 198.18.1.10 drop"}},
		{f: Fault{}, err: "unknown action"},
		{f: Fault{Action: Drop, Dst: srv4, DstNet: netip.MustParsePrefix("198.18.1.0/24")}, err: "not both"},
		{f: Fault{Action: Drop, Proto: "sctp"}, err: "unknown protocol"},
		{f: Fault{Action: RejectTCPReset, Proto: UDP}, err: "TCP reset"},
		{f: Fault{Action: Drop, Port: 80}, err: "port needs"},
		{f: Fault{Action: Drop, Proto: ICMP, Port: 80}, err: "port needs"},
	}
	for _, c := range cases {
		rules, err := c.f.rules()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%+v: error %v, want one about %q", c.f, err, c.err)
			}
			continue
		}
		if err != nil || strings.Join(rules, "\n") != strings.Join(c.rules, "\n") {
			t.Errorf("%+v:\n got %q, %v\nwant %q", c.f, rules, err, c.rules)
		}
	}
}

func TestHostsFile(t *testing.T) {
	got, err := hostsFile(map[string][]netip.Addr{
		"web":             {netip.MustParseAddr("198.18.1.10"), netip.MustParseAddr("2001:db8:1::10")},
		"API.Lab.Test.":   {netip.MustParseAddr("198.18.1.11")},
		"local.lab.test":  {netip.MustParseAddr("127.0.0.1")},
		"other.lab.test2": {netip.MustParseAddr("::ffff:198.18.1.12")},
	})
	want := "127.0.0.1 local.lab.test\n" +
		"198.18.1.10 web.lab.test\n" +
		"198.18.1.11 api.lab.test\n" +
		"198.18.1.12 other.lab.test2\n" +
		"2001:db8:1::10 web.lab.test\n"
	if err != nil || got != want {
		t.Errorf("hostsFile:\n%s%v\nwant\n%s", got, err, want)
	}
	for _, bad := range []map[string][]netip.Addr{
		{"web": {netip.MustParseAddr("192.0.2.1")}},
		{"web": {netip.MustParseAddr("2001:db9::1")}},
		{"two words": {netip.MustParseAddr("198.18.1.10")}},
		{"": {netip.MustParseAddr("198.18.1.10")}},
	} {
		if _, err := hostsFile(bad); err == nil {
			t.Errorf("hostsFile accepted %v", bad)
		}
	}
}

func TestLookupRcode(t *testing.T) {
	rcodes := map[string]int{
		"broken.lab.test.":    dns.RcodeServerFailure,
		"ok.broken.lab.test.": dns.RcodeRefused,
	}
	for name, want := range map[string]int{
		"broken.lab.test.":          dns.RcodeServerFailure,
		"a.b.BROKEN.lab.test.":      dns.RcodeServerFailure,
		"x.ok.broken.lab.test":      dns.RcodeRefused,
		"unrelated.lab.test.":       dns.RcodeServerFailure,
		"notbroken.lab.test.":       dns.RcodeServerFailure,
		".":                         dns.RcodeServerFailure,
		"ok.broken.lab.test.extra.": dns.RcodeServerFailure,
	} {
		if got := lookupRcode(rcodes, name); got != want {
			t.Errorf("lookupRcode(%q) = %s, want %s", name, dns.RcodeToString[got], dns.RcodeToString[want])
		}
	}
}

func TestServerAddrs(t *testing.T) {
	a4, a6 := serverAddrs(10)
	if a4.String() != "198.18.1.10" || a6.String() != "2001:db8:1::10" {
		t.Errorf("serverAddrs(10) = %s, %s", a4, a6)
	}
	plan := []netip.Prefix{ClientNet4, ServerNet4, TransitNet4, LoopNet4, UnreachableNet4, ProhibitNet4, NoRouteNet4, FreeNet4,
		ClientNet6, ServerNet6, TransitNet6, LoopNet6, UnreachableNet6, ProhibitNet6, NoRouteNet6, FreeNet6}
	for i, p := range plan {
		if !inLab(p) {
			t.Errorf("%s is outside the lab ranges", p)
		}
		for _, q := range plan[i+1:] {
			if p.Overlaps(q) {
				t.Errorf("%s overlaps %s", p, q)
			}
		}
	}
	for _, p := range []netip.Prefix{netip.MustParsePrefix("198.0.0.0/8"), netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/31")} {
		if inLab(p) {
			t.Errorf("%s counts as inside the lab ranges", p)
		}
	}
}
