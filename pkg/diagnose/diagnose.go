package diagnose

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/handshake"
	"github.com/netdiag/netdiag/pkg/ping"
	"github.com/netdiag/netdiag/pkg/resolve"
	"github.com/netdiag/netdiag/pkg/route"
	"github.com/netdiag/netdiag/pkg/tlsprobe"
)

// DefaultPort is the port diagnosed when none is given.
const DefaultPort = 443

// DefaultTimeout is the wait per probe when Options.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// TLSByDefault reports whether a port usually carries TLS from the first
// byte: HTTPS, SMTPS, LDAPS, DNS over TLS, IMAPS, POP3S and 8443.
func TLSByDefault(port int) bool {
	switch port {
	case 443, 465, 636, 853, 993, 995, 8443:
		return true
	}
	return false
}

// Options say what to diagnose and how long to wait.
type Options struct {
	// Port is the TCP port of the service, 1-65535.
	Port int
	// TLS adds the TLS step (see TLSByDefault for the usual choice).
	TLS bool
	// HTTP adds the application step: a HEAD request for HTTPPath ("/"
	// when empty), over TLS when TLS is set.
	HTTP     bool
	HTTPPath string
	// Roots verifies the server's certificate; nil means the system's.
	Roots *x509.CertPool
	// Family restricts the diagnosis to IPv4 or IPv6; resolve.Any
	// diagnoses every family the name has an address of.
	Family resolve.Family
	// Timeout bounds each probe (a DNS query, an echo request, a TCP
	// handshake, each step of the TLS handshake); zero means
	// DefaultTimeout.
	Timeout time.Duration
	// DNS says which resolvers to ask; its zero value reads
	// /etc/resolv.conf. A zero DNS.Timeout takes Timeout.
	DNS DNSConfig
	// MaxHops bounds the path probe; zero means DefaultMaxHops.
	MaxHops int
	// PingSocket chooses the ICMP socket kind (raw when permitted,
	// otherwise datagram, by default).
	PingSocket ping.SocketKind
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.DNS.Timeout <= 0 {
		o.DNS.Timeout = o.Timeout
	}
	if o.MaxHops <= 0 {
		o.MaxHops = DefaultMaxHops
	}
	if o.HTTPPath == "" {
		o.HTTPPath = "/"
	}
	return o
}

// Verdict is the outcome of a diagnosis. The strings are part of
// netdiag's JSON contract.
type Verdict string

// The verdicts.
const (
	// Healthy: every layer diagnosed works (ping may still be filtered).
	Healthy Verdict = "healthy"
	// Degraded: one address family works and the other does not.
	Degraded Verdict = "degraded"
	// Failed: no address family gets through.
	Failed Verdict = "failed"
)

// Step is one check of the diagnosis, such as the route lookup or the TCP
// handshake.
type Step struct {
	Layer failure.Layer
	// Check names what was checked: "resolve", "route", "neighbor",
	// "ping", "path", "connect", "handshake" or "http".
	Check string
	OK    bool
	// Elapsed is how long the check took.
	Elapsed time.Duration
	// Detail says the outcome in a few plain words.
	Detail string
	// Evidence lists the facts behind the outcome: response codes, who
	// sent which ICMP error, the hops of the path.
	Evidence []string
	// Failure says why the check failed; nil when OK.
	Failure *failure.Failure
}

// FamilyReport is the diagnosis of one address family: the address
// diagnosed, the steps taken, and what they add up to.
type FamilyReport struct {
	// Family is "ipv4" or "ipv6".
	Family string
	// Addr is the address diagnosed: the first of the family the name
	// resolved to, or the address given. It is invalid when the family's
	// DNS query failed.
	Addr netip.Addr
	// Verdict is Healthy or Failed.
	Verdict Verdict
	// Failure says where and why the family failed; nil when healthy.
	Failure *failure.Failure
	// Summary is the verdict in one sentence.
	Summary string
	// Notes are observations that did not change the verdict ("ICMP is
	// filtered, not an outage", a skipped step).
	Notes []string
	// Steps are the checks made, bottom-up.
	Steps []Step

	// The raw evidence of the steps that ran (nil for those that did
	// not).
	Route    *route.Route
	Neighbor route.NeighborState
	Ping     *ping.Result
	Path     *Path
	TCP      *handshake.Result
	TLS      *tlsprobe.Result
	HTTP     *HTTPResult
}

// Name returns "IPv4" or "IPv6".
func (f *FamilyReport) Name() string {
	if f.Family == "ipv6" {
		return "IPv6"
	}
	return "IPv4"
}

func (f *FamilyReport) add(s Step) { f.Steps = append(f.Steps, s) }

func (f *FamilyReport) fail(fl *failure.Failure, summary string) {
	f.Verdict, f.Failure, f.Summary = Failed, fl, summary
}

// Report is the outcome of a diagnosis.
type Report struct {
	// Target is HOST:PORT as diagnosed.
	Target string
	Host   string
	Port   int
	// Verdict, Failure and Summary say what the families add up to. For
	// Degraded and Failed, Failure is the first failing family's.
	Verdict Verdict
	Failure *failure.Failure
	Summary string
	// DNS is the answer of the resolvers; nil for an IP address.
	DNS *DNSAnswer
	// Families holds a report per address family diagnosed, IPv4 first.
	// It is empty when the name did not resolve at all.
	Families []*FamilyReport
	// Resolve is the DNS step when the name did not resolve at all (the
	// families then have no steps of their own); nil otherwise.
	Resolve *Step
	Elapsed time.Duration
}

// Deciding returns the family the verdict is about: the first failed
// family, or the first family when all are healthy; nil when the name did
// not resolve.
func (r *Report) Deciding() *FamilyReport {
	for _, f := range r.Families {
		if f.Verdict != Healthy {
			return f
		}
	}
	if len(r.Families) > 0 {
		return r.Families[0]
	}
	return nil
}

// Steps returns the steps behind the verdict: the deciding family's, or
// the failed DNS step.
func (r *Report) Steps() []Step {
	if f := r.Deciding(); f != nil {
		return f.Steps
	}
	if r.Resolve != nil {
		return []Step{*r.Resolve}
	}
	return nil
}

// Unresolved reports whether the diagnosis ended because the name did not
// resolve to any address (netdiag exits 3 then).
func (r *Report) Unresolved() bool { return len(r.Families) == 0 }

// Diagnose finds out where connectivity to host's port fails. host is a
// name or an IP address. The error is for what prevents a diagnosis: bad
// options (failure.KindInput), an unusable local environment
// (failure.KindLocal), or ctx ending. Every failure of the target itself,
// name resolution included, is in the Report.
func Diagnose(ctx context.Context, host string, o Options) (*Report, error) {
	if o.Port < 1 || o.Port > 65535 {
		return nil, failure.Inputf("diagnose: port %d is out of range 1-65535", o.Port)
	}
	if o.HTTPPath != "" && !strings.HasPrefix(o.HTTPPath, "/") {
		return nil, failure.Inputf("diagnose: the HTTP path %q must start with /", o.HTTPPath)
	}
	o = o.withDefaults()
	start := time.Now()
	rep := &Report{Host: host, Port: o.Port, Target: net.JoinHostPort(host, strconv.Itoa(o.Port))}
	if err := rep.resolve(ctx, host, &o); err != nil {
		return nil, err
	}
	errs := make([]error, len(rep.Families))
	var wg sync.WaitGroup
	for i, f := range rep.Families {
		if f.Verdict == Failed {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &familyRun{o: &o, host: host, rep: f}
			errs[i] = r.run(ctx)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("diagnose: %w", err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	rep.conclude()
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// resolve fills the families to diagnose: the address given, or the
// first address of each family the name has.
func (r *Report) resolve(ctx context.Context, host string, o *Options) error {
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if err := checkTargetAddr(a); err != nil {
			return err
		}
		if !o.Family.Allows(a) {
			return failure.Inputf("%s is not an %s address", host, o.Family)
		}
		r.Families = []*FamilyReport{{Family: familyOf(a), Addr: a}}
		return nil
	}
	want4, want6 := o.Family != resolve.IPv6, o.Family != resolve.IPv4
	ans, err := LookupDNS(ctx, host, want4, want6, o.DNS)
	var f *failure.Failure
	if err != nil && !errors.As(err, &f) {
		return err
	}
	r.DNS = ans
	if f != nil {
		s := dnsFailedStep(ans, f)
		r.Resolve = &s
		r.Verdict, r.Failure, r.Summary = Failed, f, explain(f, sentenceContext{host: host})
		return nil
	}
	for _, q := range []*DNSQuery{&ans.A, &ans.AAAA} {
		if q.Type != "" {
			r.addResolved(ans, q, want4 && want6)
		}
	}
	return nil
}

// checkTargetAddr refuses, as an input error, an address no TCP service
// can be diagnosed at, and an IPv6 link-local address without the
// interface that gives it a meaning.
func checkTargetAddr(a netip.Addr) error {
	switch {
	case a.IsUnspecified():
		return failure.Inputf("%s is the unspecified address, not a host's: give the address of the host to diagnose", a)
	case a.IsMulticast():
		return failure.Inputf("%s is a multicast address: a TCP service has one host's address", a)
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return failure.Inputf("%s is the broadcast address: a TCP service has one host's address", a)
	case a.Is6() && a.IsLinkLocalUnicast() && a.Zone() == "":
		return failure.Inputf("%s is a link-local address: name the interface, as in [%s%%eth0]:PORT", a, a)
	case a.Zone() != "":
		if _, err := interfaceOfZone(a.Zone()); err != nil {
			return failure.Localf(err, "%s: this machine has no interface %q", a, a.Zone())
		}
	}
	return nil
}

// interfaceOfZone finds the interface an address's zone names, by name
// or by index.
func interfaceOfZone(zone string) (*net.Interface, error) {
	if i, err := strconv.Atoi(zone); err == nil {
		return net.InterfaceByIndex(i)
	}
	return net.InterfaceByName(zone)
}

// addResolved adds the family of one record type: diagnosed when it has an
// address, failed at DNS when its query failed while the other family's
// worked, and left out when the name simply has no such record.
func (r *Report) addResolved(ans *DNSAnswer, q *DNSQuery, both bool) {
	family := "ipv4"
	if q.Type == "AAAA" {
		family = "ipv6"
	}
	fr := &FamilyReport{Family: family}
	step := Step{Layer: failure.LayerDNS, Check: "resolve", Elapsed: q.Elapsed, Evidence: dnsEvidence(ans, q)}
	var fl *failure.Failure
	switch {
	case len(q.Addrs) > 0:
		fr.Addr = q.Addrs[0]
		step.OK = true
		step.Detail = q.Type + " " + q.Addrs[0].String()
		if len(q.Addrs) > 1 {
			step.Detail += fmt.Sprintf(" (first of %d)", len(q.Addrs))
		}
		for _, u := range q.Unanswered {
			server, why, _ := strings.Cut(u, ": ")
			note := fmt.Sprintf("the resolver %s fails (%s): lookups go on to %s", server, why, q.Server)
			if strings.HasPrefix(why, "no answer") {
				note = fmt.Sprintf("the resolver %s does not answer: every lookup waits for it before asking %s", server, q.Server)
			}
			fr.Notes = append(fr.Notes, note)
		}
	case len(q.Unusable) > 0 && both:
		fl = failure.New(failure.NoAddress, unusableDetail(q.Unusable))
	case q.Rcode == "NOERROR" || !both || ans.FromHosts:
		// NODATA: the name has no record of this type, which is no fault.
		return
	default:
		fl = rcodeFailure(q)
	}
	if fl != nil {
		step.Detail = "the " + q.Type + " query fails: " + fl.Reason.Sentence()
		step.Failure = fl
		fr.fail(fl, explain(fl, sentenceContext{host: ans.Name, rtype: q.Type}))
	}
	fr.add(step)
	r.Families = append(r.Families, fr)
}

// rcodeFailure classifies one failed query of a name that otherwise
// resolved.
func rcodeFailure(q *DNSQuery) *failure.Failure {
	detail := q.Type + " query"
	if q.Server != "" {
		detail += ", resolver " + q.Server
	}
	switch q.Rcode {
	case "":
		return failure.New(failure.DNSTimeout, "no answer to the "+detail)
	case "NXDOMAIN":
		return failure.New(failure.NXDomain, detail)
	case "REFUSED":
		return failure.New(failure.DNSRefused, detail)
	}
	return failure.New(failure.ServFail, q.Rcode+" to the "+detail)
}

// dnsEvidence lists what one query brought: the names asked, each
// resolver that did not answer and why, the answer and its addresses.
func dnsEvidence(ans *DNSAnswer, q *DNSQuery) []string {
	if ans.FromHosts {
		line := "from the hosts file " + ans.Source
		if len(q.Addrs) > 0 {
			line = q.Type + " " + q.Addrs[0].String() + " " + line
		}
		return []string{line}
	}
	var ev []string
	for _, u := range q.Unanswered {
		ev = append(ev, q.Type+" query to "+u)
	}
	line := q.Type + " query"
	if len(q.Names) > 0 {
		line += " for " + strings.Join(q.Names, ", then ")
	}
	if q.Rcode == "" {
		line += ": no resolver answered"
	} else {
		line += ": " + q.Rcode + " from " + q.Server
	}
	ev = append(ev, line)
	if len(q.Addrs) > 0 {
		ev = append(ev, q.Type+" "+joinAddrs(q.Addrs, ", "))
	}
	if len(q.Unusable) > 0 {
		ev = append(ev, q.Type+" "+joinAddrs(q.Unusable, ", ")+": not a host's address")
	}
	return ev
}

// dnsFailedStep is the DNS step of a name without any address.
func dnsFailedStep(ans *DNSAnswer, f *failure.Failure) Step {
	s := Step{Layer: failure.LayerDNS, Check: "resolve", Failure: f, Detail: f.Reason.Sentence()}
	if ans == nil {
		return s
	}
	s.Elapsed = max(ans.A.Elapsed, ans.AAAA.Elapsed)
	for _, q := range []*DNSQuery{&ans.A, &ans.AAAA} {
		if q.Type != "" {
			s.Evidence = append(s.Evidence, dnsEvidence(ans, q)...)
		}
	}
	return s
}

func familyOf(a netip.Addr) string {
	if a.Is4() {
		return "ipv4"
	}
	return "ipv6"
}

// conclude weighs the families into the report's verdict.
func (r *Report) conclude() {
	if len(r.Families) == 0 {
		return
	}
	var failed, working []*FamilyReport
	for _, f := range r.Families {
		if f.Verdict == Failed {
			failed = append(failed, f)
		} else {
			working = append(working, f)
		}
	}
	switch {
	case len(failed) == 0:
		r.Verdict = Healthy
		r.Summary = r.Families[0].Summary
		if len(r.Families) > 1 {
			r.Summary = "over IPv4 and IPv6: " + r.Families[0].Summary
		}
	case len(working) > 0:
		r.Verdict, r.Failure = Degraded, failed[0].Failure
		r.Summary = fmt.Sprintf("%s fails while %s works: %s", failed[0].Name(), working[0].Name(), failed[0].Summary)
	default:
		r.Verdict, r.Failure = Failed, failed[0].Failure
		r.Summary = failed[0].Summary
		if len(failed) > 1 {
			if failed[1].Summary == failed[0].Summary {
				r.Summary += " (over IPv4 and IPv6)"
			} else {
				r.Summary = "IPv4: " + failed[0].Summary + "; IPv6: " + failed[1].Summary
			}
		}
	}
}
