package cli

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/netip"
	"time"

	"github.com/netdiag/netdiag/pkg/layers/tlswire"
	"github.com/netdiag/netdiag/pkg/resolve"
	"github.com/netdiag/netdiag/pkg/tlsprobe"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newCmdTLSProbe) }

// tlsprobeOptions is everything `netdiag tlsprobe` was asked to do.
type tlsprobeOptions struct {
	Target string
	SNI    string
	NoSNI  bool
	CAFile string
	Quick  bool
	httpPathFlag
	Enum    bool
	Workers int

	MinDays           int
	ExpectVersion     string
	RequireResumption string
	MaxHandshake      time.Duration
	MaxTime           time.Duration

	Family  resolve.Family
	Timeout time.Duration

	// resolver resolves host names; tests substitute their own.
	resolver *resolve.Resolver
	// dial opens connections; tests substitute their own.
	dial tlsprobe.DialFunc
}

// defaultMaxTime bounds a whole tlsprobe run unless --max-time says
// otherwise.
const defaultMaxTime = 30 * time.Second

func newCmdTLSProbe(a *app) *cobra.Command {
	opts := &tlsprobeOptions{MaxTime: defaultMaxTime}
	cmd := &cobra.Command{
		Use:   "tlsprobe HOST[:PORT] [--http [PATH]]",
		Short: "Probe a TLS server: the handshake message by message, the certificate, resumption",
		Long: `tlsprobe makes a TLS 1.2 handshake with its own client, so that every message can be
shown with its size and the time it arrived, and then checks the certificate chain:

  ClientHello -> ServerHello, Certificate, [CertificateStatus], ServerKeyExchange,
  [CertificateRequest], ServerHelloDone -> ClientKeyExchange, ChangeCipherSpec,
  Finished -> [NewSessionTicket], ChangeCipherSpec, Finished

It reports the version, cipher suite (IANA name), key exchange (ECDHE with its curve,
DHE with the prime's size, or static RSA) and forward secrecy; the chain (subject,
issuer, SANs, key, validity, days left, SHA-256), verified against the system roots or
--ca, for the SNI name; chain order and a missing intermediate by name; OCSP stapling,
ALPN, extended master secret, secure renegotiation. Without --quick it also reconnects
to test resumption by session ID and by ticket (each without the other), compares the
certificate sent without SNI, and asks whether TLS 1.3 is supported. A server that
refuses TLS 1.2 but speaks TLS 1.3 is said so, and its certificate is checked over a
TLS 1.3 handshake (made with Go's crypto/tls, not traced message by message).

--enum lists the protocol versions (SSL 3.0 to TLS 1.3) and the cipher suites, from the
whole IANA registry, that the server accepts, and its order of preference, with
ClientHello-only probes.

Failures use the reasons tls-alert, tls-protocol-version, tls-malformed, tls-closed,
not-tls, timeout, cert-expired, cert-not-yet-valid, cert-untrusted,
cert-name-mismatch, cert-chain-incomplete and cert-expiring-soon.

Exit status: 0 when the handshake completed, the certificate is valid and every check
held; 1 otherwise; 2 for bad input; 3 when the name did not resolve.`,
		Example: `  netdiag tlsprobe www.internal
  netdiag tlsprobe --quick --min-days 21 api.internal:8443
  netdiag tlsprobe --sni api.internal 198.18.1.10:443 --ca lab-root.pem
  netdiag tlsprobe --http /health www.internal
  netdiag tlsprobe --require-resumption ticket --max-handshake 50ms www.internal
  netdiag tlsprobe --enum --json 198.18.1.10`,
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
			return runTLSProbe(a.ctx, opts, a.printer())
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.SNI, "sni", "", "server name to send and to check the certificate for (default: HOST when it is a name)")
	f.BoolVar(&opts.NoSNI, "no-sni", false, "send no server name")
	f.StringVar(&opts.CAFile, "ca", "", "PEM file of trusted root certificates, instead of the system's")
	f.BoolVar(&opts.Quick, "quick", false, "one handshake and the certificate checks only (no resumption, SNI or TLS 1.3 probes)")
	opts.addHTTPFlag(cmd, "after the handshake, send HEAD `PATH` (default /) and show the HTTP status")
	f.BoolVar(&opts.Enum, "enum", false, "enumerate the accepted protocol versions and cipher suites")
	f.IntVar(&opts.Workers, "parallel", 0, "connections in flight during --enum (default 8)")
	f.IntVar(&opts.MinDays, "min-days", 0, "fail when a certificate of the chain expires in fewer `DAYS`")
	f.StringVar(&opts.ExpectVersion, "expect-version", "", "fail unless this `VERSION` is negotiated (TLS1.2, TLS1.3)")
	f.StringVar(&opts.RequireResumption, "require-resumption", "", "fail unless the session resumes by `id` or `ticket`")
	f.Var(newDurationValue(&opts.MaxHandshake), "max-handshake", "fail when the handshake takes longer (seconds or a unit)")
	f.Var(newDurationValue(&opts.MaxTime), "max-time", "limit for the whole probe (default 30s)")
	return cmd
}

func (o *tlsprobeOptions) validate(cmd *cobra.Command) error {
	switch {
	case o.SNI != "" && o.NoSNI:
		return usageErrorf(cmd, "--sni and --no-sni cannot be used together")
	case o.MinDays < 0:
		return usageErrorf(cmd, "--min-days must not be negative, got %d", o.MinDays)
	case o.Workers < 0:
		return usageErrorf(cmd, "--parallel must be at least 1, got %d", o.Workers)
	case o.RequireResumption != "" && o.RequireResumption != "id" && o.RequireResumption != "ticket":
		return usageErrorf(cmd, "--require-resumption must be id or ticket, got %q", o.RequireResumption)
	case o.RequireResumption != "" && o.Quick:
		return usageErrorf(cmd, "--require-resumption needs the reconnections that --quick leaves out")
	case o.MaxTime <= 0:
		return usageErrorf(cmd, "--max-time must be positive")
	}
	if o.ExpectVersion != "" {
		if _, err := tlswire.ParseVersion(o.ExpectVersion); err != nil {
			return usageErrorf(cmd, "--expect-version: %q is not a TLS version (TLS1.0 ... TLS1.3)", o.ExpectVersion)
		}
	}
	return o.validateHTTP(cmd, o.Target)
}

// libOptions turns the command line into the library's options.
func (o *tlsprobeOptions) libOptions(host string, addr netip.Addr) tlsprobe.Options {
	lo := tlsprobe.Options{
		StepTimeout: o.Timeout,
		Timeout:     o.MaxTime,
		Quick:       o.Quick,
		HTTP:        o.HTTP,
		HTTPPath:    o.Path,
		Enumerate:   o.Enum,
		Enum:        tlsprobe.EnumOptions{Concurrency: o.Workers},
		Dial:        o.dial,
		Checks: tlsprobe.Checks{
			MinDays:           o.MinDays,
			RequireResumption: o.RequireResumption,
			MaxHandshake:      o.MaxHandshake,
		},
	}
	if o.ExpectVersion != "" {
		lo.Checks.ExpectVersion, _ = tlswire.ParseVersion(o.ExpectVersion)
	}
	switch {
	case o.NoSNI:
	case o.SNI != "":
		lo.ServerName = o.SNI
	case host != addr.String() && host != addr.WithZone("").String():
		lo.ServerName = host
	}
	return lo
}

func runTLSProbe(ctx context.Context, o *tlsprobeOptions, p *Printer) error {
	host, port, err := resolve.SplitHostPort(o.Target, 443)
	if err != nil {
		return err
	}
	// Input errors come before any lookup or connection.
	var roots *x509.CertPool
	if o.CAFile != "" {
		if roots, err = loadRoots(o.CAFile); err != nil {
			return err
		}
	}
	r := o.resolver
	if r == nil {
		r = &resolve.Resolver{}
	}
	addrs, err := r.Addrs(ctx, host, o.Family)
	if err != nil {
		return fmt.Errorf("tlsprobe: %w", err)
	}
	addr := netip.AddrPortFrom(addrs[0], uint16(port))
	lo := o.libOptions(host, addrs[0])
	lo.Roots = roots
	var bar *Progress
	if o.Enum {
		bar = p.Progress("enumerating", 0)
		lo.Enum.Progress = func(done, total int) {
			bar.total = total
			bar.Add(done - bar.done)
		}
	}
	res := tlsprobe.Probe(ctx, host, addr, lo)
	if bar != nil {
		bar.Done()
	}
	if p.JSON() {
		p.Emit("result", tlsResultJSON(res))
	} else {
		newTLSText(p, res, o).print()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !res.Healthy {
		return checkFailed
	}
	return nil
}
