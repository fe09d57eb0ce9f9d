package diagnose

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/netdiag/netdiag/pkg/failure"
)

// DNSConfig says where and how to ask. The zero value reads the system's
// /etc/resolv.conf and /etc/hosts.
type DNSConfig struct {
	// Servers are "host:port" resolver addresses; empty means the
	// nameservers of ResolvConf.
	Servers []string
	// ResolvConf and Hosts are the files read when Servers is empty and
	// for static names; empty means /etc/resolv.conf and /etc/hosts.
	ResolvConf string
	Hosts      string
	// Timeout bounds each query to each server; zero means 2 s.
	Timeout time.Duration
}

// DNSAnswer is the outcome of resolving one name: what each record type
// returned, from which server, how long it took and the response code.
type DNSAnswer struct {
	Name string
	// Source is the resolver address that answered, or the hosts file's
	// path.
	Source string
	// FromHosts is set when the hosts file gave the addresses (no query
	// was sent, so there are no response codes).
	FromHosts bool
	A         []netip.Addr
	AAAA      []netip.Addr
	// ARcode and AAAARcode are the DNS response codes ("NOERROR",
	// "NXDOMAIN", "SERVFAIL", ...), empty when no server answered.
	ARcode, AAAARcode string
	// AElapsed and AAAAElapsed time each query up to its answer.
	AElapsed, AAAAElapsed time.Duration
}

// Addrs returns the addresses of the families asked for, IPv4 first.
func (a *DNSAnswer) Addrs() []netip.Addr {
	return append(append([]netip.Addr(nil), a.A...), a.AAAA...)
}

// queryResult is one record type's outcome.
type queryResult struct {
	addrs   []netip.Addr
	rcode   int
	server  string
	elapsed time.Duration
	err     error // nil when a server answered (whatever the rcode)
}

// LookupDNS asks the configured resolvers for name's A and AAAA records in
// parallel (only one of them when want4 or want6 is false) and classifies
// the outcome with the failure vocabulary. Unlike the system resolver it
// keeps the response code and the timing, so NXDOMAIN, SERVFAIL, REFUSED,
// a resolver that does not answer, and a name without an address of the
// asked family are told apart. Names in the hosts file are answered from
// it, as the system resolver would.
func LookupDNS(ctx context.Context, name string, want4, want6 bool, cfg DNSConfig) (*DNSAnswer, error) {
	ans := &DNSAnswer{Name: name}
	if addrs := lookupHostsFile(cfg.Hosts, name); len(addrs) > 0 {
		ans.Source, ans.FromHosts = hostsPath(cfg.Hosts), true
		for _, a := range addrs {
			switch {
			case a.Is4() && want4:
				ans.A = append(ans.A, a)
			case a.Is6() && want6:
				ans.AAAA = append(ans.AAAA, a)
			}
		}
		if len(ans.A)+len(ans.AAAA) == 0 {
			return ans, failure.New(failure.NoAddress, "the hosts file has no address of the requested family")
		}
		return ans, nil
	}

	servers, search, ndots, err := cfg.resolvers()
	if err != nil {
		return ans, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	var (
		wg       sync.WaitGroup
		res4     = queryResult{err: errNotAsked}
		res6     = queryResult{err: errNotAsked}
		fqdnList = candidates(name, search, ndots)
	)
	if want4 {
		wg.Add(1)
		go func() { defer wg.Done(); res4 = resolveType(ctx, fqdnList, dns.TypeA, servers, timeout) }()
	}
	if want6 {
		wg.Add(1)
		go func() { defer wg.Done(); res6 = resolveType(ctx, fqdnList, dns.TypeAAAA, servers, timeout) }()
	}
	wg.Wait()

	ans.A, ans.AElapsed, ans.ARcode = res4.addrs, res4.elapsed, rcodeName(res4)
	ans.AAAA, ans.AAAAElapsed, ans.AAAARcode = res6.addrs, res6.elapsed, rcodeName(res6)
	ans.Source = res4.server
	if ans.Source == "" {
		ans.Source = res6.server
	}
	if len(ans.A)+len(ans.AAAA) > 0 {
		return ans, nil
	}
	return ans, classifyDNS(res4, res6)
}

var errNotAsked = errors.New("not asked")

func rcodeName(r queryResult) string {
	if r.err != nil {
		return ""
	}
	return dns.RcodeToString[r.rcode]
}

// classifyDNS picks the reason when no address came back. A definite
// answer from a server outranks a timeout of the other query.
func classifyDNS(results ...queryResult) *failure.Failure {
	answered, timedOut := false, false
	for _, r := range results {
		switch {
		case errors.Is(r.err, errNotAsked):
			continue
		case r.err != nil:
			timedOut = true
			continue
		}
		answered = true
		switch r.rcode {
		case dns.RcodeNameError:
			return failure.New(failure.NXDomain, "from "+r.server)
		case dns.RcodeServerFailure:
			return failure.New(failure.ServFail, "from "+r.server)
		case dns.RcodeRefused:
			return failure.New(failure.DNSRefused, "from "+r.server)
		case dns.RcodeSuccess:
		default:
			return failure.New(failure.ServFail, dns.RcodeToString[r.rcode]+" from "+r.server)
		}
	}
	if answered {
		return failure.New(failure.NoAddress, "the name exists but has no address of the requested family")
	}
	if timedOut {
		return failure.New(failure.DNSTimeout, "no resolver answered")
	}
	return failure.New(failure.NoAddress, "")
}

// resolveType tries each candidate name on each server until one answers
// with something other than NXDOMAIN, as a stub resolver walks its search
// list. The last answer (or error) is returned when none succeeds.
func resolveType(ctx context.Context, names []string, qtype uint16, servers []string, timeout time.Duration) queryResult {
	start := time.Now()
	last := queryResult{err: errors.New("no resolver configured")}
	for _, fqdn := range names {
		r := queryServers(ctx, fqdn, qtype, servers, timeout)
		r.elapsed = time.Since(start)
		last = r
		if r.err == nil && r.rcode != dns.RcodeNameError {
			return r
		}
		if ctx.Err() != nil {
			break
		}
	}
	return last
}

// queryServers asks each server in turn, moving on only when one does not
// answer or answers SERVFAIL/REFUSED.
func queryServers(ctx context.Context, fqdn string, qtype uint16, servers []string, timeout time.Duration) queryResult {
	msg := new(dns.Msg)
	msg.SetQuestion(fqdn, qtype)
	msg.RecursionDesired = true
	client := &dns.Client{Net: "udp", Timeout: timeout}
	var last queryResult
	for _, srv := range servers {
		qctx, cancel := context.WithTimeout(ctx, timeout)
		in, _, err := client.ExchangeContext(qctx, msg, srv)
		cancel()
		if err == nil && in.Truncated {
			tcp := &dns.Client{Net: "tcp", Timeout: timeout}
			qctx, cancel := context.WithTimeout(ctx, timeout)
			in, _, err = tcp.ExchangeContext(qctx, msg, srv)
			cancel()
		}
		if err != nil {
			last = queryResult{server: srv, err: err}
			continue
		}
		last = queryResult{server: srv, rcode: in.Rcode}
		for _, rr := range in.Answer {
			switch v := rr.(type) {
			case *dns.A:
				if a, ok := netip.AddrFromSlice(v.A.To4()); ok && qtype == dns.TypeA {
					last.addrs = append(last.addrs, a)
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(v.AAAA); ok && qtype == dns.TypeAAAA {
					last.addrs = append(last.addrs, a)
				}
			}
		}
		if in.Rcode == dns.RcodeSuccess || in.Rcode == dns.RcodeNameError {
			return last
		}
	}
	return last
}

// resolvers returns the servers, search list and ndots to use.
func (c DNSConfig) resolvers() (servers, search []string, ndots int, err error) {
	if len(c.Servers) > 0 {
		return c.Servers, nil, 1, nil
	}
	path := c.ResolvConf
	if path == "" {
		path = "/etc/resolv.conf"
	}
	conf, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, nil, 0, failure.Localf(err, "cannot read the resolver configuration %s: %v", path, err)
	}
	for _, s := range conf.Servers {
		servers = append(servers, net.JoinHostPort(s, conf.Port))
	}
	if len(servers) == 0 {
		return nil, nil, 0, failure.Localf(nil, "%s names no nameserver", path)
	}
	return servers, conf.Search, conf.Ndots, nil
}

// candidates lists the fully qualified names a stub resolver would try,
// in order: the name itself first when it has at least ndots dots (or
// ends with a dot), then the name with each search domain.
func candidates(name string, search []string, ndots int) []string {
	if strings.HasSuffix(name, ".") {
		return []string{name}
	}
	var out []string
	asIs := dns.Fqdn(name)
	if strings.Count(name, ".") >= ndots {
		out = append(out, asIs)
	}
	for _, s := range search {
		out = append(out, dns.Fqdn(name+"."+strings.TrimSuffix(s, ".")))
	}
	if strings.Count(name, ".") < ndots {
		out = append(out, asIs)
	}
	return out
}

func hostsPath(p string) string {
	if p == "" {
		return "/etc/hosts"
	}
	return p
}

// lookupHostsFile returns the addresses the hosts file gives name.
func lookupHostsFile(path, name string) []netip.Addr {
	f, err := os.Open(hostsPath(path))
	if err != nil {
		return nil
	}
	defer f.Close()
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	var out []netip.Addr
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		addr, err := netip.ParseAddr(fields[0])
		if err != nil {
			continue
		}
		for _, h := range fields[1:] {
			if strings.ToLower(h) == name {
				out = append(out, addr.Unmap())
				break
			}
		}
	}
	return out
}
