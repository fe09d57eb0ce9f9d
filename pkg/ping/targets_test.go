package ping

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/resolve"
)

func labResolver() *resolve.Resolver {
	return &resolve.Resolver{Lookup: func(_ context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "web.lab.test":
			return []netip.Addr{netip.MustParseAddr("2001:db8:1::10"), netip.MustParseAddr("198.18.1.10")}, nil
		case "v4only.lab.test":
			return []netip.Addr{netip.MustParseAddr("198.18.1.11")}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}}
}

func TestTargets(t *testing.T) {
	cases := []struct {
		args  []string
		fam   resolve.Family
		names []string
		addrs []string
	}{
		{[]string{"198.18.1.10"}, resolve.Any, []string{"198.18.1.10"}, []string{"198.18.1.10"}},
		{[]string{"web.lab.test"}, resolve.Any, []string{"web.lab.test"}, []string{"2001:db8:1::10"}},
		{[]string{"web.lab.test"}, resolve.IPv4, []string{"web.lab.test"}, []string{"198.18.1.10"}},
		{[]string{"198.18.1.0/30"}, resolve.Any, []string{"198.18.1.1", "198.18.1.2"}, []string{"198.18.1.1", "198.18.1.2"}},
		{[]string{"198.18.1.5/31"}, resolve.Any, nil, []string{"198.18.1.4", "198.18.1.5"}},
		{[]string{"198.18.1.9/32", "fe80::1%lo"}, resolve.Any, nil, []string{"198.18.1.9", "fe80::1%lo"}},
		{[]string{"2001:db8:1::/126"}, resolve.IPv6, nil, []string{"2001:db8:1::", "2001:db8:1::1", "2001:db8:1::2", "2001:db8:1::3"}},
		{[]string{"::ffff:198.18.1.0/126"}, resolve.IPv4, nil, []string{"198.18.1.1", "198.18.1.2"}},
	}
	for _, c := range cases {
		got, err := Targets(context.Background(), c.args, c.fam, labResolver())
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if len(got) != len(c.addrs) {
			t.Fatalf("%v: %v", c.args, got)
		}
		for i, tg := range got {
			if tg.Addr.String() != c.addrs[i] || (c.names != nil && tg.Name != c.names[i]) {
				t.Fatalf("%v: target %d is %+v", c.args, i, tg)
			}
		}
	}
	got, err := Targets(context.Background(), []string{"198.18.1.0/28"}, resolve.Any, nil)
	if err != nil || len(got) != 14 || got[0].Addr.String() != "198.18.1.1" || got[13].Addr.String() != "198.18.1.14" {
		t.Fatalf("/28: %v %v", got, err)
	}
}

func TestTargetErrors(t *testing.T) {
	cases := []struct {
		args []string
		fam  resolve.Family
		kind failure.Kind
	}{
		{[]string{"198.18.1.0/33"}, resolve.Any, failure.KindInput},
		{[]string{"nonsense/x"}, resolve.Any, failure.KindInput},
		{[]string{"2001:db8::/64"}, resolve.Any, failure.KindInput},
		{[]string{"10.0.0.0/8"}, resolve.Any, failure.KindInput},
		{[]string{"198.18.0.0/16", "198.19.0.0/30", "198.18.1.1"}, resolve.Any, failure.KindInput},
		{[]string{"198.18.1.0/24"}, resolve.IPv6, failure.KindInput},
		{[]string{"2001:db8:1::10"}, resolve.IPv4, failure.KindInput},
		{[]string{"nope.lab.test"}, resolve.Any, failure.KindResolve},
		{[]string{"v4only.lab.test"}, resolve.IPv6, failure.KindResolve},
		{nil, resolve.Any, failure.KindInput},
		{[]string{"198.18.1.10:80"}, resolve.Any, failure.KindInput},
		{[]string{"web.lab.test:443"}, resolve.Any, failure.KindInput},
		{[]string{"[2001:db8::1]:80"}, resolve.Any, failure.KindInput},
		{[]string{"[2001:db8::1]"}, resolve.Any, failure.KindInput},
		{[]string{"300.1.1.1"}, resolve.Any, failure.KindInput},
	}
	for _, c := range cases {
		_, err := Targets(context.Background(), c.args, c.fam, labResolver())
		var fe *failure.Error
		if !errors.As(err, &fe) || fe.Kind != c.kind {
			t.Errorf("%v (%v): got %v, want kind %d", c.args, c.fam, err, c.kind)
		}
	}
}
