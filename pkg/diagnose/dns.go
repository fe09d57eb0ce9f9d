package diagnose

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
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
	// A and AAAA are the two queries; a query not asked for has an empty
	// Type.
	A, AAAA DNSQuery
}

// DNSQuery is the outcome of one record type's query.
type DNSQuery struct {
	// Type is "A" or "AAAA"; empty when the query was not asked for.
	Type string
	// Names are the names asked, in order: the name as given and, as a
	// stub resolver does, the name in each search domain.
	Names []string
	// Server is the resolver whose answer counts; empty when none
	// answered.
	Server string
	// Rcode is the DNS response code ("NOERROR", "NXDOMAIN",
	// "SERVFAIL", ...), empty when no server answered.
	Rcode string
	// Addrs are the usable addresses of the answer.
	Addrs []netip.Addr
	// Unusable are answers no host can be reached at (0.0.0.0, ::),
	// left out of Addrs: DNS filters give them to the names they block.
	Unusable []netip.Addr
	// Unanswered says, for each resolver that gave no answer, why
	// ("198.18.1.55:53: no answer within 2s"), in the order asked.
	Unanswered []string
	// Elapsed times the query up to its answer.
	Elapsed time.Duration
}

// Addrs returns the addresses of the families asked for, IPv4 first.
func (a *DNSAnswer) Addrs() []netip.Addr {
	return append(append([]netip.Addr(nil), a.A.Addrs...), a.AAAA.Addrs...)
}

// LookupDNS asks the configured resolvers for name's A and AAAA records in
// parallel (only one of them when want4 or want6 is false) and classifies
// the outcome with the failure vocabulary. Unlike the system resolver it
// keeps the response code and the timing, so NXDOMAIN, SERVFAIL, REFUSED,
// a resolver that does not answer, and a name without an address of the
// asked family are told apart. Names in the hosts file are answered from
// it, as the system resolver would.
//
// Each query waits cfg.Timeout for each resolver, and asks each resolver
// once; resolv.conf's timeout and attempts options, which say how long
// applications wait, are not used: a resolver that needs longer than the
// diagnosis's timeout is reported as not answering. A resolver that did
// not answer is not asked again for the other names of the search list.
func LookupDNS(ctx context.Context, name string, want4, want6 bool, cfg DNSConfig) (*DNSAnswer, error) {
	ans := &DNSAnswer{Name: name}
	if want4 {
		ans.A.Type = "A"
	}
	if want6 {
		ans.AAAA.Type = "AAAA"
	}
	if err := CheckHostName(name); err != nil {
		return ans, err
	}
	if addrs := lookupHostsFile(cfg.Hosts, name); len(addrs) > 0 {
		ans.Source, ans.FromHosts = hostsPath(cfg.Hosts), true
		for _, a := range addrs {
			switch {
			case a.Is4() && want4:
				ans.A.Addrs = append(ans.A.Addrs, a)
			case a.Is6() && want6:
				ans.AAAA.Addrs = append(ans.AAAA.Addrs, a)
			}
		}
		if len(ans.A.Addrs)+len(ans.AAAA.Addrs) == 0 {
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
	names := candidates(name, search, ndots)
	var wg sync.WaitGroup
	for _, q := range []*DNSQuery{&ans.A, &ans.AAAA} {
		if q.Type == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.resolve(ctx, names, servers, timeout)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return ans, fmt.Errorf("diagnose: resolve %s: %w", name, err)
	}
	ans.Source = ans.A.Server
	if ans.Source == "" {
		ans.Source = ans.AAAA.Server
	}
	if len(ans.A.Addrs)+len(ans.AAAA.Addrs) > 0 {
		return ans, nil
	}
	return ans, classifyDNS(ans.A, ans.AAAA)
}

// CheckHostName refuses, as an input error, what cannot be a host name:
// characters other than letters, digits, '-' and '_', an empty label, a
// label longer than 63 bytes or a name longer than 253. A name that fails
// here would never reach a resolver.
func CheckHostName(name string) error {
	n := strings.TrimSuffix(name, ".")
	if n == "" {
		return failure.Inputf("empty host name")
	}
	if len(n) > 253 {
		return failure.Inputf("the host name is %d bytes long, more than DNS allows (253)", len(n))
	}
	for _, label := range strings.Split(n, ".") {
		switch {
		case label == "":
			return failure.Inputf("%q is not a valid host name: it has an empty label", name)
		case len(label) > 63:
			return failure.Inputf("%q is not a valid host name: a label is longer than 63 bytes", name)
		}
		for _, c := range label {
			if c != '-' && c != '_' && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') && !('0' <= c && c <= '9') {
				return failure.Inputf("%q is not a valid host name: %q is not allowed in one", name, c)
			}
		}
	}
	return nil
}

// classifyDNS picks the reason when no usable address came back. A
// definite answer from a server outranks a timeout of the other query.
func classifyDNS(queries ...DNSQuery) *failure.Failure {
	answered, timedOut := false, false
	var unusable []netip.Addr
	for _, q := range queries {
		switch {
		case q.Type == "":
			continue
		case q.Rcode == "":
			timedOut = true
			continue
		}
		answered = true
		unusable = append(unusable, q.Unusable...)
		switch q.Rcode {
		case "NXDOMAIN":
			return failure.New(failure.NXDomain, "from "+q.Server)
		case "SERVFAIL":
			return failure.New(failure.ServFail, "from "+q.Server)
		case "REFUSED":
			return failure.New(failure.DNSRefused, "from "+q.Server)
		case "NOERROR":
		default:
			return failure.New(failure.ServFail, q.Rcode+" from "+q.Server)
		}
	}
	switch {
	case len(unusable) > 0:
		return failure.New(failure.NoAddress, unusableDetail(unusable))
	case answered:
		return failure.New(failure.NoAddress, "")
	case timedOut:
		return failure.New(failure.DNSTimeout, "no resolver answered")
	}
	return failure.New(failure.NoAddress, "")
}

// unusableDetail says what an answer of only unusable addresses means.
func unusableDetail(addrs []netip.Addr) string {
	return "the resolver answers " + joinAddrs(addrs, ", ") + ", the answer DNS filters give to names they block"
}

// resolve tries each candidate name on each server until one answers
// with something other than NXDOMAIN, as a stub resolver walks its search
// list; the last answer counts when none does. A server that gives no
// answer is not asked again.
func (q *DNSQuery) resolve(ctx context.Context, names, servers []string, timeout time.Duration) {
	qtype := dns.TypeA
	if q.Type == "AAAA" {
		qtype = dns.TypeAAAA
	}
	start := time.Now()
	alive := servers
	for _, fqdn := range names {
		if len(alive) == 0 || ctx.Err() != nil {
			break
		}
		q.Names = append(q.Names, strings.TrimSuffix(fqdn, "."))
		r := queryServers(ctx, fqdn, qtype, alive, timeout)
		q.Elapsed = time.Since(start)
		q.Server, q.Rcode, q.Addrs, q.Unusable = r.server, r.rcode, nil, nil
		for _, a := range r.addrs {
			if a.IsUnspecified() {
				q.Unusable = append(q.Unusable, a)
			} else {
				q.Addrs = append(q.Addrs, a)
			}
		}
		for _, u := range r.unanswered {
			q.Unanswered = append(q.Unanswered, u.server+": "+u.why)
			alive = slices.DeleteFunc(slices.Clone(alive), func(s string) bool { return s == u.server })
		}
		if r.rcode != "" && r.rcode != "NXDOMAIN" {
			return
		}
	}
}

// serverAnswer is one name's outcome over the servers.
type serverAnswer struct {
	server     string // the server whose answer counts; "" when none answered
	rcode      string
	addrs      []netip.Addr
	unanswered []silentServer
}

// silentServer is a resolver that gave no answer, and why.
type silentServer struct{ server, why string }

// queryServers asks each server in turn, moving on only when one does not
// answer or answers SERVFAIL/REFUSED.
func queryServers(ctx context.Context, fqdn string, qtype uint16, servers []string, timeout time.Duration) serverAnswer {
	msg := new(dns.Msg)
	msg.SetQuestion(fqdn, qtype)
	msg.RecursionDesired = true
	client := &dns.Client{Net: "udp", Timeout: timeout}
	var out serverAnswer
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
			if ctx.Err() != nil {
				return out
			}
			out.unanswered = append(out.unanswered, silentServer{srv, queryErrorWords(err, timeout)})
			continue
		}
		out.server, out.rcode, out.addrs = srv, dns.RcodeToString[in.Rcode], nil
		for _, rr := range in.Answer {
			switch v := rr.(type) {
			case *dns.A:
				if a, ok := netip.AddrFromSlice(v.A.To4()); ok && qtype == dns.TypeA {
					out.addrs = append(out.addrs, a)
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(v.AAAA); ok && qtype == dns.TypeAAAA {
					out.addrs = append(out.addrs, a)
				}
			}
		}
		if in.Rcode == dns.RcodeSuccess || in.Rcode == dns.RcodeNameError {
			return out
		}
	}
	return out
}

// queryErrorWords says why a resolver gave no answer, in plain words.
func queryErrorWords(err error, timeout time.Duration) string {
	var errno syscall.Errno
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused with ICMP port unreachable: nothing serves DNS there"
	case errors.As(err, &errno):
		return "the query could not be sent or answered: " + errno.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer within " + timeout.String()
	}
	return "no usable answer: " + err.Error()
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
		// As the C library does, a nameserver line that is not an
		// address is skipped: it must not become a name lookup of its
		// own.
		if _, err := netip.ParseAddr(s); err == nil {
			servers = append(servers, net.JoinHostPort(s, conf.Port))
		}
	}
	if len(servers) == 0 {
		return nil, nil, 0, failure.Localf(nil, "%s names no nameserver address", path)
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
		// A search domain that makes the name too long for DNS is
		// skipped, as stub resolvers do.
		if fqdn := dns.Fqdn(name + "." + strings.TrimSuffix(s, ".")); len(fqdn) <= 254 {
			out = append(out, fqdn)
		}
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
