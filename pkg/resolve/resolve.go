// Package resolve turns the targets people type (names, IP literals,
// HOST:PORT) into addresses, and turns resolution failures into the
// failure vocabulary: nxdomain, servfail, dns-timeout, no-address. Every
// command resolves through it, so "the name did not resolve" means the same
// thing and exits 3 everywhere.
package resolve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
)

// Family restricts resolution to one address family.
type Family int

// The families, as chosen by -4 and -6.
const (
	Any Family = iota
	IPv4
	IPv6
)

// ParseFamily maps the network names "ip", "ip4" and "ip6" to a Family.
func ParseFamily(network string) Family {
	switch network {
	case "ip4", "tcp4", "udp4":
		return IPv4
	case "ip6", "tcp6", "udp6":
		return IPv6
	}
	return Any
}

// Allows reports whether a is of family f.
func (f Family) Allows(a netip.Addr) bool {
	switch f {
	case IPv4:
		return a.Is4() || a.Is4In6()
	case IPv6:
		return a.Is6() && !a.Is4In6()
	}
	return true
}

func (f Family) String() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	}
	return "IP"
}

// Resolver looks names up. The zero value uses the system's configuration
// (/etc/hosts and /etc/resolv.conf through Go's resolver).
type Resolver struct {
	// Lookup replaces the system lookup, for tests. It returns every
	// address of host of either family.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// Timeout bounds one resolution; zero means 5 s.
	Timeout time.Duration
}

// Error is a failed resolution: the name, the family asked for and the
// reason from the failure vocabulary. It unwraps to the *failure.Failure
// and, through Kind, decides exit code 3.
type Error struct {
	Host    string
	Family  Family
	Failure *failure.Failure
	Err     error
}

func (e *Error) Error() string {
	return fmt.Sprintf("cannot resolve %q: %s", e.Host, e.Failure.Reason.Sentence())
}

// Unwrap exposes the Failure (for errors.As) and the resolver's own error.
func (e *Error) Unwrap() []error {
	return []error{e.Failure, e.Err, &failure.Error{Kind: failure.KindResolve, Msg: e.Error()}}
}

// Addrs resolves host to its addresses of family f, in the resolver's
// order with duplicates removed. An IP literal (with or without a zone) is
// returned as it is, without a lookup, unless it is of the wrong family,
// which is an input error.
func (r *Resolver) Addrs(ctx context.Context, host string, f Family) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		if !f.Allows(a) {
			return nil, failure.Inputf("%s is not an %s address", host, f)
		}
		return []netip.Addr{a.Unmap()}, nil
	}
	if host == "" {
		return nil, failure.Inputf("empty host name")
	}
	if why := badHostName(host); why != "" {
		return nil, failure.Inputf("%q %s", host, why)
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	lookup := r.Lookup
	if lookup == nil {
		lookup = systemLookup
	}
	all, err := lookup(ctx, host)
	if err != nil {
		return nil, &Error{Host: host, Family: f, Failure: classify(err), Err: err}
	}
	var out []netip.Addr
	seen := map[netip.Addr]bool{}
	for _, a := range all {
		a = a.Unmap()
		if f.Allows(a) && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, &Error{Host: host, Family: f, Failure: failure.New(failure.NoAddress, "no "+f.String()+" address"),
			Err: errors.New("no address of the requested family")}
	}
	return out, nil
}

// Addrs resolves with the zero Resolver.
func Addrs(ctx context.Context, host string, f Family) ([]netip.Addr, error) {
	var r Resolver
	return r.Addrs(ctx, host, f)
}

// badHostName says why host, which is not an IP literal, cannot be a host
// name either (RFC 1123: labels of letters, digits and inner hyphens, at
// most 63 bytes each, joined by dots, and never all digits); empty when
// it may be one. Such a string is a typo, and asking
// a resolver about it would turn the typo into "the name does not exist".
// Underscores pass: they appear in real names.
func badHostName(host string) string {
	if len(strings.TrimSuffix(host, ".")) > 253 {
		return "is too long for a host name"
	}
	numeric := true
	for _, c := range host {
		switch {
		case c >= '0' && c <= '9', c == '.':
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_':
			numeric = false
		default:
			return "is not a host name or an IP address"
		}
	}
	if numeric {
		return "is not a valid IPv4 address"
	}
	for _, label := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "is not a host name or an IP address"
		}
	}
	return ""
}

func systemLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// classify maps the resolver's error to a reason. Go's resolver reports
// NXDOMAIN (and a name with no records at all) as "not found", a resolver
// that does not answer as a timeout, and SERVFAIL, REFUSED and garbage as
// temporary "server misbehaving" errors.
func classify(err error) *failure.Failure {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return failure.New(failure.NXDomain, "")
	case errors.As(err, &dnsErr) && dnsErr.IsTimeout, errors.Is(err, context.DeadlineExceeded):
		return failure.New(failure.DNSTimeout, "")
	}
	return failure.New(failure.ServFail, err.Error())
}
