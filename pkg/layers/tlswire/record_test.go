package tlswire

import (
	"bytes"
	"errors"
	"testing"
)

func TestParseRecordHeader(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want RecordHeader
		err  error
	}{
		{"handshake", []byte{22, 3, 1, 0, 200}, RecordHeader{ContentHandshake, VersionTLS10, 200}, nil},
		{"largest allowed", []byte{23, 3, 3, 0x48, 0x00}, RecordHeader{ContentApplicationData, VersionTLS12, MaxRecordLen}, nil},
		{"one byte too long", []byte{23, 3, 3, 0x48, 0x01}, RecordHeader{}, ErrRecordOverflow},
		{"16 MB handshake", []byte{22, 3, 3, 0xFF, 0xFF}, RecordHeader{}, ErrRecordOverflow},
		{"HTTP response", []byte("HTTP/1.1 200 OK"), RecordHeader{}, ErrUnknownContentType},
		{"SSH banner", []byte("SSH-2.0-OpenSSH"), RecordHeader{}, ErrUnknownContentType},
		{"SSLv2 hello", []byte{0x80, 0x2e, 0x01, 0x03, 0x01}, RecordHeader{}, ErrUnknownContentType},
		{"version 2.x", []byte{22, 2, 0, 0, 5}, RecordHeader{}, ErrBadRecordVersion},
		{"short", []byte{22, 3}, RecordHeader{}, errShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRecordHeader(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			var rh *RecordHeaderError
			if tt.err != nil && tt.err != errShort {
				if !errors.As(err, &rh) || !bytes.Equal(rh.Header[:], tt.in[:5]) {
					t.Errorf("error %v does not carry the header bytes", err)
				}
			}
		})
	}
}

func TestAppendRecords(t *testing.T) {
	data := bytes.Repeat([]byte{7}, MaxPlaintext+10)
	out := AppendRecords(nil, ContentApplicationData, VersionTLS12, data)
	h1, err := ParseRecordHeader(out)
	if err != nil || h1.Length != MaxPlaintext {
		t.Fatalf("first record %+v, %v", h1, err)
	}
	h2, err := ParseRecordHeader(out[RecordHeaderLen+MaxPlaintext:])
	if err != nil || h2.Length != 10 {
		t.Fatalf("second record %+v, %v", h2, err)
	}
	if _, err := AppendRecord(nil, ContentHandshake, VersionTLS12, make([]byte, MaxRecordLen+1)); err == nil {
		t.Error("AppendRecord accepted an oversized fragment")
	}
}

func TestReassembler(t *testing.T) {
	m1 := AppendHandshake(nil, TypeServerHello, bytes.Repeat([]byte{1}, 70))
	m2 := AppendHandshake(nil, TypeCertificate, bytes.Repeat([]byte{2}, 3000))
	m3 := AppendHandshake(nil, TypeServerHelloDone, nil)
	stream := append(append(append([]byte(nil), m1...), m2...), m3...)

	for _, chunk := range []int{1, 3, 4, 5, 100, 4096} {
		var r Reassembler
		var got [][]byte
		for i := 0; i < len(stream); i += chunk {
			if err := r.Write(stream[i:min(i+chunk, len(stream))]); err != nil {
				t.Fatal(err)
			}
			for {
				msg, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				if msg == nil {
					break
				}
				got = append(got, append([]byte(nil), msg...))
			}
		}
		if len(got) != 3 || !bytes.Equal(got[0], m1) || !bytes.Equal(got[1], m2) || !bytes.Equal(got[2], m3) {
			t.Errorf("chunk %d: got %d messages", chunk, len(got))
		}
		if r.Buffered() != 0 {
			t.Errorf("chunk %d: %d bytes left", chunk, r.Buffered())
		}
	}
}

func TestReassemblerLimit(t *testing.T) {
	r := Reassembler{Max: 1000}
	// The header alone is enough to refuse the message.
	err := r.Write([]byte{byte(TypeCertificate), 0, 0x03, 0xE9})
	var tl *MessageTooLargeError
	if !errors.As(err, &tl) || tl.Length != 1001 || tl.Limit != 1000 {
		t.Fatalf("err = %v", err)
	}
	// A message behind a good one is refused when it comes up.
	r = Reassembler{Max: 1000}
	in := AppendHandshake(nil, TypeServerHelloDone, nil)
	in = append(in, byte(TypeCertificate), 0xFF, 0xFF, 0xFF)
	if err := r.Write(in); err != nil {
		t.Fatal(err)
	}
	if msg, err := r.Next(); err != nil || len(msg) != 4 {
		t.Fatalf("first message: %v %v", msg, err)
	}
	if _, err := r.Next(); !errors.As(err, &tl) {
		t.Fatalf("second message: err = %v", err)
	}
	// Check refuses on the header alone.
	if err := (&Reassembler{}).Check([]byte{11, 0xFF, 0xFF, 0xFF}); !errors.As(err, &tl) || tl.Limit != DefaultMaxMessage {
		t.Errorf("Check: %v", err)
	}
	if err := (&Reassembler{}).Check([]byte{11, 0, 1, 0}); err != nil {
		t.Errorf("Check of a small message: %v", err)
	}
	// Exactly at the limit is fine.
	r = Reassembler{Max: 10}
	if err := r.Write(AppendHandshake(nil, TypeFinished, make([]byte, 10))); err != nil {
		t.Fatal(err)
	}
	if msg, err := r.Next(); err != nil || len(msg) != 14 {
		t.Fatalf("message at the limit: %d bytes, %v", len(msg), err)
	}
}

func TestAlerts(t *testing.T) {
	a, err := ParseAlert([]byte{2, 40})
	if err != nil || a != (Alert{AlertFatal, AlertHandshakeFailure}) {
		t.Fatalf("got %v, %v", a, err)
	}
	if a.String() != "fatal handshake_failure (40)" {
		t.Errorf("String() = %q", a.String())
	}
	if !bytes.Equal(a.Marshal(), []byte{2, 40}) {
		t.Error("Marshal")
	}
	for _, b := range [][]byte{{2}, {2, 40, 1}} {
		if _, err := ParseAlert(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("% x: err %v", b, err)
		}
	}
	// Every registry value has a name; the registry has 37 of them.
	named := 0
	for d := 0; d < 256; d++ {
		if AlertDescription(d).Known() {
			named++
		}
	}
	if named != 37 {
		t.Errorf("%d named alerts, want 37", named)
	}
	if AlertDescription(250).String() != "alert(250)" || AlertUnrecognizedName.String() != "unrecognized_name" {
		t.Error("names")
	}
	e := &AlertError{Alert: Alert{AlertFatal, AlertProtocolVersion}}
	if e.Error() != "tls: received alert fatal protocol_version (70)" {
		t.Errorf("AlertError: %q", e.Error())
	}
}

func TestVersions(t *testing.T) {
	for _, v := range Versions() {
		got, err := ParseVersion(v.String())
		if err != nil || got != v {
			t.Errorf("ParseVersion(%q) = %v, %v", v.String(), got, err)
		}
	}
	for in, want := range map[string]Version{"1.2": VersionTLS12, "TLSv1.3": VersionTLS13, "ssl3": VersionSSL30, "tls1": VersionTLS10} {
		if got, err := ParseVersion(in); err != nil || got != want {
			t.Errorf("ParseVersion(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseVersion("TLS 2.0"); err == nil {
		t.Error("ParseVersion accepted TLS 2.0")
	}
	if Version(0x7a7a).String() != "GREASE 0x7A7A" || Version(0x0305).String() != "0x0305" {
		t.Error("String of unknown versions")
	}
}
