package tlswire

import (
	"bufio"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The captures under testdata/tls are real handshakes recorded by
// testdata/tls/capture.sh (openssl s_server/s_client and gnutls-serv on
// loopback); each .hex file lists the TCP payloads in order.
const captureDir = "../../../testdata/tls"

// segment is one TCP payload of a capture.
type segment struct {
	conn       int
	fromClient bool
	data       []byte
}

func loadTranscript(t testing.TB, name string) []segment {
	t.Helper()
	f, err := os.Open(filepath.Join(captureDir, name+".hex"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []segment
	conn := -1
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# connection"):
			conn++
		case strings.HasPrefix(line, "> "), strings.HasPrefix(line, "< "):
			b, err := hex.DecodeString(line[2:])
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out = append(out, segment{conn: conn, fromClient: line[0] == '>', data: b})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: empty transcript", name)
	}
	return out
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
		c := convs[s.conn]
		if c == nil {
			c = &Conversation{}
			convs[s.conn] = c
		}
		dir := 1
		if s.fromClient {
			dir = 0
		}
		recs, msgs, err := c.Feed(dir, s.data)
		out = append(out, observed{s.conn, s.fromClient, recs, msgs, err})
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
