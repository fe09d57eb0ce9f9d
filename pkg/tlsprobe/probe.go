package tlsprobe

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/httpprobe"
	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// Options configure a probe. The zero value probes with SNI off, the
// system roots, 2 s per step and a 30 s overall deadline.
type Options struct {
	// ServerName is sent as SNI and is the name the certificate must be
	// valid for. Empty: no SNI, and the certificate is checked against
	// the IP address. A trailing dot is dropped.
	ServerName string
	// Roots verifies the chain; nil means the system's roots.
	Roots *x509.CertPool
	// StepTimeout bounds each wait for the server (connect, each message
	// of the handshake, the HTTP answer); 0 means 2 s.
	StepTimeout time.Duration
	// Timeout bounds the whole probe; 0 means 30 s.
	Timeout time.Duration
	// Quick runs one handshake and the certificate checks only: no
	// resumption, SNI or TLS 1.3 probes.
	Quick bool
	// ALPN protocols to offer; nil offers h2 and http/1.1 (only http/1.1
	// with HTTP, which speaks HTTP/1.1).
	ALPN []string
	// HTTP sends one HEAD request for HTTPPath after the handshake; no
	// answer (no-response) or a 5xx status (http-error) makes the probe
	// unhealthy.
	HTTP     bool
	HTTPPath string
	// Checks are the CI thresholds; their failures make the probe
	// unhealthy with reason cert-expiring-soon, tls-protocol-version or
	// threshold.
	Checks Checks
	// Enumerate adds the version and cipher suite enumeration, unless
	// the TCP connection could not be made.
	Enumerate bool
	Enum      EnumOptions
	// MaxMessage bounds one handshake message; 0 means 64 KiB.
	MaxMessage int
	// Dial opens TCP connections; nil uses net.Dialer.
	Dial DialFunc
	// Now is the clock for certificate validity and timings; nil is
	// time.Now.
	Now func() time.Time
}

// Checks are limits a CI job sets.
type Checks struct {
	// MinDays fails when a certificate of the chain expires in fewer days.
	MinDays int
	// ExpectVersion fails when the negotiated version differs (0: off).
	ExpectVersion tlswire.Version
	// RequireResumption is "id", "ticket" or empty.
	RequireResumption string
	// MaxHandshake fails when the handshake takes longer (0: off).
	MaxHandshake time.Duration
}

// CheckResult is the outcome of one of the Checks.
type CheckResult struct {
	Name   string // "min-days", "expect-version", "require-resumption", "max-handshake"
	OK     bool
	Detail string
}

// Resumption is the result of reconnecting with the first session.
type Resumption struct {
	// SessionID: the server resumed when offered the session ID alone.
	SessionID ResumeResult
	// Ticket: the server resumed when offered the ticket with a fresh
	// session ID.
	Ticket ResumeResult
	// TicketLifetime is the lifetime hint of the ticket (0: unspecified
	// or no ticket).
	TicketLifetime time.Duration
	TicketIssued   bool
}

// ResumeResult is one resumption attempt.
type ResumeResult struct {
	Tried   bool   // false when there was nothing to offer (no ID, no ticket)
	Resumed bool   // the abbreviated handshake completed
	Detail  string // why it was not tried or did not resume
}

// SNIResult compares the certificate with and without SNI.
type SNIResult struct {
	// WithoutSNI is the leaf's fingerprint when no SNI is sent; empty if
	// that handshake failed.
	WithoutSNI string
	// SameCertificate: the server sends the same leaf with and without SNI.
	SameCertificate bool
	// WithoutSNIError is how the handshake without SNI failed.
	WithoutSNIError string
	// UnrecognizedName: the server sent an unrecognized_name alert to our
	// SNI (a warning, or fatal).
	UnrecognizedName bool
}

// Result is everything a probe found. Fields are zero when the probe did
// not get that far; Failure says why.
type Result struct {
	Target string // the host as given
	Addr   netip.AddrPort
	SNI    string

	Version            tlswire.Version
	CipherSuite        tlswire.CipherSuite
	KeyExchange        tlswire.KeyExchange
	Group              tlswire.Group // ECDHE curve
	DHBits             int           // DHE prime size
	ForwardSecrecy     bool
	SignatureAlgorithm tlswire.SignatureScheme // of the ServerKeyExchange
	TCPConnect         time.Duration
	Handshake          time.Duration // ClientHello sent to server Finished verified
	Messages           []Event
	// ViaTLS13 is set when the server refused TLS 1.2 and a TLS 1.3
	// handshake was completed with crypto/tls to check the certificate;
	// Messages then shows the refused TLS 1.2 attempt.
	ViaTLS13 bool

	Chain                *Chain
	ClientCertRequested  bool
	ClientCertCAs        []string
	ALPN                 string
	OCSPStapled          bool
	OCSP                 *OCSPStatus
	ExtendedMasterSecret bool
	SecureRenegotiation  bool
	// TLS13Supported is nil when not tested (quick mode).
	TLS13Supported *bool
	Resumption     *Resumption
	SNICheck       *SNIResult
	HTTP           *httpprobe.Result
	Enum           *Enumeration
	Checks         []CheckResult

	Failure *failure.Failure
	Healthy bool
}

func (o *Options) defaults() Options {
	c := *o
	// A fully qualified name ("www.example.test.") is sent and checked
	// without its trailing dot, as RFC 6066 wants SNI and as curl does.
	c.ServerName = strings.TrimSuffix(c.ServerName, ".")
	connDefaults(&c.StepTimeout, &c.MaxMessage, &c.Dial, &c.Now)
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.ALPN == nil {
		c.ALPN = []string{"h2", "http/1.1"}
		if c.HTTP {
			c.ALPN = []string{"http/1.1"}
		}
	}
	if c.HTTP && c.HTTPPath == "" {
		c.HTTPPath = "/"
	}
	return c
}

// connDefaults fills in the connection settings that Options and
// EnumOptions share: 2 s per step, tlswire's message bound, a plain
// net.Dialer and the system clock.
func connDefaults(step *time.Duration, maxMessage *int, dial *DialFunc, now *func() time.Time) {
	if *step <= 0 {
		*step = 2 * time.Second
	}
	if *maxMessage <= 0 {
		*maxMessage = tlswire.DefaultMaxMessage
	}
	if *dial == nil {
		d := &net.Dialer{}
		*dial = d.DialContext
	}
	if *now == nil {
		*now = time.Now
	}
}

// Probe examines the TLS service at addr. target is the host as the user
// gave it, for the report. Probe never fails as a function: every problem
// is in the Result's Failure.
func Probe(ctx context.Context, target string, addr netip.AddrPort, opts Options) *Result {
	o := opts.defaults()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	res := &Result{Target: target, Addr: addr, SNI: o.ServerName}
	p := &prober{o: &o, addr: addr.String(), deadline: deadline}

	st, err := runHandshake(ctx, p.config(p.mainHello()))
	res.fill(st)
	if st.rc != nil {
		res.Messages = st.rc.events
	}
	certs, ocspDER := st.certs, st.ocsp
	name := o.ServerName
	if name == "" {
		name = addr.Addr().String()
	}
	switch {
	case err == nil:
		if o.HTTP {
			res.HTTP = httpHead(ctx, st.rc, hostHeader(o.ServerName, addr), o.HTTPPath)
			res.Messages = st.rc.events
		}
		st.rc.closeGracefully()
	case refusesTLS12(err):
		// The server will not do TLS 1.2; see whether it does TLS 1.3
		// and check its certificate that way.
		res.Failure = classify(err)
		t := p.tls13Probe(ctx)
		res.TLS13Supported = &t.supported
		if t.supported {
			if c, oc, ok := res.handshake13(ctx, p); ok {
				res.Failure = nil
				certs, ocspDER = c, oc
			}
		}
	default:
		res.Failure = classify(err)
	}
	if len(certs) > 0 {
		res.Chain = analyzeChain(certs, name, o.Roots, o.Now())
		if len(ocspDER) > 0 {
			res.OCSP = ocspStatus(ocspDER, certs[0], res.Chain.issuer, o.Now())
		}
	}
	if err == nil && !o.Quick {
		p.extras(ctx, res, st)
	}
	// Enumeration needs the port to accept connections at least.
	if o.Enumerate && st.rc != nil {
		res.Enum = Enumerate(ctx, addr, o.ServerName, enumOptionsFrom(&o))
	}
	res.check(&o)
	return res
}

// prober holds what every connection of one probe shares.
type prober struct {
	o        *Options
	addr     string
	deadline time.Time
}

func (p *prober) config(h helloParams) *handshakeConfig {
	return &handshakeConfig{
		addr: p.addr, dial: p.o.Dial, now: p.o.Now, step: p.o.StepTimeout, deadline: p.deadline,
		maxMsg: p.o.MaxMessage, hello: h,
	}
}

// mainHello offers everything the client implements and asks for every
// feature worth reporting.
func (p *prober) mainHello() helloParams {
	return helloParams{
		version:       tlswire.VersionTLS12,
		serverName:    p.o.ServerName,
		suites:        SupportedSuites(),
		groups:        defaultGroups,
		schemes:       defaultSignatureSchemes,
		alpn:          p.o.ALPN,
		offerTicket:   true,
		statusRequest: true,
	}
}

// fill copies what a handshake established into the result.
func (r *Result) fill(st *handshakeState) {
	r.TCPConnect = st.connectTime
	if sh := st.serverHello; sh != nil {
		r.Version = sh.NegotiatedVersion()
		r.CipherSuite = sh.CipherSuite
		r.ALPN = sh.ALPN
		r.OCSPStapled = st.ocsp != nil
		r.ExtendedMasterSecret = sh.ExtendedMasterSecret
		r.SecureRenegotiation = sh.SecureRenegotiation
		if info := sh.CipherSuite.Info(); info != nil {
			r.KeyExchange = info.KX
			r.ForwardSecrecy = info.KX.ForwardSecret()
		}
	}
	if st.ske != nil {
		r.Group = st.ske.Group
		r.SignatureAlgorithm = st.ske.Algorithm
	}
	r.DHBits = st.dhBits
	if cr := st.certRequest; cr != nil {
		r.ClientCertRequested = true
		for _, dn := range cr.CertificateAuthorities {
			r.ClientCertCAs = append(r.ClientCertCAs, distinguishedName(dn))
		}
	}
	if st.complete {
		r.Handshake = st.duration
	}
}

// distinguishedName renders a DER DistinguishedName as text.
func distinguishedName(der []byte) string {
	var rdn pkix.RDNSequence
	if rest, err := asn1.Unmarshal(der, &rdn); err != nil || len(rest) > 0 {
		return "(unparsable name)"
	}
	var n pkix.Name
	n.FillFromRDNSequence(&rdn)
	return n.String()
}

// hostHeader is the Host header of the --http request: the SNI name, or
// the address when no name is sent.
func hostHeader(serverName string, addr netip.AddrPort) string {
	host := serverName
	if host == "" {
		host = addr.Addr().String()
	}
	return httpprobe.HostHeader(host, addr.Port(), 443)
}

// refusesTLS12 reports whether the handshake failed because the server
// will not speak TLS 1.2.
func refusesTLS12(err error) bool {
	var ae *tlswire.AlertError
	var ve *versionError
	return (errors.As(err, &ae) && ae.Alert.Description == tlswire.AlertProtocolVersion) ||
		(errors.As(err, &ve) && ve.chosen == tlswire.VersionTLS13)
}

// extras runs the reconnecting probes of a full (not quick) run.
func (p *prober) extras(ctx context.Context, res *Result, st *handshakeState) {
	t := p.tls13Probe(ctx)
	res.TLS13Supported = &t.supported
	res.Resumption = p.resumption(ctx, st)
	if p.o.ServerName != "" && len(st.certs) > 0 {
		res.SNICheck = p.sniCheck(ctx, st)
	}
}

// check evaluates the CI checks and decides health.
func (r *Result) check(o *Options) {
	c := o.Checks
	var firstFail *failure.Failure
	add := func(name string, ok bool, reason failure.Reason, detail string) {
		r.Checks = append(r.Checks, CheckResult{Name: name, OK: ok, Detail: detail})
		if !ok && firstFail == nil {
			firstFail = failure.New(reason, detail).At(failure.LayerTLS)
		}
	}
	if c.MinDays > 0 && r.Chain != nil {
		ok, detail := true, ""
		for _, ci := range r.Chain.Certificates {
			if ci.DaysLeft < c.MinDays {
				ok = false
				detail = ci.Subject + " expires in " + strconv.Itoa(ci.DaysLeft) + " days, fewer than " + strconv.Itoa(c.MinDays)
				break
			}
		}
		if ok {
			detail = "every certificate is valid for at least " + strconv.Itoa(c.MinDays) + " more days"
		}
		add("min-days", ok, failure.CertExpiringSoon, detail)
	}
	if c.ExpectVersion != 0 {
		ok := r.Version == c.ExpectVersion
		detail := "negotiated " + r.Version.String()
		if r.Version == 0 {
			detail = "no version negotiated"
		}
		if !ok {
			detail += ", expected " + c.ExpectVersion.String()
		}
		add("expect-version", ok, failure.TLSProtocolVersion, detail)
	}
	if c.RequireResumption != "" {
		ok, detail := false, "resumption was not tested"
		if rs := r.Resumption; rs != nil {
			rr := rs.SessionID
			if c.RequireResumption == "ticket" {
				rr = rs.Ticket
			}
			ok = rr.Resumed
			detail = "resumption by " + c.RequireResumption + ": " + rr.Detail
		}
		add("require-resumption", ok, failure.Threshold, detail)
	}
	if c.MaxHandshake > 0 {
		ok := r.Handshake > 0 && r.Handshake <= c.MaxHandshake
		detail := "handshake took " + r.Handshake.Round(time.Microsecond).String() + ", limit " + c.MaxHandshake.String()
		if r.Handshake == 0 {
			detail = "no handshake completed"
		}
		add("max-handshake", ok, failure.Threshold, detail)
	}
	var httpFail *failure.Failure
	if r.HTTP != nil {
		if f := r.HTTP.Failure(); f != nil {
			httpFail = failure.New(f.Reason, "HTTP: "+f.Detail)
		}
	}
	switch {
	case r.Failure != nil:
	case r.Chain != nil && r.Chain.Failure != nil:
		r.Failure = r.Chain.Failure
	case firstFail != nil:
		r.Failure = firstFail
	case httpFail != nil:
		r.Failure = httpFail
	}
	r.Healthy = r.Failure == nil && r.Chain != nil && r.Chain.Verified
}
