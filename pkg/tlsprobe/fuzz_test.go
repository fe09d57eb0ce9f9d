package tlsprobe

import (
	"bufio"
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serverSides returns what the server sent on the first connection of
// each capture under testdata/tls.
func serverSides(f *testing.F) [][]byte {
	files, err := filepath.Glob("../../testdata/tls/*.hex")
	if err != nil || len(files) == 0 {
		f.Fatalf("no captures: %v", err)
	}
	var out [][]byte
	for _, name := range files {
		fh, err := os.Open(name)
		if err != nil {
			f.Fatal(err)
		}
		var server []byte
		conn := -1
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "# connection"):
				conn++
			case conn == 0 && strings.HasPrefix(line, "< "):
				b, err := hex.DecodeString(line[2:])
				if err != nil {
					f.Fatal(err)
				}
				server = append(server, b...)
			}
		}
		fh.Close()
		out = append(out, server)
	}
	return out
}

// FuzzHandshake runs the whole client against a server that answers the
// ClientHello with arbitrary bytes: whatever comes, the probe must end
// within its deadline with a failure, never panic or hang. Seeds are the
// server sides of real handshakes.
func FuzzHandshake(f *testing.F) {
	for _, s := range serverSides(f) {
		f.Add(s)
	}
	f.Fuzz(handshakeAgainst)
}

// handshakeAgainst probes a server that reads the ClientHello and answers
// with the given bytes.
func handshakeAgainst(t *testing.T, server []byte) {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, s := net.Pipe()
		go func() {
			defer s.Close()
			_ = s.SetDeadline(time.Now().Add(2 * time.Second))
			if !readHello(s) {
				return
			}
			// Keep reading, so that the client's alerts never block on a
			// pipe nobody reads.
			done := make(chan struct{})
			go func() {
				_, _ = io.Copy(io.Discard, s)
				close(done)
			}()
			_, _ = s.Write(server)
			<-done
		}()
		return c, nil
	}
	o := Options{ServerName: "localhost", Quick: true, StepTimeout: 100 * time.Millisecond, Timeout: time.Second, Dial: dial}
	start := time.Now()
	res := Probe(context.Background(), "localhost", netip.MustParseAddrPort("127.0.0.1:443"), o)
	if res.Healthy || res.Failure == nil {
		t.Fatalf("healthy %v, failure %v", res.Healthy, res.Failure)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("probe took %v", d)
	}
}

// FuzzParseHTTPHead feeds arbitrary response heads to the parser of the
// --http answer.
func FuzzParseHTTPHead(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n"))
	f.Add([]byte("<!DOCTYPE HTML>\r\n\r\n"))
	f.Fuzz(func(t *testing.T, head []byte) {
		var r HTTPResult
		parseHTTPHead(&r, head)
		if r.StatusCode != 0 && (r.StatusCode < 100 || r.StatusCode > 999) {
			t.Fatalf("status %d", r.StatusCode)
		}
	})
}
