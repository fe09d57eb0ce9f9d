package ping

import (
	"context"
	"math/big"
	"net"
	"net/netip"
	"strings"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/resolve"
)

// MaxTargets bounds the addresses one run probes (all CIDR blocks and
// names together): a /16 of IPv4.
const MaxTargets = 1 << 16

// Targets turns what the user typed into targets: a host name becomes its
// first address of the family asked for, an IP literal (a zone is kept)
// stays itself, and a CIDR block becomes every host address in it (for
// IPv4 without the network and broadcast addresses of blocks larger than
// /31). Names resolve through r (nil: the system resolver); a name that
// does not resolve is a *resolve.Error (exit 3), a bad block or too many
// addresses an input error.
func Targets(ctx context.Context, args []string, fam resolve.Family, r *resolve.Resolver) ([]Target, error) {
	if r == nil {
		r = &resolve.Resolver{}
	}
	var out []Target
	for _, arg := range args {
		if strings.Contains(arg, "/") {
			p, err := netip.ParsePrefix(arg)
			if err != nil {
				return nil, failure.Inputf("ping: %q is not a CIDR block (like 198.18.1.0/28)", arg)
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			if !fam.Allows(p.Addr()) {
				return nil, failure.Inputf("ping: %s is not an %s block", arg, fam)
			}
			if out, err = appendBlock(out, p.Masked()); err != nil {
				return nil, err
			}
			continue
		}
		if host, port, err := net.SplitHostPort(arg); err == nil && port != "" {
			return nil, failure.Inputf("ping: %q: ping takes a host without a port (%s)", arg, host)
		}
		if inner, ok := strings.CutPrefix(arg, "["); ok && strings.HasSuffix(inner, "]") {
			return nil, failure.Inputf("ping: %q: write IPv6 addresses without brackets (%s)", arg, strings.TrimSuffix(inner, "]"))
		}
		addrs, err := r.Addrs(ctx, arg, fam)
		if err != nil {
			return nil, err
		}
		if len(out) >= MaxTargets {
			return nil, tooMany()
		}
		out = append(out, Target{Name: arg, Addr: addrs[0]})
	}
	if len(out) == 0 {
		return nil, failure.Inputf("ping: no target")
	}
	return out, nil
}

func tooMany() error {
	return failure.Inputf("ping: more than %d addresses to probe; split the range", MaxTargets)
}

// appendBlock appends the host addresses of p to out.
func appendBlock(out []Target, p netip.Prefix) ([]Target, error) {
	hostBits := p.Addr().BitLen() - p.Bits()
	size := new(big.Int).Lsh(big.NewInt(1), uint(hostBits))
	if size.Cmp(big.NewInt(int64(MaxTargets-len(out)+2))) > 0 {
		return nil, tooMany()
	}
	n := int(size.Int64())
	first, a := 0, p.Addr()
	if p.Addr().Is4() && hostBits >= 2 {
		first, n = 1, n-1 // no network address, and below no broadcast
		a = a.Next()
	}
	for i := first; i < n; i++ {
		if len(out) >= MaxTargets {
			return nil, tooMany()
		}
		out = append(out, Target{Name: a.String(), Addr: a})
		a = a.Next()
	}
	return out, nil
}
