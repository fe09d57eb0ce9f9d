package tlsprobe

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"slices"
	"time"

	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// DialFunc opens the TCP connection; net.Dialer's DialContext fits, and
// tests substitute their own.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// session is what resuming needs from an earlier handshake.
type session struct {
	id     []byte
	ticket []byte
	master []byte
	suite  tlswire.CipherSuite
	ems    bool
}

// handshakeConfig drives one connection.
type handshakeConfig struct {
	addr     string
	dial     DialFunc
	now      func() time.Time
	step     time.Duration
	deadline time.Time
	maxMsg   int
	hello    helloParams
	// resume offers this session: by ID when ticket is nil, else by ticket.
	resume *session
	// stopAfter ends the handshake, successfully, once this message has
	// arrived; the zero value runs the whole handshake.
	stopAfter tlswire.HandshakeType
	// stopUnlessResumed ends the handshake after ServerHello when the
	// server did not resume the offered session.
	stopUnlessResumed bool
}

// handshakeState is one connection's handshake: what was offered, what
// came back, and the record layer. Its fields are filled as the
// handshake goes on, so a failed handshake still reports how far it got.
type handshakeState struct {
	cfg *handshakeConfig
	rc  *recordConn

	connectTime time.Duration
	helloSent   time.Time
	duration    time.Duration // ClientHello sent to server Finished verified

	hello       *tlswire.ClientHello
	offered     []tlswire.ExtensionType // the extensions of our hello, as sent
	serverHello *tlswire.ServerHello
	suite       *suite
	transcript  []byte

	certs        []*x509.Certificate
	rawCerts     [][]byte
	ske          *tlswire.ServerKeyExchange
	ocsp         []byte
	certRequest  *tlswire.CertificateRequest
	ticket       *tlswire.NewSessionTicket
	dhBits       int
	resumed      bool
	ems          bool
	complete     bool
	master       []byte
	serverRandom []byte
}

// protocolError is a server that broke the protocol's rules: a message
// out of order, a value we never offered.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }

func protocolErrorf(format string, args ...any) error {
	return &protocolError{msg: fmt.Sprintf(format, args...)}
}

// errStopped ends a handshake on purpose at cfg.stopAfter.
var errStopped = errors.New("stopped on purpose")

// runHandshake connects and runs a TLS 1.2 handshake. It returns the
// state even on error; on success the connection is left open in
// st.rc for an application request, and the caller closes it.
func runHandshake(ctx context.Context, cfg *handshakeConfig) (*handshakeState, error) {
	st := &handshakeState{cfg: cfg}
	rc, took, stop, err := connect(ctx, cfg)
	if err != nil {
		return st, err
	}
	defer stop()
	st.connectTime, st.rc = took, rc
	err = st.run()
	if errors.Is(err, errStopped) {
		err = nil
	}
	if err != nil || !st.complete {
		_ = rc.conn.Close()
	}
	if err != nil {
		err = endedBy(ctx, cfg, err)
	}
	return st, err
}

// endedBy marks err as caused by the end of the probe when it is: the
// context is done, or a wait ran into the overall deadline, which the
// socket's deadline can reach a moment before the context notices.
func endedBy(ctx context.Context, cfg *handshakeConfig, err error) error {
	cause := ctx.Err()
	var we *waitError
	if cause == nil && errors.As(err, &we) && !cfg.deadline.IsZero() && !cfg.now().Before(cfg.deadline) {
		cause = context.DeadlineExceeded
	}
	if cause == nil {
		return err
	}
	return &endedError{ctx: cause, err: err}
}

// endedError is a failure caused by the end of the probe's context: its
// overall deadline, or a cancellation.
type endedError struct{ ctx, err error }

func (e *endedError) Error() string {
	if errors.Is(e.ctx, context.Canceled) {
		return "interrupted: " + e.err.Error()
	}
	return "the probe's time limit ran out: " + e.err.Error()
}

func (e *endedError) Unwrap() []error { return []error{e.ctx, e.err} }

// connect opens the TCP connection within one step and puts a record
// layer on it. Until stop is called, cancelling ctx interrupts any wait on
// the connection at once.
func connect(ctx context.Context, cfg *handshakeConfig) (rc *recordConn, took time.Duration, stop func() bool, err error) {
	dialCtx, cancel := context.WithDeadline(ctx, stepDeadline(cfg.deadline, cfg.now(), cfg.step))
	defer cancel()
	begin := cfg.now()
	conn, err := cfg.dial(dialCtx, "tcp", cfg.addr)
	if err != nil {
		return nil, 0, nil, &dialError{err: err}
	}
	connected := cfg.now()
	stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	rc = newRecordConn(conn, connected, cfg.step, cfg.deadline, cfg.maxMsg, cfg.now)
	if cfg.hello.version == tlswire.VersionSSL30 {
		rc.version = tlswire.VersionSSL30
	}
	return rc, connected.Sub(begin), stop, nil
}

// sendHello builds the ClientHello for p and sends it.
func sendHello(rc *recordConn, p helloParams) (*tlswire.ClientHello, []byte, error) {
	hello, raw, err := buildHello(p)
	if err != nil {
		return nil, nil, fmt.Errorf("build ClientHello: %w", err)
	}
	if err := rc.queueHandshake(raw); err != nil {
		return nil, nil, err
	}
	if err := rc.flush(); err != nil {
		return nil, nil, fmt.Errorf("send ClientHello: %w", err)
	}
	return hello, raw, nil
}

// stepDeadline is the end of one wait: now plus the step timeout, but
// never beyond the overall deadline (zero when there is none).
func stepDeadline(deadline, now time.Time, step time.Duration) time.Time {
	d := now.Add(step)
	if !deadline.IsZero() && deadline.Before(d) {
		return deadline
	}
	return d
}

func (st *handshakeState) run() error {
	p := st.cfg.hello
	if r := st.cfg.resume; r != nil {
		if r.ticket != nil {
			// RFC 5077 section 3.4: a fresh session ID lets us see the
			// server accept the ticket, and no server knows it, so the
			// session-ID mechanism stays out of the test.
			p.offerTicket, p.ticket, p.sessionID = true, r.ticket, make([]byte, 32)
			if _, err := rand.Read(p.sessionID); err != nil {
				return err
			}
		} else {
			p.sessionID = r.id
		}
	}
	st.helloSent = st.cfg.now()
	hello, raw, err := sendHello(st.rc, p)
	if err != nil {
		return err
	}
	st.hello = hello
	if sent, err := tlswire.ParseClientHello(raw); err == nil {
		st.offered = sent.Order
	}
	st.addTranscript(raw)
	if err := st.readServerHello(); err != nil {
		return err
	}
	if st.cfg.stopAfter == tlswire.TypeServerHello || (st.cfg.stopUnlessResumed && !st.resumed) {
		return errStopped
	}
	if st.resumed {
		return st.abbreviated()
	}
	return st.full()
}

func (st *handshakeState) addTranscript(raw []byte) { st.transcript = append(st.transcript, raw...) }

func (st *handshakeState) transcriptHash() []byte {
	h := st.suite.prf()
	h.Write(st.transcript)
	return h.Sum(nil)
}

// expect reads the next handshake message and checks its type.
func (st *handshakeState) expect(want ...tlswire.HandshakeType) ([]byte, error) {
	m, err := st.rc.readMessage()
	if err != nil {
		return nil, fmt.Errorf("read %v: %w", want[0], err)
	}
	if m.ccs {
		return nil, protocolErrorf("expected %v, got ChangeCipherSpec", want[0])
	}
	t := tlswire.HandshakeType(m.raw[0])
	for _, w := range want {
		if t == w {
			return m.raw, nil
		}
	}
	return nil, protocolErrorf("expected %v, got %v", want[0], t)
}

func (st *handshakeState) readServerHello() error {
	raw, err := st.expect(tlswire.TypeServerHello)
	var ae *tlswire.AlertError
	if errors.As(err, &ae) && (ae.Alert.Description == tlswire.AlertHandshakeFailure || ae.Alert.Description == tlswire.AlertInsufficientSecurity) {
		// The answer to a hello: nothing offered was acceptable.
		return fmt.Errorf("%w: the server accepts none of the cipher suites (or groups, or signature algorithms) this client offers; an enumeration shows what it accepts", err)
	}
	if err != nil {
		return err
	}
	sh, err := tlswire.ParseServerHello(raw)
	if err != nil {
		return fmt.Errorf("parse ServerHello: %w", err)
	}
	st.serverHello = sh
	st.serverRandom = sh.Random[:]
	st.addTranscript(raw)
	if sh.IsHelloRetryRequest() || sh.NegotiatedVersion() == tlswire.VersionTLS13 {
		return &versionError{chosen: tlswire.VersionTLS13}
	}
	if v := sh.NegotiatedVersion(); v != tlswire.VersionTLS12 {
		st.rc.sendAlert(tlswire.AlertProtocolVersion)
		return &versionError{chosen: v}
	}
	st.rc.version = tlswire.VersionTLS12
	// RFC 5246 section 7.4.1.4: a server answers only the extensions the
	// client sent.
	for _, t := range sh.Order {
		if !slices.Contains(st.offered, t) {
			st.rc.sendAlert(tlswire.AlertUnsupportedExtension)
			return protocolErrorf("server sent the %v extension, which we did not offer", t)
		}
	}
	if !slices.Contains(st.hello.CipherSuites, sh.CipherSuite) {
		st.rc.sendAlert(tlswire.AlertIllegalParameter)
		return protocolErrorf("server chose %v, which we did not offer", sh.CipherSuite)
	}
	if st.suite = suiteByID(sh.CipherSuite); st.suite == nil {
		st.rc.sendAlert(tlswire.AlertHandshakeFailure)
		return protocolErrorf("server chose %v, which this client cannot complete", sh.CipherSuite)
	}
	if sh.CompressionMethod != 0 {
		st.rc.sendAlert(tlswire.AlertIllegalParameter)
		return protocolErrorf("server chose compression method %d", sh.CompressionMethod)
	}
	if sh.SecureRenegotiation && len(sh.RenegotiationInfo) != 0 {
		st.rc.sendAlert(tlswire.AlertHandshakeFailure)
		return protocolErrorf("renegotiation_info is not empty on a first handshake")
	}
	if sh.ALPN != "" && !slices.Contains(st.hello.ALPN, sh.ALPN) {
		st.rc.sendAlert(tlswire.AlertIllegalParameter)
		return protocolErrorf("server chose ALPN protocol %q, which we did not offer", sh.ALPN)
	}
	st.ems = sh.ExtendedMasterSecret && st.hello.ExtendedMasterSecret
	if r := st.cfg.resume; r != nil && len(sh.SessionID) > 0 && bytes.Equal(sh.SessionID, st.hello.SessionID) {
		if sh.CipherSuite != r.suite || st.ems != r.ems {
			st.rc.sendAlert(tlswire.AlertIllegalParameter)
			return protocolErrorf("server resumed the session with different parameters")
		}
		st.resumed, st.master = true, r.master
	}
	return nil
}

// full runs the rest of a full handshake after ServerHello.
func (st *handshakeState) full() error {
	// Server flight: Certificate, [CertificateStatus], [ServerKeyExchange],
	// [CertificateRequest], ServerHelloDone.
	raw, err := st.expect(tlswire.TypeCertificate)
	if err != nil {
		return err
	}
	cert, err := tlswire.ParseCertificate(raw)
	if err != nil {
		return fmt.Errorf("parse Certificate: %w", err)
	}
	if len(cert.Certificates) == 0 {
		st.rc.sendAlert(tlswire.AlertBadCertificate)
		return protocolErrorf("server sent an empty certificate list")
	}
	st.addTranscript(raw)
	st.rawCerts = cert.Certificates
	for i, der := range cert.Certificates {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			st.rc.sendAlert(tlswire.AlertBadCertificate)
			return fmt.Errorf("parse certificate %d: %w", i, err)
		}
		st.certs = append(st.certs, c)
	}
	if st.cfg.stopAfter == tlswire.TypeCertificate {
		return errStopped
	}
	ctx := tlswire.Context{Version: tlswire.VersionTLS12, Suite: st.suite.id}
	next := []tlswire.HandshakeType{tlswire.TypeCertificateStatus, tlswire.TypeServerKeyExchange, tlswire.TypeCertificateRequest, tlswire.TypeServerHelloDone}
	for {
		raw, err := st.expect(next...)
		if err != nil {
			return err
		}
		st.addTranscript(raw)
		t := tlswire.HandshakeType(raw[0])
		// Each message may come once, in this order.
		next = next[slices.Index(next, t)+1:]
		switch t {
		case tlswire.TypeCertificateStatus:
			cs, err := tlswire.ParseCertificateStatus(raw)
			if err != nil {
				return fmt.Errorf("parse CertificateStatus: %w", err)
			}
			if !st.serverHello.OCSPStapling {
				return protocolErrorf("CertificateStatus without status_request in ServerHello")
			}
			st.ocsp = cs.Response
		case tlswire.TypeServerKeyExchange:
			if st.suite.kx == tlswire.KXRSA {
				return protocolErrorf("ServerKeyExchange with RSA key exchange")
			}
			if st.ske, err = tlswire.ParseServerKeyExchange(raw, ctx); err != nil {
				return fmt.Errorf("parse ServerKeyExchange: %w", err)
			}
			if err := verifyServerKeyExchange(st.certs[0], st.ske, st.hello.Random[:], st.serverRandom, st.cfg.hello.schemes); err != nil {
				st.rc.sendAlert(tlswire.AlertDecryptError)
				return fmt.Errorf("verify ServerKeyExchange: %w", err)
			}
			if st.ske.KX == tlswire.KXDHE {
				st.dhBits = new(big.Int).SetBytes(st.ske.P).BitLen()
			}
		case tlswire.TypeCertificateRequest:
			if st.certRequest, err = tlswire.ParseCertificateRequest(raw, tlswire.VersionTLS12); err != nil {
				return fmt.Errorf("parse CertificateRequest: %w", err)
			}
		case tlswire.TypeServerHelloDone:
			if st.suite.kx != tlswire.KXRSA && st.ske == nil {
				return protocolErrorf("no ServerKeyExchange for %s key exchange", st.suite.kx)
			}
			return st.finishFull()
		}
	}
}

// finishFull sends the client's flight and checks the server's.
func (st *handshakeState) finishFull() error {
	if st.certRequest != nil {
		// We have no certificate: an empty list says so (RFC 5246
		// section 7.4.6); the server decides whether to go on.
		empty, _ := (&tlswire.Certificate{}).Marshal()
		st.addTranscript(empty)
		if err := st.rc.queueHandshake(empty); err != nil {
			return err
		}
	}
	var kx *keyExchange
	var err error
	switch st.suite.kx {
	case tlswire.KXECDHE:
		kx, err = ecdheExchange(st.ske, st.cfg.hello.groups)
	case tlswire.KXDHE:
		kx, err = dheExchange(st.ske, rand.Reader)
	case tlswire.KXRSA:
		kx, err = rsaExchange(st.certs[0], st.hello.Version)
	}
	if err != nil {
		st.rc.sendAlert(tlswire.AlertIllegalParameter)
		return fmt.Errorf("key exchange: %w", err)
	}
	cke, err := (&tlswire.ClientKeyExchange{KX: st.suite.kx, Data: kx.public, Version: tlswire.VersionTLS12}).Marshal()
	if err != nil {
		return err
	}
	st.addTranscript(cke)
	if err := st.rc.queueHandshake(cke); err != nil {
		return err
	}
	st.master = masterSecret(st.suite.prf, kx.preMaster, st.hello.Random[:], st.serverRandom, st.transcriptHash(), st.ems)
	if err := st.sendFinished(); err != nil {
		return err
	}
	return st.readServerFinished(true)
}

// abbreviated completes a resumed handshake: the server's [NewSessionTicket],
// ChangeCipherSpec and Finished come first, then ours.
func (st *handshakeState) abbreviated() error {
	if err := st.readServerFinished(false); err != nil {
		return err
	}
	return st.sendFinished()
}

// keys derives the record protection for both directions.
func (st *handshakeState) keys() (client, server *protection, err error) {
	s := st.suite
	cMAC, sMAC, cKey, sKey, cIV, sIV := keyBlock(s.prf, st.master, st.hello.Random[:], st.serverRandom, s.macLen, s.keyLen, s.ivLen)
	if client, err = newProtection(s, cKey, cIV, cMAC); err != nil {
		return nil, nil, err
	}
	if server, err = newProtection(s, sKey, sIV, sMAC); err != nil {
		return nil, nil, err
	}
	return client, server, nil
}

func (st *handshakeState) sendFinished() error {
	client, _, err := st.keys()
	if err != nil {
		return err
	}
	if err := st.rc.queueCCS(); err != nil {
		return err
	}
	st.rc.out = client
	fin, _ := (&tlswire.Finished{VerifyData: finishedData(st.suite.prf, st.master, true, st.transcriptHash())}).Marshal()
	st.addTranscript(fin)
	if err := st.rc.queueHandshake(fin); err != nil {
		return err
	}
	if err := st.rc.flush(); err != nil {
		return fmt.Errorf("send Finished: %w", err)
	}
	if st.resumed {
		st.finish()
	}
	return nil
}

// readServerFinished reads [NewSessionTicket], ChangeCipherSpec and the
// server's Finished, and verifies it.
func (st *handshakeState) readServerFinished(full bool) error {
	for {
		m, err := st.rc.readMessage()
		if err != nil {
			if full {
				return fmt.Errorf("read server ChangeCipherSpec: %w", err)
			}
			return fmt.Errorf("read ChangeCipherSpec of the resumed session: %w", err)
		}
		if m.ccs {
			break
		}
		if t := tlswire.HandshakeType(m.raw[0]); t != tlswire.TypeNewSessionTicket || !st.serverHello.TicketSupported {
			if !full && t == tlswire.TypeCertificate {
				return protocolErrorf("server echoed the session ID but sent a Certificate")
			}
			return protocolErrorf("expected ChangeCipherSpec, got %v", t)
		}
		nst, err := tlswire.ParseNewSessionTicket(m.raw)
		if err != nil {
			return fmt.Errorf("parse NewSessionTicket: %w", err)
		}
		st.ticket = nst
		st.addTranscript(m.raw)
	}
	_, server, err := st.keys()
	if err != nil {
		return err
	}
	st.rc.in = server
	want := finishedData(st.suite.prf, st.master, false, st.transcriptHash())
	raw, err := st.expect(tlswire.TypeFinished)
	if err != nil {
		return err
	}
	fin, err := tlswire.ParseFinished(raw)
	if err != nil {
		return fmt.Errorf("parse Finished: %w", err)
	}
	if !hmac.Equal(fin.VerifyData, want) {
		st.rc.sendAlert(tlswire.AlertDecryptError)
		return errBadFinished
	}
	st.addTranscript(raw)
	if full {
		st.finish()
	}
	return nil
}

// errBadFinished is a server Finished that does not match the transcript:
// the two sides saw different handshakes or derived different keys.
var errBadFinished = errors.New("server Finished does not verify")

func (st *handshakeState) finish() {
	st.complete = true
	st.duration = st.cfg.now().Sub(st.helloSent)
}

// sessionForResumption returns the session to offer on a later connection.
func (st *handshakeState) sessionForResumption() *session {
	if !st.complete {
		return nil
	}
	s := &session{id: st.serverHello.SessionID, master: st.master, suite: st.suite.id, ems: st.ems}
	if st.ticket != nil && len(st.ticket.Ticket) > 0 {
		s.ticket = st.ticket.Ticket
	}
	return s
}

// versionError is a server that chose a version other than TLS 1.2.
type versionError struct{ chosen tlswire.Version }

func (e *versionError) Error() string {
	return fmt.Sprintf("server chose %v; this handshake needs TLS 1.2", e.chosen)
}

// dialError is a TCP connection that could not be made.
type dialError struct{ err error }

func (e *dialError) Error() string { return "TCP connect: " + dialReason(e.err) }
func (e *dialError) Unwrap() error { return e.err }

// dialReason says why a connect failed without the socket call's
// plumbing: "connection refused", not "dial tcp 198.18.1.10:9: connect:
// connection refused" (the address is in the report already).
func dialReason(err error) string {
	var ne net.Error
	var se *os.SyscallError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer in time"
	case errors.As(err, &se):
		return se.Err.Error()
	}
	return err.Error()
}
