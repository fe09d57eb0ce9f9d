package tlsprobe

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"time"

	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// Direction says who sent a message.
type Direction string

// The two directions of the timeline.
const (
	Sent     Direction = "sent"
	Received Direction = "received"
)

// Event is one line of the handshake timeline: a handshake message, a
// ChangeCipherSpec or an alert.
type Event struct {
	Dir Direction
	// Type is the message name ("ClientHello", "ChangeCipherSpec") or, for
	// an alert, "Alert".
	Type string
	// Bytes is the message's size with its four-byte header (the
	// plaintext size for encrypted messages); for ChangeCipherSpec and
	// alerts, the record body's size.
	Bytes int
	// At is the time since the TCP connection was established.
	At time.Duration
	// Alert is set for alerts.
	Alert *tlswire.Alert
	// Encrypted tells that the message travelled protected.
	Encrypted bool
}

// recordConn is the record layer over one TCP connection: framing,
// protection, deadlines and the timeline.
type recordConn struct {
	conn net.Conn
	br   *bufio.Reader
	// start is when TCP connected; events are timed from it.
	start time.Time
	// step bounds each wait for one message from the server; deadline is
	// the end of the whole probe.
	step     time.Duration
	deadline time.Time
	now      func() time.Time

	version tlswire.Version // record version we write
	in, out *protection     // nil until ChangeCipherSpec

	hs     tlswire.Reassembler
	outBuf []byte
	queued []Event // events of records not yet flushed
	events []Event
	// first is true until the first record arrives: a bad header then
	// means the server does not speak TLS at all.
	first bool
	// closeSent: our close_notify is on its way; nothing may follow it.
	closeSent bool
	// stepStart is when the current wait for the server began.
	stepStart time.Time
}

func newRecordConn(c net.Conn, start time.Time, step time.Duration, deadline time.Time, maxMessage int, now func() time.Time) *recordConn {
	return &recordConn{
		conn: c, br: bufio.NewReaderSize(c, 8192), start: start, step: step, deadline: deadline, now: now,
		version: tlswire.VersionTLS10, hs: tlswire.Reassembler{Max: maxMessage}, first: true,
	}
}

func (r *recordConn) since() time.Duration { return r.now().Sub(r.start) }

// beginStep arms the read deadline for one wait: now plus the step
// timeout, never beyond the probe's deadline.
func (r *recordConn) beginStep() error {
	r.stepStart = r.now()
	return r.conn.SetReadDeadline(stepDeadline(r.deadline, r.stepStart, r.step))
}

// waitError is a wait for the server that ran out of time: the step's, or
// what was left of the probe's.
type waitError struct {
	waited time.Duration
	err    error // the socket's timeout
}

func (e *waitError) Error() string {
	return "no answer in " + e.waited.Round(time.Millisecond).String()
}

func (e *waitError) Unwrap() error { return e.err }

// waitFailed turns a socket timeout into a waitError that says how long
// the wait since begin lasted; other errors pass unchanged.
func (r *recordConn) waitFailed(err error, begin time.Time) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &waitError{waited: r.now().Sub(begin), err: err}
	}
	return err
}

// queue adds a record to the next flight.
func (r *recordConn) queue(t tlswire.ContentType, data []byte, ev Event) error {
	for {
		n := min(len(data), tlswire.MaxPlaintext)
		frag := data[:n]
		data = data[n:]
		if r.out != nil {
			var err error
			if frag, err = r.out.seal(t, r.version, frag); err != nil {
				return err
			}
		}
		var err error
		if r.outBuf, err = tlswire.AppendRecord(r.outBuf, t, r.version, frag); err != nil {
			return err
		}
		if len(data) == 0 {
			break
		}
	}
	ev.Dir = Sent
	ev.Encrypted = r.out != nil
	r.queued = append(r.queued, ev)
	return nil
}

// flush sends the queued flight in one write and stamps its events.
func (r *recordConn) flush() error {
	if len(r.outBuf) == 0 {
		return nil
	}
	begin := r.now()
	if err := r.conn.SetWriteDeadline(stepDeadline(r.deadline, begin, r.step)); err != nil {
		return err
	}
	_, err := r.conn.Write(r.outBuf)
	err = r.waitFailed(err, begin)
	at := r.since()
	for _, ev := range r.queued {
		ev.At = at
		r.events = append(r.events, ev)
	}
	r.outBuf, r.queued = r.outBuf[:0], r.queued[:0]
	return err
}

func (r *recordConn) queueHandshake(msg []byte) error {
	return r.queue(tlswire.ContentHandshake, msg, Event{Type: tlswire.HandshakeType(msg[0]).String(), Bytes: len(msg)})
}

func (r *recordConn) queueCCS() error {
	return r.queue(tlswire.ContentChangeCipherSpec, []byte{1}, Event{Type: "ChangeCipherSpec", Bytes: 1})
}

// sendAlert tells the server why we stop; errors are ignored because the
// connection is being abandoned anyway.
func (r *recordConn) sendAlert(d tlswire.AlertDescription) {
	a := tlswire.Alert{Level: tlswire.AlertFatal, Description: d}
	if d == tlswire.AlertCloseNotify {
		a.Level = tlswire.AlertWarning
		r.closeSent = true
	}
	if r.queue(tlswire.ContentAlert, a.Marshal(), Event{Type: "Alert", Bytes: 2, Alert: &a}) == nil {
		_ = r.flush()
	}
}

// closeGracefully hangs up, first sending close_notify when the handshake
// got as far as protecting our records. OpenSSL treats a peer that
// vanishes without close_notify as a fatal error and drops the session
// from its cache, so an abrupt close would make the server forget the
// very session the probe is about to resume by ID.
func (r *recordConn) closeGracefully() {
	if r.out != nil && !r.closeSent {
		r.sendAlert(tlswire.AlertCloseNotify)
	}
	_ = r.conn.Close()
}

// readRecord reads and unprotects one record.
func (r *recordConn) readRecord() (tlswire.ContentType, []byte, error) {
	var hdr [tlswire.RecordHeaderLen]byte
	if n, err := io.ReadFull(r.br, hdr[:]); err != nil {
		// A few bytes and a hang-up, as a first answer, are another
		// protocol's short reply unless they could begin a TLS record.
		if r.first && n > 0 && !recordPrefix(hdr[:n]) {
			return 0, nil, &notTLSError{header: hdr[:n]}
		}
		return 0, nil, r.waitFailed(err, r.stepStart)
	}
	h, err := tlswire.ParseRecordHeader(hdr[:])
	if err != nil {
		// A first record that is not even shaped like TLS means another
		// protocol; a TLS-shaped one that is too long is a broken server.
		if r.first && !errors.Is(err, tlswire.ErrRecordOverflow) {
			return 0, nil, &notTLSError{header: hdr[:], more: r.peek()}
		}
		return 0, nil, err
	}
	r.first = false
	body := make([]byte, h.Length)
	got := 0
	if h.Type == tlswire.ContentHandshake && r.in == nil && r.hs.Buffered() == 0 && h.Length >= tlswire.HandshakeHeaderLen {
		// A message header at the start of the record is checked before
		// the rest of the record is awaited, so that a huge length claim
		// fails at once instead of after a slow drip of bytes.
		if _, err := io.ReadFull(r.br, body[:tlswire.HandshakeHeaderLen]); err != nil {
			return 0, nil, r.waitFailed(unexpectedEOF(err), r.stepStart)
		}
		if err := r.hs.Check(body[:tlswire.HandshakeHeaderLen]); err != nil {
			return 0, nil, err
		}
		got = tlswire.HandshakeHeaderLen
	}
	if _, err := io.ReadFull(r.br, body[got:]); err != nil {
		return 0, nil, r.waitFailed(unexpectedEOF(err), r.stepStart)
	}
	if r.in != nil {
		if body, err = r.in.open(h.Type, h.Version, body); err != nil {
			return 0, nil, err
		}
	}
	if len(body) > tlswire.MaxPlaintext {
		return 0, nil, errRecordTooLong
	}
	return h.Type, body, nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// peek returns what else the server sent with a non-TLS first record, to
// recognise the protocol it speaks; it never waits.
func (r *recordConn) peek() []byte {
	b, _ := r.br.Peek(r.br.Buffered())
	return append([]byte(nil), b...)
}

// message is what readMessage returns: a whole handshake message, or a
// ChangeCipherSpec.
type message struct {
	raw []byte // the handshake message, header included; nil for CCS
	ccs bool
}

// readMessage waits, within one step's deadline, for the next handshake
// message or ChangeCipherSpec. Warning alerts are logged and skipped;
// a fatal alert or close_notify ends the handshake with *tlswire.AlertError.
func (r *recordConn) readMessage() (message, error) {
	if err := r.beginStep(); err != nil {
		return message{}, err
	}
	for {
		if raw, err := r.hs.Next(); err != nil {
			return message{}, err
		} else if raw != nil {
			raw = append([]byte(nil), raw...)
			r.events = append(r.events, Event{Dir: Received, Type: tlswire.HandshakeType(raw[0]).String(),
				Bytes: len(raw), At: r.since(), Encrypted: r.in != nil})
			if tlswire.HandshakeType(raw[0]) == tlswire.TypeHelloRequest && len(raw) == tlswire.HandshakeHeaderLen {
				// RFC 5246 section 7.4.1.1: a client in a handshake
				// ignores HelloRequest (and it is not part of the
				// transcript).
				continue
			}
			return message{raw: raw}, nil
		}
		t, body, err := r.readRecord()
		if err != nil {
			return message{}, err
		}
		switch t {
		case tlswire.ContentHandshake:
			if err := r.hs.Write(body); err != nil {
				return message{}, err
			}
		case tlswire.ContentChangeCipherSpec:
			if len(body) != 1 || body[0] != 1 || r.hs.Buffered() != 0 {
				return message{}, &tlswire.ParseError{What: "ChangeCipherSpec", Detail: "bad body or inside a handshake message"}
			}
			r.events = append(r.events, Event{Dir: Received, Type: "ChangeCipherSpec", Bytes: 1, At: r.since()})
			return message{ccs: true}, nil
		case tlswire.ContentAlert:
			a, err := tlswire.ParseAlert(body)
			if err != nil {
				return message{}, err
			}
			r.events = append(r.events, Event{Dir: Received, Type: "Alert", Bytes: len(body), At: r.since(), Alert: &a, Encrypted: r.in != nil})
			if a.Level == tlswire.AlertWarning && a.Description != tlswire.AlertCloseNotify {
				continue
			}
			return message{}, &tlswire.AlertError{Alert: a}
		default:
			return message{}, fmt.Errorf("unexpected %v record during the handshake", t)
		}
	}
}

// readApplicationData returns the next application data record's
// plaintext; io.EOF after the server's close_notify or connection close.
func (r *recordConn) readApplicationData() ([]byte, error) {
	for {
		t, body, err := r.readRecord()
		if err != nil {
			return nil, err
		}
		switch t {
		case tlswire.ContentApplicationData:
			r.events = append(r.events, Event{Dir: Received, Type: "ApplicationData", Bytes: len(body), At: r.since(), Encrypted: true})
			return body, nil
		case tlswire.ContentAlert:
			a, err := tlswire.ParseAlert(body)
			if err != nil {
				return nil, err
			}
			if a.Description == tlswire.AlertCloseNotify {
				return nil, io.EOF
			}
			if a.Level == tlswire.AlertFatal {
				return nil, &tlswire.AlertError{Alert: a}
			}
		case tlswire.ContentHandshake:
			// A HelloRequest asks for renegotiation, which a probe
			// declines by ignoring it, as RFC 5246 allows.
		default:
			return nil, fmt.Errorf("unexpected %v record after the handshake", t)
		}
	}
}

// notTLSError is a first record header that is not TLS: the peer speaks
// another protocol, or something else entirely.
type notTLSError struct {
	header []byte // the first record header, or fewer bytes when the server hung up
	more   []byte
}

func (e *notTLSError) Error() string {
	if p := sniffProtocol(append(slices.Clone(e.header), e.more...)); p != "" {
		return "the server answered in " + p + ", not TLS"
	}
	return fmt.Sprintf("the server's answer is not TLS (first bytes % x)", e.header)
}

// recordPrefix reports whether b, shorter than a record header, could
// begin one: a known content type, then major version 3.
func recordPrefix(b []byte) bool {
	return tlswire.ContentType(b[0]).Known() && (len(b) < 2 || b[1] == 3)
}
