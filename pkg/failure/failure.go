// Package failure is netdiag's one vocabulary for saying where connectivity
// breaks and why. Every probe (ping, tcpprobe, tlsprobe, diagnose) reports a
// failed check as a Failure: the TCP/IP layer at which it broke and a Reason
// from the fixed list below. Each Reason carries a plain-language sentence and
// the class of device most likely at fault, so the text output of every
// command explains a failure the same way and scripts can match on the
// stable reason strings in JSON.
//
// The package also defines the error kinds that decide netdiag's exit codes
// (see Kind); libraries wrap their errors in an *Error of the right kind and
// the CLI turns that into one line on stderr and the exit status.
package failure

import (
	"fmt"
	"sort"
)

// Layer names a layer of the TCP/IP model as netdiag reports it. Name
// resolution is not a layer of the model, but it is the first thing that
// can fail, so it has its own value.
type Layer string

// The layers, from the bottom of a connection attempt to the top.
const (
	LayerDNS         Layer = "dns"
	LayerLink        Layer = "link"
	LayerNetwork     Layer = "network"
	LayerTransport   Layer = "transport"
	LayerTLS         Layer = "tls"
	LayerApplication Layer = "application"
)

// Layers lists every layer in the order a connection attempt climbs them.
func Layers() []Layer {
	return []Layer{LayerDNS, LayerLink, LayerNetwork, LayerTransport, LayerTLS, LayerApplication}
}

// Rank orders layers bottom-up (dns is 0); an unknown layer ranks -1.
func (l Layer) Rank() int {
	for i, x := range Layers() {
		if x == l {
			return i
		}
	}
	return -1
}

// Reason is a stable, machine-readable cause of a failure. The string
// values are part of netdiag's JSON contract: never rename one.
type Reason string

// Name resolution.
const (
	NXDomain   Reason = "nxdomain"    // the name does not exist
	ServFail   Reason = "servfail"    // the resolver failed to answer
	DNSRefused Reason = "dns-refused" // the resolver refused the query
	DNSTimeout Reason = "dns-timeout" // no resolver answered in time
	NoAddress  Reason = "no-address"  // the name exists but has no address of the asked family
)

// Link and routing.
const (
	NoRoute            Reason = "no-route"            // the local routing table has no route
	NeighborUnresolved Reason = "neighbor-unresolved" // ARP or neighbour discovery got no answer
	LinkDown           Reason = "link-down"           // the outgoing interface is down
)

// Network layer, mostly from ICMP errors.
const (
	NetUnreachable    Reason = "net-unreachable"
	HostUnreachable   Reason = "host-unreachable"
	ProtoUnreachable  Reason = "proto-unreachable"
	AdminProhibited   Reason = "admin-prohibited"
	TTLExceeded       Reason = "ttl-exceeded"
	ReassemblyTimeout Reason = "reassembly-timeout"
	FragNeeded        Reason = "frag-needed"
	SourceRouteFailed Reason = "source-route-failed"
	ParamProblem      Reason = "param-problem"
	Corrupt           Reason = "corrupt" // replies arrived damaged
)

// Transport layer.
const (
	Timeout         Reason = "timeout"          // nothing came back in time
	Refused         Reason = "refused"          // the connection was refused
	Reset           Reason = "reset"            // a TCP RST came back
	Filtered        Reason = "filtered"         // dropped or rejected by a filter
	PortUnreachable Reason = "port-unreachable" // ICMP port unreachable
)

// TLS.
const (
	TLSAlert            Reason = "tls-alert"
	TLSProtocolVersion  Reason = "tls-protocol-version"
	TLSMalformed        Reason = "tls-malformed"
	NotTLS              Reason = "not-tls"
	TLSClosed           Reason = "tls-closed" // the server hung up mid-handshake without an alert
	CertExpired         Reason = "cert-expired"
	CertNotYetValid     Reason = "cert-not-yet-valid"
	CertUntrusted       Reason = "cert-untrusted"
	CertNameMismatch    Reason = "cert-name-mismatch"
	CertChainIncomplete Reason = "cert-chain-incomplete"
	CertExpiringSoon    Reason = "cert-expiring-soon"
)

// Application and thresholds.
const (
	HTTPError  Reason = "http-error"  // the application answered with an error status
	NoResponse Reason = "no-response" // the application accepted the connection but did not answer
	NotHTTP    Reason = "not-http"    // the application answered in another protocol than HTTP
	Threshold  Reason = "threshold"   // a limit set on the command line was breached
	PacketLoss Reason = "packet-loss" // some but not all probes were answered
)

type reasonInfo struct {
	layer    Layer
	sentence string
	device   string
}

// reasons is the single table behind Reason's methods. The sentence says
// what happened in plain words; device names who is most likely at fault.
var reasons = map[Reason]reasonInfo{
	NXDomain:   {LayerDNS, "the name does not exist (NXDOMAIN)", "the DNS zone or a typo in the name"},
	ServFail:   {LayerDNS, "the resolver could not answer (SERVFAIL)", "the DNS resolver or the zone's name servers"},
	DNSRefused: {LayerDNS, "the resolver refused the query", "the DNS resolver"},
	DNSTimeout: {LayerDNS, "no DNS server answered in time", "the DNS resolver, or a firewall blocking port 53"},
	NoAddress:  {LayerDNS, "the name exists but has no address of the requested family", "the DNS zone"},

	NoRoute:            {LayerNetwork, "this machine has no route to the address", "this machine's routing table"},
	NeighborUnresolved: {LayerLink, "the next hop does not answer ARP or neighbour discovery", "the next hop is down, or the wrong subnet or VLAN"},
	LinkDown:           {LayerLink, "the outgoing interface is down", "this machine's interface, cable or switch port"},

	NetUnreachable:    {LayerNetwork, "a router has no route to the destination network", "a router"},
	HostUnreachable:   {LayerNetwork, "the destination host is unreachable (a router got no ARP answer, or the route is unreachable)", "the host is down, or a router"},
	ProtoUnreachable:  {LayerNetwork, "the host does not speak the protocol used", "the host itself"},
	AdminProhibited:   {LayerNetwork, "a firewall rejects the traffic (administratively prohibited)", "a firewall"},
	TTLExceeded:       {LayerNetwork, "the packet's TTL ran out on the way: a routing loop or a path longer than the TTL", "a router (routing loop)"},
	ReassemblyTimeout: {LayerNetwork, "the destination could not reassemble a fragmented packet in time", "the path drops fragments"},
	FragNeeded:        {LayerNetwork, "the packet is larger than a link's MTU and may not be fragmented", "a router with a smaller MTU"},
	SourceRouteFailed: {LayerNetwork, "a source route failed", "a router"},
	ParamProblem:      {LayerNetwork, "a router or the host found a bad header field", "a router or the host"},
	Corrupt:           {LayerNetwork, "the replies arrived damaged (bad checksum or changed payload)", "a faulty link or network card, or a middlebox rewriting packets"},

	Timeout:         {LayerTransport, "no answer in time: packets are dropped silently", "a firewall dropping packets, or the host is down"},
	Refused:         {LayerTransport, "the connection was refused", "the host itself (nothing listens), or a firewall rejecting"},
	Reset:           {LayerTransport, "the host answered with a TCP reset: it is up, but nothing listens on that port", "the host itself"},
	Filtered:        {LayerTransport, "the traffic is filtered", "a firewall"},
	PortUnreachable: {LayerTransport, "the port is unreachable (ICMP port unreachable)", "the host itself, or a firewall rejecting"},

	TLSAlert:            {LayerTLS, "the server ended the TLS handshake with an alert", "the TLS server's configuration"},
	TLSProtocolVersion:  {LayerTLS, "client and server share no TLS protocol version", "the TLS server's configuration"},
	TLSMalformed:        {LayerTLS, "the TLS messages were malformed", "the TLS server, or a middlebox rewriting traffic"},
	NotTLS:              {LayerTLS, "the server does not speak TLS on this port", "the service on that port"},
	TLSClosed:           {LayerTLS, "the server closed the connection during the TLS handshake without an alert", "the TLS server's configuration, or a middlebox cutting TLS"},
	CertExpired:         {LayerTLS, "a certificate in the chain has expired", "the server's certificate"},
	CertNotYetValid:     {LayerTLS, "a certificate in the chain is not valid yet", "the server's certificate, or a wrong clock"},
	CertUntrusted:       {LayerTLS, "the certificate chain does not lead to a trusted root", "the server's certificate (self-signed or unknown CA)"},
	CertNameMismatch:    {LayerTLS, "the certificate is not valid for the name asked for", "the server's certificate or SNI setup"},
	CertChainIncomplete: {LayerTLS, "the server does not send the intermediate certificates", "the server's certificate configuration"},
	CertExpiringSoon:    {LayerTLS, "a certificate in the chain expires sooner than allowed", "the server's certificate"},

	HTTPError:  {LayerApplication, "the application answered with an error status", "the application"},
	NoResponse: {LayerApplication, "the application accepted the connection but did not answer", "the application"},
	NotHTTP:    {LayerApplication, "the service on that port does not speak HTTP", "the service on that port"},
	Threshold:  {LayerApplication, "a limit set on the command line was breached", "the path or the host (see the figures)"},
	PacketLoss: {LayerNetwork, "some probes were lost", "a congested or lossy link, or rate limiting"},
}

// atLayer refines a reason's sentence and device when it is reported at a
// layer whose facts change them: a timeout once the TCP connection is up
// is not a packet filter's doing.
var atLayer = map[Reason]map[Layer]reasonInfo{
	Timeout: {
		LayerTLS: {LayerTLS, "the server accepted the connection but did not answer in time",
			"the server (hung, overloaded, or expecting another protocol first), or a middlebox holding the connection"},
	},
}

// Known reports whether r is one of the reasons defined here.
func (r Reason) Known() bool { _, ok := reasons[r]; return ok }

// Layer is the layer at which this reason usually places a failure. A probe
// may report it at another layer (a timeout during the TLS handshake is a
// TLS-layer timeout); Failure.Layer carries the layer actually meant.
func (r Reason) Layer() Layer { return reasons[r].layer }

// Sentence says in plain words what the reason means.
func (r Reason) Sentence() string {
	if i, ok := reasons[r]; ok {
		return i.sentence
	}
	return string(r)
}

// Device names the device class most likely at fault.
func (r Reason) Device() string { return reasons[r].device }

// Reasons lists every defined reason, sorted.
func Reasons() []Reason {
	out := make([]Reason, 0, len(reasons))
	for r := range reasons {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Failure says where a check failed and why. It is the value every probe
// puts in its results; it is also an error, so it can be returned and
// matched with errors.As.
type Failure struct {
	Layer  Layer  `json:"layer"`
	Reason Reason `json:"reason"`
	// Detail adds facts specific to this failure ("from 198.18.0.1",
	// "alert handshake_failure"). It may be empty.
	Detail string `json:"detail,omitempty"`
	// From is the address of the device that reported the failure, when an
	// ICMP error or a TLS alert named one.
	From string `json:"from,omitempty"`
}

// New returns a Failure for reason r at r's usual layer.
func New(r Reason, detail string) *Failure {
	return &Failure{Layer: r.Layer(), Reason: r, Detail: detail}
}

// At returns a copy of f placed at layer l.
func (f Failure) At(l Layer) *Failure {
	f.Layer = l
	return &f
}

// Error renders f as "layer: reason: detail".
func (f *Failure) Error() string {
	s := string(f.Layer) + ": " + string(f.Reason)
	if f.Detail != "" {
		s += ": " + f.Detail
	}
	return s
}

// Explain says the failure in plain words with the likely device, e.g.
// "a firewall rejects the traffic (administratively prohibited), reported by
// 198.18.0.1 — likely at fault: a firewall".
func (f *Failure) Explain() string {
	s, device := f.Reason.Sentence(), f.Reason.Device()
	if i, ok := atLayer[f.Reason][f.Layer]; ok {
		s, device = i.sentence, i.device
	}
	if f.Detail != "" {
		s += " (" + f.Detail + ")"
	}
	if f.From != "" {
		s += ", reported by " + f.From
	}
	if device != "" {
		s += "; likely at fault: " + device
	}
	return s
}

// Kind classifies an error by what the user can do about it; it decides
// the process exit code, identical for every command.
type Kind int

// The kinds, with their exit codes.
const (
	// KindCheck: the target answered badly or not at all. Exit 1.
	KindCheck Kind = 1
	// KindInput: bad flag, bad address, unreadable or malformed file. Exit 2.
	KindInput Kind = 2
	// KindResolve: name resolution failed. Exit 3.
	KindResolve Kind = 3
	// KindLocal: the local environment prevents the probe (no permission
	// for raw sockets, no such interface). Exit 4.
	KindLocal Kind = 4
)

// ExitCode is the process exit status for k.
func (k Kind) ExitCode() int { return int(k) }

// Error is an error with a Kind. Msg is the one line shown to the user; Err
// is the cause kept for errors.Is/As and for --debug style inspection, never
// printed raw.
type Error struct {
	Kind Kind
	Msg  string
	Err  error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Inputf returns a KindInput error with a formatted message.
func Inputf(format string, args ...any) *Error {
	return &Error{Kind: KindInput, Msg: fmt.Sprintf(format, args...)}
}

// Localf returns a KindLocal error wrapping cause.
func Localf(cause error, format string, args ...any) *Error {
	return &Error{Kind: KindLocal, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// Checkf returns a KindCheck error with a formatted message.
func Checkf(format string, args ...any) *Error {
	return &Error{Kind: KindCheck, Msg: fmt.Sprintf(format, args...)}
}
