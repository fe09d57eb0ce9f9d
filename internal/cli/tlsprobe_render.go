package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/layers/tlswire"
	"github.com/netdiag/netdiag/pkg/tlsprobe"
)

// The "result" object of docs/json.md.
type tlsJSON struct {
	Target              string             `json:"target"`
	Addr                string             `json:"addr"`
	Port                int                `json:"port"`
	SNI                 string             `json:"sni"`
	Version             string             `json:"version"`
	CipherSuite         string             `json:"cipher_suite"`
	KeyExchange         string             `json:"key_exchange"`
	Group               string             `json:"group,omitempty"`
	DHBits              int                `json:"dh_bits,omitempty"`
	ForwardSecrecy      bool               `json:"forward_secrecy"`
	SignatureAlgorithm  string             `json:"signature_algorithm,omitempty"`
	TCPConnectMs        *float64           `json:"tcp_connect_ms"`
	HandshakeMs         *float64           `json:"handshake_ms"`
	ViaCryptoTLS13      bool               `json:"via_crypto_tls13,omitempty"`
	Messages            []tlsMessageJSON   `json:"messages"`
	Certificates        []tlsCertJSON      `json:"certificates"`
	Chain               *tlsChainJSON      `json:"chain,omitempty"`
	Verify              tlsVerifyJSON      `json:"verify"`
	Resumption          *tlsResumptionJSON `json:"resumption"`
	ClientCertRequested bool               `json:"client_cert_requested"`
	ClientCertCAs       []string           `json:"client_cert_cas"`
	ALPN                string             `json:"alpn"`
	OCSPStapled         bool               `json:"ocsp_stapled"`
	OCSP                *tlsOCSPJSON       `json:"ocsp,omitempty"`
	ExtendedMaster      bool               `json:"extended_master_secret"`
	SecureRenegotiation bool               `json:"secure_renegotiation"`
	TLS13Supported      *bool              `json:"tls13_supported"`
	SNICheck            *tlsSNIJSON        `json:"sni_check,omitempty"`
	HTTP                *tlsHTTPJSON       `json:"http,omitempty"`
	Enum                *tlsEnumJSON       `json:"enum,omitempty"`
	Checks              []tlsCheckJSON     `json:"checks,omitempty"`
	Failure             *failure.Failure   `json:"failure,omitempty"`
	Healthy             bool               `json:"healthy"`
}

type tlsMessageJSON struct {
	Dir       string  `json:"dir"`
	Type      string  `json:"type"`
	Bytes     int     `json:"bytes"`
	TMs       float64 `json:"t_ms"`
	Encrypted bool    `json:"encrypted,omitempty"`
	Alert     string  `json:"alert,omitempty"`
}

type tlsCertJSON struct {
	Subject    string   `json:"subject"`
	Issuer     string   `json:"issuer"`
	SANs       []string `json:"sans"`
	NotBefore  string   `json:"not_before"`
	NotAfter   string   `json:"not_after"`
	DaysLeft   int      `json:"days_left"`
	Key        string   `json:"key"`
	SigAlg     string   `json:"sig_alg"`
	SHA256     string   `json:"sha256"`
	IsCA       bool     `json:"is_ca"`
	SelfSigned bool     `json:"self_signed"`
}

type tlsChainJSON struct {
	Order               string   `json:"order"`
	Path                []string `json:"path,omitempty"`
	MissingIntermediate string   `json:"missing_intermediate,omitempty"`
}

type tlsVerifyJSON struct {
	OK        bool   `json:"ok"`
	Error     string `json:"error,omitempty"`
	Name      string `json:"name,omitempty"`
	NameMatch bool   `json:"name_match"`
}

type tlsResumptionJSON struct {
	SessionID       bool   `json:"session_id"`
	SessionIDDetail string `json:"session_id_detail"`
	Ticket          bool   `json:"ticket"`
	TicketDetail    string `json:"ticket_detail"`
	TicketIssued    bool   `json:"ticket_issued"`
	TicketLifetimeS int64  `json:"ticket_lifetime_s"`
}

type tlsOCSPJSON struct {
	Status     string `json:"status,omitempty"`
	ThisUpdate string `json:"this_update,omitempty"`
	NextUpdate string `json:"next_update,omitempty"`
	Fresh      bool   `json:"fresh"`
	Error      string `json:"error,omitempty"`
}

type tlsSNIJSON struct {
	SameCertificate  bool   `json:"same_certificate"`
	WithoutSNISHA256 string `json:"without_sni_sha256,omitempty"`
	WithoutSNIError  string `json:"without_sni_error,omitempty"`
	UnrecognizedName bool   `json:"unrecognized_name"`
}

type tlsHTTPJSON struct {
	StatusLine  string  `json:"status_line,omitempty"`
	StatusCode  int     `json:"status_code,omitempty"`
	Server      string  `json:"server,omitempty"`
	Location    string  `json:"location,omitempty"`
	ContentType string  `json:"content_type,omitempty"`
	ElapsedMs   float64 `json:"elapsed_ms"`
	Error       string  `json:"error,omitempty"`
}

type tlsEnumJSON struct {
	Versions     []string        `json:"versions"`
	CipherSuites []tlsEnumSuite  `json:"cipher_suites"`
	ServerOrder  map[string]bool `json:"server_order"`
	Probes       int             `json:"probes"`
	ElapsedMs    float64         `json:"elapsed_ms"`
	Errors       []string        `json:"errors,omitempty"`
}

type tlsEnumSuite struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Version string `json:"version"`
}

type tlsCheckJSON struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// versionName is "" for the zero version, so that JSON says nothing
// rather than "0x0000" when no version was negotiated.
func versionName(v tlswire.Version) string {
	if v == 0 {
		return ""
	}
	return v.String()
}

func tlsResultJSON(r *tlsprobe.Result) tlsJSON {
	j := tlsJSON{
		Target: r.Target, Addr: r.Addr.Addr().String(), Port: int(r.Addr.Port()), SNI: r.SNI,
		Version: versionName(r.Version), KeyExchange: string(r.KeyExchange), DHBits: r.DHBits,
		ForwardSecrecy: r.ForwardSecrecy, ViaCryptoTLS13: r.ViaTLS13,
		Messages: []tlsMessageJSON{}, Certificates: []tlsCertJSON{}, ClientCertCAs: r.ClientCertCAs,
		ClientCertRequested: r.ClientCertRequested, ALPN: r.ALPN, OCSPStapled: r.OCSPStapled,
		ExtendedMaster: r.ExtendedMasterSecret, SecureRenegotiation: r.SecureRenegotiation,
		TLS13Supported: r.TLS13Supported, Failure: r.Failure, Healthy: r.Healthy,
	}
	if j.ClientCertCAs == nil {
		j.ClientCertCAs = []string{}
	}
	if r.CipherSuite != 0 {
		j.CipherSuite = r.CipherSuite.String()
	}
	if r.Group != 0 {
		j.Group = r.Group.String()
	}
	if r.SignatureAlgorithm != 0 {
		j.SignatureAlgorithm = r.SignatureAlgorithm.String()
	}
	if r.TCPConnect > 0 {
		ms := Ms(r.TCPConnect)
		j.TCPConnectMs = &ms
	}
	if r.Handshake > 0 {
		ms := Ms(r.Handshake)
		j.HandshakeMs = &ms
	}
	for _, m := range r.Messages {
		mj := tlsMessageJSON{Dir: string(m.Dir), Type: m.Type, Bytes: m.Bytes, TMs: Ms(m.At), Encrypted: m.Encrypted}
		if m.Alert != nil {
			mj.Alert = m.Alert.Description.String()
		}
		j.Messages = append(j.Messages, mj)
	}
	if ch := r.Chain; ch != nil {
		for _, c := range ch.Certificates {
			j.Certificates = append(j.Certificates, tlsCertJSON{
				Subject: c.Subject, Issuer: c.Issuer, SANs: nonNil(c.SANs), NotBefore: rfc3339(c.NotBefore),
				NotAfter: rfc3339(c.NotAfter), DaysLeft: c.DaysLeft, Key: c.Key, SigAlg: c.SigAlg, SHA256: c.SHA256,
				IsCA: c.IsCA, SelfSigned: c.SelfSigned,
			})
		}
		j.Chain = &tlsChainJSON{Order: string(ch.Order), Path: ch.Path, MissingIntermediate: ch.MissingIssuer}
		j.Verify = tlsVerifyJSON{OK: ch.Verified, Name: ch.Name, NameMatch: ch.NameMatch}
		if ch.Failure != nil {
			j.Verify.Error = string(ch.Failure.Reason) + ": " + ch.Failure.Detail
		}
	} else {
		j.Verify.Error = "no certificate received"
	}
	if rs := r.Resumption; rs != nil {
		j.Resumption = &tlsResumptionJSON{
			SessionID: rs.SessionID.Resumed, SessionIDDetail: rs.SessionID.Detail,
			Ticket: rs.Ticket.Resumed, TicketDetail: rs.Ticket.Detail,
			TicketIssued: rs.TicketIssued, TicketLifetimeS: int64(rs.TicketLifetime / time.Second),
		}
	}
	if o := r.OCSP; o != nil {
		j.OCSP = &tlsOCSPJSON{Status: o.Status, Fresh: o.Fresh, Error: o.Error}
		if !o.ThisUpdate.IsZero() {
			j.OCSP.ThisUpdate = rfc3339(o.ThisUpdate)
		}
		if !o.NextUpdate.IsZero() {
			j.OCSP.NextUpdate = rfc3339(o.NextUpdate)
		}
	}
	if s := r.SNICheck; s != nil {
		j.SNICheck = &tlsSNIJSON{SameCertificate: s.SameCertificate, WithoutSNISHA256: s.WithoutSNI,
			WithoutSNIError: s.WithoutSNIError, UnrecognizedName: s.UnrecognizedName}
	}
	if h := r.HTTP; h != nil {
		j.HTTP = &tlsHTTPJSON{StatusLine: h.StatusLine, StatusCode: h.StatusCode, Server: h.Server, Location: h.Location,
			ContentType: h.ContentType, ElapsedMs: Ms(h.Elapsed), Error: h.Error}
	}
	if e := r.Enum; e != nil {
		ej := &tlsEnumJSON{Versions: []string{}, CipherSuites: []tlsEnumSuite{}, ServerOrder: map[string]bool{},
			Probes: e.Probes, ElapsedMs: Ms(e.Elapsed), Errors: e.Errors}
		for _, v := range e.Versions {
			ej.Versions = append(ej.Versions, v.String())
			if so, known := e.ServerOrder[v]; known {
				ej.ServerOrder[v.String()] = so
			}
		}
		for _, s := range e.Suites {
			ej.CipherSuites = append(ej.CipherSuites, tlsEnumSuite{Name: s.Suite.String(), Value: fmt.Sprintf("0x%04X", uint16(s.Suite)), Version: s.Version.String()})
		}
		j.Enum = ej
	}
	for _, c := range r.Checks {
		j.Checks = append(j.Checks, tlsCheckJSON(c))
	}
	return j
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// tlsText renders a result for people: the timeline, the chain, the
// findings with ✓ and ✗, and the verdict.
type tlsText struct {
	p *Printer
	r *tlsprobe.Result
	o *tlsprobeOptions
}

func newTLSText(p *Printer, r *tlsprobe.Result, o *tlsprobeOptions) *tlsText {
	return &tlsText{p: p, r: r, o: o}
}

func (t *tlsText) print() {
	r, p := t.r, t.p
	head := fmt.Sprintf("tlsprobe %s", r.Addr)
	if r.Target != r.Addr.Addr().String() {
		head = fmt.Sprintf("tlsprobe %s (%s)", r.Target, r.Addr)
	}
	if r.SNI != "" {
		head += ", SNI " + r.SNI
	} else {
		head += ", no SNI"
	}
	p.Printf("%s\n", p.Bold(head))
	t.timeline()
	t.negotiated()
	t.chain()
	t.findings()
	t.enum()
	t.verdict()
}

func (t *tlsText) timeline() {
	r, p := t.r, t.p
	if r.TCPConnect > 0 && len(r.Messages) > 0 {
		p.Detailf("  %10s  TCP connected (connect took %s; times are since then)\n", FormatMs(0), FormatMs(r.TCPConnect))
	}
	for _, m := range r.Messages {
		arrow := "→"
		if m.Dir == tlsprobe.Received {
			arrow = "←"
		}
		extra := ""
		if m.Alert != nil {
			extra = "  " + m.Alert.Level.String() + " " + m.Alert.Description.String()
		}
		if m.Encrypted {
			extra += p.Dim(" (encrypted)")
		}
		p.Detailf("  %10s  %s %-22s %6d B%s\n", FormatMs(m.At), arrow, m.Type, m.Bytes, extra)
	}
	if r.ViaTLS13 {
		p.Detailf("  %s\n", p.Dim("(the server refused TLS 1.2; a TLS 1.3 handshake made with Go's crypto/tls checked the certificate, not traced)"))
	}
}

func (t *tlsText) negotiated() {
	r, p := t.r, t.p
	if r.Version == 0 {
		return
	}
	line := fmt.Sprintf("%s, %s", r.Version, r.CipherSuite)
	switch {
	case r.KeyExchange == tlswire.KXECDHE && r.Group != 0:
		line += fmt.Sprintf(": ECDHE over %s", r.Group)
	case r.KeyExchange == tlswire.KXDHE && r.DHBits > 0:
		line += fmt.Sprintf(": DHE with a %d-bit prime", r.DHBits)
	case r.KeyExchange == tlswire.KXRSA:
		line += ": static RSA key exchange"
	}
	if r.SignatureAlgorithm != 0 {
		line += ", signed with " + r.SignatureAlgorithm.String()
	}
	p.Printf("%s\n", line)
	if r.Handshake > 0 {
		p.Printf("handshake %s (TCP connect %s)\n", FormatMs(r.Handshake), FormatMs(r.TCPConnect))
	}
}

func (t *tlsText) chain() {
	ch, p := t.r.Chain, t.p
	if ch == nil || p.Quiet() {
		return
	}
	p.Printf("certificate chain (%d sent):\n", len(ch.Certificates))
	for i, c := range ch.Certificates {
		left := fmt.Sprintf("%d days left", c.DaysLeft)
		if c.DaysLeft < 0 {
			left = p.Bad(fmt.Sprintf("expired %d days ago", -c.DaysLeft))
		}
		p.Printf("  %d %s\n", i, c.Subject)
		p.Printf("    issuer %s; %s; %s\n", c.Issuer, c.Key, c.SigAlg)
		p.Printf("    valid %s to %s (%s)\n", c.NotBefore.UTC().Format("2006-01-02"), c.NotAfter.UTC().Format("2006-01-02"), left)
		if len(c.SANs) > 0 {
			p.Printf("    SANs %s\n", strings.Join(c.SANs, ", "))
		}
		p.Printf("    SHA-256 %s\n", c.SHA256)
	}
}

// finding prints one line with a ✓ or ✗; -q keeps only the ✗ ones.
func (t *tlsText) finding(ok bool, format string, args ...any) {
	line := fmt.Sprintf("  %s %s\n", t.p.Check(ok), fmt.Sprintf(format, args...))
	if ok {
		t.p.Detailf("%s", line)
	} else {
		t.p.Printf("%s", line)
	}
}

// note prints an informational line, neither good nor bad.
func (t *tlsText) note(format string, args ...any) {
	t.p.Detailf("  %s %s\n", t.p.Dim("·"), fmt.Sprintf(format, args...))
}

func (t *tlsText) findings() {
	r := t.r
	if r.Version == 0 && r.Chain == nil && len(r.Checks) == 0 {
		return
	}
	t.p.Printf("findings:\n")
	if ch := r.Chain; ch != nil {
		switch {
		case len(ch.Path) > 0:
			// Verified up to a trusted root, whether or not the name matches.
			t.finding(true, "chain verified: %s", strings.Join(ch.Path, " ← "))
		case ch.Failure != nil:
			t.finding(false, "chain not valid: %s", ch.Failure.Detail)
		}
		if ch.Name != "" {
			t.finding(ch.NameMatch, "certificate valid for %s", ch.Name)
		}
		switch ch.Order {
		case tlsprobe.OrderOK:
			t.finding(true, "chain sent in order")
		case tlsprobe.OrderWrong:
			t.finding(false, "chain sent out of order (clients usually cope)")
		case tlsprobe.OrderUnrelated:
			t.finding(false, "chain contains certificates that belong to no path")
		}
	}
	if r.Version != 0 {
		t.finding(r.ForwardSecrecy, "forward secrecy (%s key exchange)", r.KeyExchange)
		if r.KeyExchange == tlswire.KXDHE && r.DHBits > 0 {
			t.finding(r.DHBits >= 2048, "DH prime of %d bits", r.DHBits)
		}
		t.finding(r.ExtendedMasterSecret, "extended master secret (RFC 7627)")
		t.finding(r.SecureRenegotiation, "secure renegotiation (RFC 5746)")
	}
	switch {
	case r.OCSP != nil && r.OCSP.Error != "":
		t.finding(false, "OCSP staple not usable: %s", r.OCSP.Error)
	case r.OCSP != nil:
		until := ""
		if !r.OCSP.NextUpdate.IsZero() {
			until = ", next update " + r.OCSP.NextUpdate.UTC().Format(time.RFC3339)
		}
		t.finding(r.OCSP.Status == "good" && r.OCSP.Fresh, "OCSP staple: %s, fresh %v%s", r.OCSP.Status, r.OCSP.Fresh, until)
	case r.Version != 0:
		t.note("no OCSP staple")
	}
	if r.ALPN != "" {
		t.note("ALPN %s", r.ALPN)
	}
	if r.ClientCertRequested {
		cas := "any CA"
		if len(r.ClientCertCAs) > 0 {
			cas = strings.Join(r.ClientCertCAs, "; ")
		}
		t.note("client certificate requested (acceptable CAs: %s)", cas)
	}
	if rs := r.Resumption; rs != nil {
		t.finding(rs.SessionID.Resumed, "resumption by session ID: %s", rs.SessionID.Detail)
		tk := rs.Ticket.Detail
		if rs.TicketIssued {
			life := "unspecified"
			if rs.TicketLifetime > 0 {
				life = rs.TicketLifetime.String()
			}
			tk += "; ticket lifetime hint " + life
		}
		t.finding(rs.Ticket.Resumed, "resumption by ticket: %s", tk)
	}
	if r.TLS13Supported != nil {
		t.finding(*r.TLS13Supported, "TLS 1.3 supported")
	}
	if s := r.SNICheck; s != nil {
		switch {
		case s.WithoutSNIError != "":
			t.note("without SNI the server fails: %s", s.WithoutSNIError)
		case s.SameCertificate:
			t.note("same certificate without SNI")
		default:
			t.note("another certificate without SNI (SHA-256 %s)", s.WithoutSNI)
		}
		if s.UnrecognizedName {
			t.finding(false, "the server does not recognise the name %s (unrecognized_name alert)", r.SNI)
		}
	}
	if h := r.HTTP; h != nil {
		f := h.Failure()
		switch {
		case f != nil && f.Reason == failure.NotHTTP:
			t.finding(false, "HTTP HEAD %s: not HTTP, %s", t.o.Path, f.Detail)
		case h.Error != "":
			t.finding(false, "HTTP HEAD %s: %s", t.o.Path, h.Error)
		default:
			more := ""
			if h.Location != "" {
				more += " → " + h.Location
			}
			if h.Server != "" {
				more += ", server " + h.Server
			}
			t.finding(f == nil, "HTTP HEAD %s: %s in %s%s", t.o.Path, h.StatusLine, FormatMs(h.Elapsed), more)
		}
	}
	for _, c := range r.Checks {
		t.finding(c.OK, "%s: %s", c.Name, c.Detail)
	}
}

func (t *tlsText) enum() {
	e, p := t.r.Enum, t.p
	if e == nil {
		return
	}
	p.Printf("enumeration: %d probes in %s\n", e.Probes, FormatMs(e.Elapsed))
	if len(e.Versions) == 0 {
		p.Printf("  no version accepted\n")
	}
	for i := len(e.Versions) - 1; i >= 0; i-- {
		v := e.Versions[i]
		order := "order of preference unknown"
		if so, known := e.ServerOrder[v]; known {
			order = "follows the client's order"
			if so {
				order = "server's order of preference"
			}
		}
		p.Printf("  %s (%s):\n", v, order)
		for _, s := range e.Suites {
			if s.Version == v {
				p.Printf("    %s\n", s.Suite)
			}
		}
	}
	for _, err := range e.Errors {
		p.Printf("  %s probe without answer: %s\n", p.Warn("!"), err)
	}
}

func (t *tlsText) verdict() {
	r, p := t.r, t.p
	if r.Healthy {
		p.Printf("%s healthy: %s handshake complete, certificate valid\n", p.Check(true), r.Version)
		return
	}
	f := r.Failure
	if f == nil {
		p.Printf("%s not healthy\n", p.Check(false))
		return
	}
	p.Printf("%s %s failure [%s]: %s\n", p.Check(false), f.Layer, f.Reason, f.Explain())
}
