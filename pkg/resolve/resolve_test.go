package resolve

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/netdiag/netdiag/pkg/failure"
)

func fixed(addrs []string, err error) func(context.Context, string) ([]netip.Addr, error) {
	return func(context.Context, string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, s := range addrs {
			out = append(out, netip.MustParseAddr(s))
		}
		return out, err
	}
}

func TestAddrs(t *testing.T) {
	both := fixed([]string{"198.18.1.10", "2001:db8:1::10", "::ffff:198.18.1.10", "198.18.1.11"}, nil)
	cases := []struct {
		name   string
		host   string
		fam    Family
		lookup func(context.Context, string) ([]netip.Addr, error)
		want   []string
		reason failure.Reason
		kind   failure.Kind
	}{
		{name: "v4 literal", host: "198.18.1.10", want: []string{"198.18.1.10"}},
		{name: "v6 literal", host: "2001:db8::1", fam: IPv6, want: []string{"2001:db8::1"}},
		{name: "literal of wrong family", host: "2001:db8::1", fam: IPv4, kind: failure.KindInput},
		{name: "any family, mapped deduplicated", host: "web.lab.test", lookup: both, want: []string{"198.18.1.10", "2001:db8:1::10", "198.18.1.11"}},
		{name: "v4 only", host: "web.lab.test", fam: IPv4, lookup: both, want: []string{"198.18.1.10", "198.18.1.11"}},
		{name: "v6 only", host: "web.lab.test", fam: IPv6, lookup: both, want: []string{"2001:db8:1::10"}},
		{name: "no v6", host: "v4.lab.test", fam: IPv6, lookup: fixed([]string{"198.18.1.10"}, nil), reason: failure.NoAddress, kind: failure.KindResolve},
		{name: "nxdomain", host: "nope.lab.test", lookup: fixed(nil, &net.DNSError{Err: "no such host", IsNotFound: true}), reason: failure.NXDomain, kind: failure.KindResolve},
		{name: "timeout", host: "slow.lab.test", lookup: fixed(nil, &net.DNSError{Err: "i/o timeout", IsTimeout: true}), reason: failure.DNSTimeout, kind: failure.KindResolve},
		{name: "servfail", host: "broken.lab.test", lookup: fixed(nil, &net.DNSError{Err: "server misbehaving", IsTemporary: true}), reason: failure.ServFail, kind: failure.KindResolve},
		{name: "empty", host: "", lookup: both, kind: failure.KindInput},
		{name: "underscore", host: "_srv.lab.test", lookup: both, want: []string{"198.18.1.10", "2001:db8:1::10", "198.18.1.11"}},
		{name: "trailing dot", host: "web.lab.test.", lookup: both, want: []string{"198.18.1.10", "2001:db8:1::10", "198.18.1.11"}},
		{name: "bad dotted quad", host: "300.1.1.1", lookup: both, kind: failure.KindInput},
		{name: "short dotted quad", host: "198.18.1", lookup: both, kind: failure.KindInput},
		{name: "a number", host: "1234", lookup: both, kind: failure.KindInput},
		{name: "host and port", host: "198.18.1.10:80", lookup: both, kind: failure.KindInput},
		{name: "bracketed v6", host: "[2001:db8::1]", lookup: both, kind: failure.KindInput},
		{name: "space", host: "web lab", lookup: both, kind: failure.KindInput},
		{name: "leading hyphen", host: "-x.lab.test", lookup: both, kind: failure.KindInput},
		{name: "empty label", host: "web..lab.test", lookup: both, kind: failure.KindInput},
		{name: "long label", host: strings.Repeat("a", 64) + ".test", lookup: both, kind: failure.KindInput},
		{name: "inner hyphen", host: "my-web.lab.test", lookup: both, want: []string{"198.18.1.10", "2001:db8:1::10", "198.18.1.11"}},
		{name: "url", host: "https://web.lab.test/", lookup: both, kind: failure.KindInput},
		{name: "too long", host: strings.Repeat("a.", 127) + "ab", lookup: both, kind: failure.KindInput},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Resolver{Lookup: c.lookup}
			got, err := r.Addrs(context.Background(), c.host, c.fam)
			if c.kind != 0 {
				var k *failure.Error
				if !errors.As(err, &k) || k.Kind != c.kind {
					t.Fatalf("error %v: want kind %d", err, c.kind)
				}
				if c.reason != "" {
					var f *failure.Failure
					if !errors.As(err, &f) || f.Reason != c.reason || f.Layer != failure.LayerDNS {
						t.Fatalf("error %v: want reason %s at dns", err, c.reason)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v want %v", got, c.want)
			}
			for i := range got {
				if got[i].String() != c.want[i] {
					t.Fatalf("got %v want %v", got, c.want)
				}
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	r := Resolver{Lookup: fixed(nil, &net.DNSError{Err: "no such host", IsNotFound: true})}
	_, err := r.Addrs(context.Background(), "nope.lab.test", Any)
	want := `cannot resolve "nope.lab.test": the name does not exist (NXDOMAIN)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v want %s", err, want)
	}
}

func TestSplitHostPort(t *testing.T) {
	cases := []struct {
		in      string
		def     int
		host    string
		port    int
		wantErr bool
	}{
		{"198.18.1.10:80", 0, "198.18.1.10", 80, false},
		{"web.lab.test:443", 0, "web.lab.test", 443, false},
		{"web.lab.test", 443, "web.lab.test", 443, false},
		{"[2001:db8::1]:22", 0, "2001:db8::1", 22, false},
		{"[2001:db8::1]", 443, "2001:db8::1", 443, false},
		{"2001:db8::1", 443, "2001:db8::1", 443, false},
		{"web.lab.test", 0, "", 0, true},
		{"web.lab.test:0", 0, "", 0, true},
		{"web.lab.test:65536", 0, "", 0, true},
		{"web.lab.test:http", 0, "", 0, true},
		{"web.lab.test:+80", 0, "", 0, true},
		{"web.lab.test:-80", 0, "", 0, true},
		{"web.lab.test:99999999999999999999", 0, "", 0, true},
		{"web.lab.test:080", 0, "web.lab.test", 80, false},
		{":80", 0, "", 0, true},
		{"[2001:db8::1:80", 0, "", 0, true},
		{"[2001:db8::1]80", 0, "", 0, true},
		{"2001:db8::zz", 443, "", 0, true},
		{"", 443, "", 0, true},
	}
	for _, c := range cases {
		h, p, err := SplitHostPort(c.in, c.def)
		if c.wantErr {
			var k *failure.Error
			if !errors.As(err, &k) || k.Kind != failure.KindInput {
				t.Errorf("%q: want input error, got %q,%d,%v", c.in, h, p, err)
			}
			continue
		}
		if err != nil || h != c.host || p != c.port {
			t.Errorf("%q: got %q,%d,%v want %q,%d", c.in, h, p, err, c.host, c.port)
		}
	}
}
