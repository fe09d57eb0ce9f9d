package tlswire

import "errors"

// Record describes one complete record seen on a stream.
type Record struct {
	RecordHeader
	// Offset is where the record's header starts in its direction's byte
	// stream, counted from the first byte fed.
	Offset int64 `json:"offset"`
	// Encrypted is set for records whose body is protected: every record
	// but ChangeCipherSpec after that direction's ChangeCipherSpec (TLS
	// 1.0-1.2), and application data at any time. Encrypted handshake records are not
	// parsed as messages.
	Encrypted bool `json:"encrypted,omitempty"`
	// Alert is the decoded body of a plaintext alert record.
	Alert *Alert `json:"alert,omitempty"`
}

// HandshakeMessage is one reassembled handshake message.
type HandshakeMessage struct {
	Type HandshakeType
	// Raw is the whole message, header included; it is a copy owned by the
	// HandshakeMessage.
	Raw []byte
	// Msg is the parsed message, nil when parsing failed.
	Msg Message
	// Err is the parse error, if any; the stream goes on after it.
	Err error
}

// Len is the length of the message body, as its header states.
func (m *HandshakeMessage) Len() int { return len(m.Raw) - HandshakeHeaderLen }

// ErrStreamBroken is returned by Conversation.Feed for a direction that
// failed before: without a valid record boundary there is no way to
// resynchronise, so later bytes of that direction are not interpreted.
var ErrStreamBroken = errors.New("tls stream already failed")

// Conversation follows both directions of one TLS connection through its
// records and handshake messages, as a packet decoder sees them. Feed each
// TCP payload in stream order with its direction (0 and 1, in any
// assignment); the results are the records and messages that the bytes
// complete. The two directions share what ServerHello negotiates, which
// ServerKeyExchange and ClientKeyExchange need to be parsed.
//
// Memory is bounded per direction by one record (MaxRecordLen) plus one
// handshake message (MaxMessage). Only the bodies of plaintext handshake
// and alert records are buffered: of an encrypted record or application
// data only the header is kept while its body passes, so a long encrypted
// transfer holds five bytes per direction.
type Conversation struct {
	// MaxMessage bounds a handshake message; 0 means DefaultMaxMessage.
	MaxMessage int

	ctx  Context
	dirs [2]flow
}

type flow struct {
	buf    []byte // bytes of an incomplete record (only its header while skipping)
	skip   int    // body bytes still to pass of a record whose body is not kept
	offset int64  // stream offset of the next record's header
	hs     Reassembler
	ccs    bool // ChangeCipherSpec seen: what follows is encrypted
	err    error
}

// Negotiated returns the version and suite from the ServerHello seen so
// far (zero before it).
func (c *Conversation) Negotiated() Context { return c.ctx }

// Buffered is the number of bytes held for both directions: incomplete
// records and handshake messages.
func (c *Conversation) Buffered() int {
	n := 0
	for i := range c.dirs {
		n += len(c.dirs[i].buf) + c.dirs[i].hs.Buffered()
	}
	return n
}

// Feed consumes data from direction dir (0 or 1) and returns the records
// and handshake messages it completes. The first error of a direction is
// returned once, with whatever was completed before it; the direction is
// then ignored and later calls return ErrStreamBroken.
func (c *Conversation) Feed(dir int, data []byte) ([]Record, []HandshakeMessage, error) {
	return c.AppendFeed(nil, nil, dir, data)
}

// AppendFeed is Feed appending to recs and msgs, so that a caller who
// reuses them allocates nothing for the lists.
func (c *Conversation) AppendFeed(recs []Record, msgs []HandshakeMessage, dir int, data []byte) ([]Record, []HandshakeMessage, error) {
	f := &c.dirs[dir&1]
	if f.err != nil {
		return recs, msgs, ErrStreamBroken
	}
	f.hs.Max = c.MaxMessage
	var err error
	for len(data) > 0 {
		if f.skip > 0 {
			n := min(f.skip, len(data))
			f.skip, data = f.skip-n, data[n:]
			if f.skip > 0 {
				break
			}
			if recs, msgs, err = c.complete(f, f.buf, recs, msgs); err != nil {
				return recs, msgs, err
			}
			continue
		}
		var whole []byte // a complete record, header included
		if len(f.buf) == 0 && len(data) >= RecordHeaderLen {
			// Fast path: the record starts here; use it in place if whole.
			h, err := ParseRecordHeader(data)
			if err != nil {
				f.err = err
				return recs, msgs, err
			}
			if n := RecordHeaderLen + h.Length; len(data) >= n {
				whole, data = data[:n], data[n:]
			}
		}
		if whole == nil {
			// Take only as many bytes as the current record needs, so that
			// a bad header fails before any body is buffered.
			need := RecordHeaderLen - len(f.buf)
			if need <= 0 {
				h, _ := ParseRecordHeader(f.buf)
				need = RecordHeaderLen + h.Length - len(f.buf)
			}
			n := min(need, len(data))
			f.buf = append(f.buf, data[:n]...)
			data = data[n:]
			if len(f.buf) < RecordHeaderLen {
				break
			}
			h, err := ParseRecordHeader(f.buf)
			if err != nil {
				f.err = err
				return recs, msgs, err
			}
			if len(f.buf) == RecordHeaderLen && h.Length > 0 && !f.keepsBody(h) {
				f.skip = h.Length
				continue
			}
			if len(f.buf) < RecordHeaderLen+h.Length {
				continue
			}
			whole = f.buf
		}
		if recs, msgs, err = c.complete(f, whole, recs, msgs); err != nil {
			return recs, msgs, err
		}
	}
	return recs, msgs, nil
}

// keepsBody reports whether the body of a record with header h is needed:
// only plaintext handshake messages and alerts are read.
func (f *flow) keepsBody(h RecordHeader) bool {
	switch {
	case h.Type == ContentApplicationData:
		return false
	case f.ccs && h.Type != ContentChangeCipherSpec:
		return false
	}
	return h.Type == ContentHandshake || h.Type == ContentAlert
}

// complete interprets the record whose header starts rec (with its body
// after it, or alone when the body was skipped) and appends the results.
func (c *Conversation) complete(f *flow, rec []byte, recs []Record, msgs []HandshakeMessage) ([]Record, []HandshakeMessage, error) {
	h, _ := ParseRecordHeader(rec)
	r, msgs, err := c.record(f, h, rec[RecordHeaderLen:], msgs)
	recs = append(recs, r)
	f.offset += int64(RecordHeaderLen + h.Length)
	f.buf = f.buf[:0]
	if err != nil {
		f.err = err
	}
	return recs, msgs, err
}

// record interprets one complete record of flow f and appends the
// handshake messages it completes to msgs. body is empty for records
// whose body was not kept.
func (c *Conversation) record(f *flow, h RecordHeader, body []byte, msgs []HandshakeMessage) (Record, []HandshakeMessage, error) {
	rec := Record{RecordHeader: h, Offset: f.offset}
	switch {
	case h.Type == ContentChangeCipherSpec:
		// In TLS 1.3 ChangeCipherSpec is only a middlebox decoy; protected
		// records there are always application_data.
		if c.ctx.Version != VersionTLS13 {
			f.ccs = true
		}
		return rec, msgs, nil
	case f.ccs || h.Type == ContentApplicationData:
		rec.Encrypted = true
		return rec, msgs, nil
	case h.Type == ContentAlert:
		if a, err := ParseAlert(body); err == nil {
			rec.Alert = &a
		}
		return rec, msgs, nil
	case h.Type != ContentHandshake:
		return rec, msgs, nil
	}
	if err := f.hs.Write(body); err != nil {
		return rec, msgs, err
	}
	for {
		raw, err := f.hs.Next()
		if err != nil {
			return rec, msgs, err
		}
		if raw == nil {
			return rec, msgs, nil
		}
		hm := HandshakeMessage{Type: HandshakeType(raw[0]), Raw: append([]byte(nil), raw...)}
		hm.Msg, hm.Err = ParseMessage(hm.Raw, c.ctx)
		if sh, ok := hm.Msg.(*ServerHello); ok {
			c.ctx = Context{Version: sh.NegotiatedVersion(), Suite: sh.CipherSuite}
		}
		msgs = append(msgs, hm)
	}
}
