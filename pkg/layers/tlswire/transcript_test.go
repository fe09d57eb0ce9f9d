package tlswire

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/netdiag/netdiag/internal/transcript"
)

// The captures under testdata/tls are real handshakes recorded by
// testdata/tls/capture.sh (openssl s_server/s_client and gnutls-serv on
// loopback); each .hex file lists the TCP payloads in order.
const captureDir = "../../../testdata/tls"

// segment is one TCP payload of a capture.
type segment = transcript.Segment

func loadTranscript(t testing.TB, name string) []segment {
	t.Helper()
	segs, err := transcript.Read(filepath.Join(captureDir, name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	return segs
}

func transcriptNames(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(captureDir, "*.hex"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts in %s: %v", captureDir, err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(filepath.Base(f), ".hex")
	}
	return names
}

// observed is what a Conversation reports for one segment.
type observed struct {
	conn       int
	fromClient bool
	records    []Record
	messages   []HandshakeMessage
	err        error
}

// replay feeds a transcript to one Conversation per TCP connection.
func replay(t testing.TB, segs []segment) []observed {
	t.Helper()
	convs := map[int]*Conversation{}
	var out []observed
	for _, s := range segs {
		c := convs[s.Conn]
		if c == nil {
			c = &Conversation{}
			convs[s.Conn] = c
		}
		dir := 1
		if s.FromClient {
			dir = 0
		}
		recs, msgs, err := c.Feed(dir, s.Data)
		out = append(out, observed{s.Conn, s.FromClient, recs, msgs, err})
	}
	return out
}

// messagesOf returns every handshake message of a transcript, in order.
func messagesOf(t testing.TB, name string) []HandshakeMessage {
	t.Helper()
	var all []HandshakeMessage
	for _, o := range replay(t, loadTranscript(t, name)) {
		if o.err != nil {
			t.Fatalf("%s: %v", name, o.err)
		}
		all = append(all, o.messages...)
	}
	return all
}
