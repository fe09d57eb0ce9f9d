package tlswire

import "fmt"

// HandshakeType is the first byte of a handshake message.
type HandshakeType uint8

// The handshake types of the IANA registry, plus next_protocol (67) from
// the NPN draft, which deployed clients still send.
const (
	TypeHelloRequest             HandshakeType = 0
	TypeClientHello              HandshakeType = 1
	TypeServerHello              HandshakeType = 2
	TypeHelloVerifyRequest       HandshakeType = 3
	TypeNewSessionTicket         HandshakeType = 4
	TypeEndOfEarlyData           HandshakeType = 5
	TypeHelloRetryRequest        HandshakeType = 6
	TypeEncryptedExtensions      HandshakeType = 8
	TypeRequestConnectionID      HandshakeType = 9
	TypeNewConnectionID          HandshakeType = 10
	TypeCertificate              HandshakeType = 11
	TypeServerKeyExchange        HandshakeType = 12
	TypeCertificateRequest       HandshakeType = 13
	TypeServerHelloDone          HandshakeType = 14
	TypeCertificateVerify        HandshakeType = 15
	TypeClientKeyExchange        HandshakeType = 16
	TypeClientCertificateRequest HandshakeType = 17
	TypeFinished                 HandshakeType = 20
	TypeCertificateURL           HandshakeType = 21
	TypeCertificateStatus        HandshakeType = 22
	TypeSupplementalData         HandshakeType = 23
	TypeKeyUpdate                HandshakeType = 24
	TypeCompressedCertificate    HandshakeType = 25
	TypeEKTKey                   HandshakeType = 26
	TypeNextProtocol             HandshakeType = 67
	TypeMessageHash              HandshakeType = 254
)

// handshakeNames are written as the RFCs write the message structs
// ("ServerHelloDone"), which is also what tlsprobe's timeline shows.
var handshakeNames = map[HandshakeType]string{
	TypeHelloRequest:             "HelloRequest",
	TypeClientHello:              "ClientHello",
	TypeServerHello:              "ServerHello",
	TypeHelloVerifyRequest:       "HelloVerifyRequest",
	TypeNewSessionTicket:         "NewSessionTicket",
	TypeEndOfEarlyData:           "EndOfEarlyData",
	TypeHelloRetryRequest:        "HelloRetryRequest",
	TypeEncryptedExtensions:      "EncryptedExtensions",
	TypeRequestConnectionID:      "RequestConnectionId",
	TypeNewConnectionID:          "NewConnectionId",
	TypeCertificate:              "Certificate",
	TypeServerKeyExchange:        "ServerKeyExchange",
	TypeCertificateRequest:       "CertificateRequest",
	TypeServerHelloDone:          "ServerHelloDone",
	TypeCertificateVerify:        "CertificateVerify",
	TypeClientKeyExchange:        "ClientKeyExchange",
	TypeClientCertificateRequest: "ClientCertificateRequest",
	TypeFinished:                 "Finished",
	TypeCertificateURL:           "CertificateURL",
	TypeCertificateStatus:        "CertificateStatus",
	TypeSupplementalData:         "SupplementalData",
	TypeKeyUpdate:                "KeyUpdate",
	TypeCompressedCertificate:    "CompressedCertificate",
	TypeEKTKey:                   "EKTKey",
	TypeNextProtocol:             "NextProtocol",
	TypeMessageHash:              "MessageHash",
}

// String returns the message name ("ClientHello") or "handshake(N)".
func (t HandshakeType) String() string {
	if n, ok := handshakeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("handshake(%d)", uint8(t))
}

// HandshakeHeaderLen is the size of a handshake message header: one type
// byte and a 24-bit length.
const HandshakeHeaderLen = 4

// DefaultMaxMessage is the Reassembler's default bound on one handshake
// message: generous for a certificate chain (real chains are 3-10 KiB), far
// below the 16 MiB a 24-bit length can claim.
const DefaultMaxMessage = 64 << 10

// Reassembler turns the fragments of handshake records into whole
// handshake messages. Messages may span records and records may hold
// several messages. Memory is bounded: a header claiming more than Max
// bytes fails at once, so at most one record plus one message is buffered.
type Reassembler struct {
	// Max bounds one message's body; 0 means DefaultMaxMessage.
	Max int

	buf  []byte
	head int // start of the unread part of buf
}

// Write appends the body of one handshake record. It fails as soon as the
// header of the next message is complete and claims more than Max bytes.
// Messages returned by Next before this call are invalid afterwards.
func (r *Reassembler) Write(fragment []byte) error {
	if r.head > 0 {
		n := copy(r.buf, r.buf[r.head:])
		r.buf, r.head = r.buf[:n], 0
	}
	r.buf = append(r.buf, fragment...)
	_, err := r.pending()
	return err
}

// pending returns the body length claimed by the header at the read
// position, or -1 when fewer than four bytes are buffered.
func (r *Reassembler) pending() (int, error) {
	p := r.buf[r.head:]
	if len(p) < HandshakeHeaderLen {
		return -1, nil
	}
	if err := r.Check(p); err != nil {
		return 0, err
	}
	return int(p[1])<<16 | int(p[2])<<8 | int(p[3]), nil
}

// Check tests a message header (its first four bytes) against the limit
// without buffering anything, for callers that want to refuse a message
// before its body arrives.
func (r *Reassembler) Check(header []byte) error {
	if len(header) < HandshakeHeaderLen {
		return nil
	}
	n := int(header[1])<<16 | int(header[2])<<8 | int(header[3])
	if limit := r.max(); n > limit {
		return &MessageTooLargeError{Type: HandshakeType(header[0]), Length: n, Limit: limit}
	}
	return nil
}

func (r *Reassembler) max() int {
	if r.Max > 0 {
		return r.Max
	}
	return DefaultMaxMessage
}

// Next returns the next complete message, header included, or nil when
// more fragments are needed. The slice stays valid until the next Write;
// a caller that keeps it longer must copy it.
func (r *Reassembler) Next() ([]byte, error) {
	n, err := r.pending()
	if err != nil || n < 0 || len(r.buf)-r.head < HandshakeHeaderLen+n {
		return nil, err
	}
	msg := r.buf[r.head : r.head+HandshakeHeaderLen+n]
	r.head += HandshakeHeaderLen + n
	return msg, nil
}

// Buffered is the number of bytes of incomplete messages held.
func (r *Reassembler) Buffered() int { return len(r.buf) - r.head }

// Reset drops everything buffered.
func (r *Reassembler) Reset() { r.buf, r.head = r.buf[:0], 0 }

// AppendHandshake appends a handshake message of type t with body to dst.
func AppendHandshake(dst []byte, t HandshakeType, body []byte) []byte {
	n := len(body)
	dst = append(dst, byte(t), byte(n>>16), byte(n>>8), byte(n))
	return append(dst, body...)
}
