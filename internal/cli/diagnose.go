package cli

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/netdiag/netdiag/pkg/diagnose"
	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/resolve"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newCmdDiagnose) }

// diagnoseOptions is everything `netdiag diagnose` was asked to do.
type diagnoseOptions struct {
	Target string
	TLS    bool
	NoTLS  bool
	httpPathFlag
	CAFile string

	Family  resolve.Family
	Timeout time.Duration
}

func newCmdDiagnose(a *app) *cobra.Command {
	opts := &diagnoseOptions{}
	cmd := &cobra.Command{
		Use:   "diagnose HOST[:PORT] [--http [PATH]]",
		Short: "Find the layer at which connectivity to a service fails, with evidence",
		Long: `diagnose climbs the layers to a service and stops at the first one that fails:

  dns          A and AAAA records from the configured resolvers (skipped for an address)
  network      the route this machine would use (interface, source, gateway)
  link         the next hop's ARP or neighbour-discovery entry
  network      ICMP echo (4 requests 0.2 s apart, ending at the first reply), and when
               it gets no reply, a TTL-limited path probe that shows at which hop
               the packets stop and which router said what
  transport    a TCP handshake to PORT (default 443), made beside the echo: open,
               reset, dropped or rejected
  tls          one TLS handshake and the certificate checks (on by default for ports
               443, 465, 636, 853, 993, 995 and 8443; --tls / --no-tls)
  application  with --http, a HEAD request for PATH (default /) and its status

It follows the evidence: a ping without answer while TCP connects means ICMP is
filtered, not an outage; a TCP reset proves the host is up whatever ping said.
When the name has both A and AAAA records, each family is diagnosed; one that fails
while the other works is the verdict "degraded".

The output is a checklist with a mark and a time per step, the verdict in one
sentence, the evidence behind it, and the next command worth running.

Exit status: 0 healthy; 1 failed or degraded; 2 bad input; 3 the name did not
resolve; 4 a local error (no permission, unreadable configuration).`,
		Example: `  netdiag diagnose api.internal
  netdiag diagnose 198.18.1.10:22
  netdiag diagnose --http /health --ca lab-root.pem www.internal
  netdiag diagnose --no-tls --http db.internal:8080
  netdiag diagnose -6 --json www.internal:443`,
		Args: targetArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if opts.Target, err = opts.takeTarget(cmd, args); err != nil {
				return err
			}
			opts.Family = resolve.ParseFamily(a.global.Family())
			opts.Timeout = a.global.Timeout
			if err := opts.validate(cmd); err != nil {
				return err
			}
			return runDiagnose(a.ctx, opts, a.printer())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.TLS, "tls", false, "diagnose TLS on the port (default for 443, 465, 636, 853, 993, 995, 8443)")
	f.BoolVar(&opts.NoTLS, "no-tls", false, "do not try TLS, whatever the port")
	opts.addHTTPFlag(cmd, "check the application: send HEAD `PATH` (default /) and judge the status")
	f.StringVar(&opts.CAFile, "ca", "", "PEM file of trusted root certificates, instead of the system's")
	return cmd
}

func (o *diagnoseOptions) validate(cmd *cobra.Command) error {
	if o.TLS && o.NoTLS {
		return usageErrorf(cmd, "--tls and --no-tls cannot be used together")
	}
	return o.validateHTTP(cmd, o.Target)
}

// libOptions turns the flags into the library's options for port.
func (o *diagnoseOptions) libOptions(port int) (diagnose.Options, error) {
	lo := diagnose.Options{
		Port:    port,
		TLS:     (diagnose.TLSByDefault(port) || o.TLS) && !o.NoTLS,
		HTTP:    o.HTTP,
		Family:  o.Family,
		Timeout: o.Timeout,
	}
	if o.HTTP {
		lo.HTTPPath = o.Path
	}
	if o.CAFile != "" {
		var err error
		if lo.Roots, err = loadRoots(o.CAFile); err != nil {
			return lo, err
		}
	}
	return lo, nil
}

func runDiagnose(ctx context.Context, o *diagnoseOptions, p *Printer) error {
	host, port, err := resolve.SplitHostPort(o.Target, diagnose.DefaultPort)
	if err != nil {
		return err
	}
	lo, err := o.libOptions(port)
	if err != nil {
		return err
	}
	rep, err := diagnose.Diagnose(ctx, host, lo)
	if err != nil {
		return err
	}
	if p.JSON() {
		p.Emit("result", diagResultToJSON(rep))
	} else {
		(&diagText{p: p, o: o, lo: &lo, rep: rep}).print()
	}
	switch {
	case rep.Verdict == diagnose.Healthy:
		return nil
	case rep.Unresolved():
		return errReported{failure.KindResolve}
	}
	return checkFailed
}

// diagStepJSON is one entry of "steps" in docs/json.md.
type diagStepJSON struct {
	Layer    string   `json:"layer"`
	Check    string   `json:"check"`
	OK       bool     `json:"ok"`
	Ms       float64  `json:"ms"`
	Detail   string   `json:"detail"`
	Evidence []string `json:"evidence"`
}

// diagFamilyJSON is one value of "families".
type diagFamilyJSON struct {
	Addr        *string        `json:"addr"`
	Verdict     string         `json:"verdict"`
	FailedLayer *string        `json:"failed_layer"`
	Reason      *string        `json:"reason"`
	From        *string        `json:"from"`
	Summary     string         `json:"summary"`
	Notes       []string       `json:"notes"`
	Steps       []diagStepJSON `json:"steps"`
}

// diagResultJSON is the "result" object.
type diagResultJSON struct {
	Target      string                    `json:"target"`
	Verdict     string                    `json:"verdict"`
	FailedLayer *string                   `json:"failed_layer"`
	Reason      *string                   `json:"reason"`
	Summary     string                    `json:"summary"`
	Steps       []diagStepJSON            `json:"steps"`
	Families    map[string]diagFamilyJSON `json:"families"`
}

func diagStepsJSON(steps []diagnose.Step) []diagStepJSON {
	out := make([]diagStepJSON, 0, len(steps))
	for _, s := range steps {
		ev := s.Evidence
		if ev == nil {
			ev = []string{}
		}
		out = append(out, diagStepJSON{Layer: string(s.Layer), Check: s.Check, OK: s.OK, Ms: Ms(s.Elapsed), Detail: s.Detail, Evidence: ev})
	}
	return out
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func diagResultToJSON(r *diagnose.Report) diagResultJSON {
	j := diagResultJSON{Target: r.Target, Verdict: string(r.Verdict), Summary: r.Summary,
		Steps: diagStepsJSON(r.Steps()), Families: map[string]diagFamilyJSON{}}
	if f := r.Failure; f != nil {
		j.FailedLayer, j.Reason = optString(string(f.Layer)), optString(string(f.Reason))
	}
	for _, fr := range r.Families {
		fj := diagFamilyJSON{Verdict: string(fr.Verdict), Summary: fr.Summary, Notes: fr.Notes, Steps: diagStepsJSON(fr.Steps)}
		if fr.Addr.IsValid() {
			fj.Addr = optString(fr.Addr.String())
		}
		if f := fr.Failure; f != nil {
			fj.FailedLayer, fj.Reason, fj.From = optString(string(f.Layer)), optString(string(f.Reason)), optString(f.From)
		}
		if fj.Notes == nil {
			fj.Notes = []string{}
		}
		j.Families[fr.Family] = fj
	}
	return j
}

// diagText renders a report for people.
type diagText struct {
	p   *Printer
	o   *diagnoseOptions
	lo  *diagnose.Options
	rep *diagnose.Report
}

func (t *diagText) print() {
	p, rep := t.p, t.rep
	p.Detailf("%s %s\n", p.Bold("diagnose"), rep.Target)
	if rep.Resolve != nil {
		p.Detailf("\n")
		t.step(*rep.Resolve)
	}
	for _, f := range rep.Families {
		p.Detailf("\n%s\n", p.Bold(familyHeading(f)))
		for _, s := range f.Steps {
			t.step(s)
		}
		for _, n := range f.Notes {
			p.Detailf("  %s %s\n", p.Warn("!"), n)
		}
	}
	if !p.Quiet() {
		p.Printf("\n")
	}
	p.Printf("%s\n", t.verdictLine())
	if rep.Verdict == diagnose.Healthy {
		return
	}
	if ev := t.evidence(); len(ev) > 0 {
		p.Printf("Evidence:\n")
		for _, e := range ev {
			p.Printf("  %s\n", e)
		}
	}
	if next := t.next(); next != "" {
		p.Printf("Next: %s\n", next)
	}
}

func familyHeading(f *diagnose.FamilyReport) string {
	if f.Addr.IsValid() {
		return f.Name() + " " + f.Addr.String()
	}
	return f.Name()
}

func (t *diagText) step(s diagnose.Step) {
	p := t.p
	ms := FormatMs(s.Elapsed)
	if s.Elapsed >= time.Second {
		ms = fmt.Sprintf("%.2f s", s.Elapsed.Seconds())
	}
	detail := s.Detail
	if !s.OK {
		detail = p.Bad(detail)
		if s.Failure != nil {
			detail += p.Dim(" [" + string(s.Failure.Reason) + "]")
		}
	}
	p.Detailf("  %s %-11s %-9s %10s  %s\n", p.Check(s.OK), s.Layer, s.Check, ms, detail)
}

// layerWords names the layer a verdict failed at.
func layerWords(l failure.Layer) string {
	switch l {
	case failure.LayerDNS:
		return "DNS"
	case failure.LayerTLS:
		return "TLS"
	}
	return "the " + string(l) + " layer"
}

func (t *diagText) verdictLine() string {
	p, rep := t.p, t.rep
	switch rep.Verdict {
	case diagnose.Healthy:
		return p.OK("healthy") + ": " + rep.Summary
	case diagnose.Degraded:
		return p.Warn("degraded") + fmt.Sprintf(" (failed at %s): ", layerWords(rep.Failure.Layer)) + rep.Summary
	}
	return p.Bad("failed") + fmt.Sprintf(" at %s: ", layerWords(rep.Failure.Layer)) + rep.Summary
}

// evidence lists the facts behind a failure: the failed steps' evidence
// and the family's notes.
func (t *diagText) evidence() []string {
	var out []string
	for _, s := range t.rep.Steps() {
		if s.OK {
			continue
		}
		for _, e := range s.Evidence {
			if e != "" {
				out = append(out, s.Check+": "+e)
			}
		}
	}
	if f := t.rep.Deciding(); f != nil {
		out = append(out, f.Notes...)
	}
	return out
}

// firstUnanswered is the first resolver that gave no answer, or "".
func firstUnanswered(d *diagnose.DNSAnswer) string {
	for _, q := range []diagnose.DNSQuery{d.A, d.AAAA} {
		if len(q.Unanswered) > 0 {
			server, _, _ := strings.Cut(q.Unanswered[0], ": ")
			return server
		}
	}
	return ""
}

// digType is the record type to give dig: the failed family's when the
// name resolved over the other family, the one asked for with -4 or -6.
func (t *diagText) digType(fam *diagnose.FamilyReport) string {
	switch {
	case fam != nil && fam.Family == "ipv6", fam == nil && t.lo.Family == resolve.IPv6:
		return "AAAA "
	case fam != nil, t.lo.Family == resolve.IPv4:
		return "A "
	}
	return ""
}

// next suggests the command that looks closer at the failure.
func (t *diagText) next() string {
	rep := t.rep
	f := rep.Failure
	fam := rep.Deciding()
	if f == nil {
		return ""
	}
	addr, ap := rep.Host, rep.Target
	if fam != nil && fam.Addr.IsValid() {
		addr = fam.Addr.String()
		ap = netip.AddrPortFrom(fam.Addr, uint16(rep.Port)).String()
	}
	// Without an echo this run had no raw socket, and --trace needs one.
	sudo := ""
	if fam != nil && fam.Ping == nil && fam.Route != nil {
		sudo = "sudo "
	}
	famFlag := ""
	if rep.Verdict == diagnose.Degraded && fam != nil {
		famFlag = map[string]string{"ipv4": "-4 ", "ipv6": "-6 "}[fam.Family]
	}
	switch f.Reason {
	case failure.NXDomain, failure.NoAddress:
		return "dig +search " + t.digType(fam) + rep.Host + " (check the name and its zone)"
	case failure.ServFail, failure.DNSRefused, failure.DNSTimeout:
		server := ""
		if d := rep.DNS; d != nil && !d.FromHosts {
			src := d.Source
			if src == "" {
				src = firstUnanswered(d)
			}
			if h, _, err := resolve.SplitHostPort(src, 53); src != "" && err == nil {
				server = "@" + h + " "
			}
		}
		return "dig " + server + "+search " + t.digType(fam) + rep.Host + " (is the resolver up, and UDP and TCP port 53 open to it?)"
	case failure.NoRoute:
		return "ip route get " + addr + " (add a route or a default gateway)"
	case failure.LinkDown:
		if fam != nil && fam.Route != nil {
			return "ip link show " + fam.Route.Interface
		}
	case failure.NeighborUnresolved:
		if fam != nil && fam.Route != nil {
			return "ip neigh show dev " + fam.Route.Interface + " (is " + fam.Route.NextHop().String() + " up, and on this link?)"
		}
	case failure.HostUnreachable:
		if f.From != "" {
			proto := "ARP"
			if fam != nil && fam.Family == "ipv6" {
				proto = "neighbour discovery"
			}
			return "on " + f.From + ": ip route get " + addr + "; ip neigh show " + addr + " (its route, and whether the host answers its " + proto + ")"
		}
		return "traceroute -n " + addr
	case failure.TTLExceeded, failure.NetUnreachable:
		if f.From != "" {
			return "on " + f.From + ": ip route get " + addr + " (see where that router sends it)"
		}
		return "traceroute -n " + addr
	case failure.AdminProhibited, failure.PortUnreachable:
		if fam != nil && fam.Route != nil && (f.From == "this machine" || f.From == fam.Route.Src.String()) {
			return "nft list ruleset (this machine's own firewall rejects the packets; or iptables -S)"
		}
		return sudo + "netdiag tcpprobe --trace " + famFlag + ap + " (then the rules of firewall " + f.From + ")"
	case failure.Reset, failure.Refused:
		return "on " + addr + ": ss -ltn 'sport = :" + strconv.Itoa(rep.Port) + "' (is the service running, and on this address?)"
	case failure.Timeout:
		if f.Layer == failure.LayerTLS {
			return t.tlsNext(famFlag)
		}
		if f.Layer == failure.LayerNetwork && fam != nil && fam.Path != nil && !fam.Path.Answered() &&
			fam.Route != nil && fam.Route.Gateway.IsValid() {
			gw := fam.Route.Gateway.String()
			return "ping -c 3 " + gw + "; ip neigh show " + gw + " (is the gateway up?)"
		}
		if f.Layer == failure.LayerNetwork {
			return "traceroute -n " + addr + " (or tcpdump on the hosts on the way, to see where the packets die)"
		}
		return sudo + "netdiag tcpprobe --trace " + famFlag + ap + " (the SYN leaves and nothing comes back: look for the firewall on the way)"
	case failure.HTTPError, failure.NoResponse, failure.NotHTTP:
		scheme := "http"
		if t.lo.TLS {
			scheme = "https"
		}
		return "curl -sI " + scheme + "://" + rep.Target + t.lo.HTTPPath + " (and the application's logs)"
	}
	if f.Layer == failure.LayerTLS {
		return t.tlsNext(famFlag)
	}
	return "netdiag diagnose " + famFlag + rep.Target
}

// tlsNext suggests tlsprobe's full report.
func (t *diagText) tlsNext(famFlag string) string {
	s := "netdiag tlsprobe " + famFlag + t.rep.Target
	if t.o.CAFile != "" {
		s += " --ca " + t.o.CAFile
	}
	return s + " (the full handshake and certificate report)"
}
