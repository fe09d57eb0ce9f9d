package tlsprobe

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/netdiag/netdiag/internal/transcript"
)

// TestMain bounds how long the fuzzer minimizes each new input, unless
// -fuzzminimizetime says otherwise. FuzzHandshake's inputs are whole
// server flights of several kilobytes and every run costs a handshake's
// cryptography; with the default budget (up to 60 s per input, for a
// minimizer whose last pass is quadratic in the input's length) the
// fuzzer minimized the first inputs that found new code for the whole
// run and executed almost nothing else.
func TestMain(m *testing.M) {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.fuzzminimizetime" })
	if !given {
		if err := flag.Set("test.fuzzminimizetime", "200x"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

// serverSides returns what the server sent on the first connection of
// each capture under testdata/tls.
func serverSides(f *testing.F) [][]byte {
	files, err := filepath.Glob("../../testdata/tls/*.hex")
	if err != nil || len(files) == 0 {
		f.Fatalf("no captures: %v", err)
	}
	var out [][]byte
	for _, name := range files {
		segs, err := transcript.Read(name)
		if err != nil {
			f.Fatal(err)
		}
		var server []byte
		for _, s := range segs {
			if s.Conn == 0 && !s.FromClient {
				server = append(server, s.Data...)
			}
		}
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

// handshakeAgainst probes a server whose whole answer is the given bytes:
// each connection replays them and then reads as closed.
func handshakeAgainst(t *testing.T, server []byte) {
	// Fixed randomness: the same input takes the same path every time, so
	// the coverage it shows is its own and not the luck of the keys.
	cryptotest.SetGlobalRandom(t, 1)
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return &replayConn{r: bytes.NewReader(server)}, nil
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

// replayConn is a connection to a server that has sent all it will ever
// send and closed its side: reads return those bytes and then io.EOF,
// writes are taken and dropped. Nothing in it blocks or starts a
// goroutine, so one fuzz execution costs microseconds and leaves nothing
// running into the next one. (A pipe to a goroutine playing the server
// made every truncated input wait out the step timeout, and the leftover
// goroutines made coverage vary between runs of the same input, which
// kept the fuzzer minimizing instead of fuzzing.) Servers that stall
// rather than close are the hostile-server tests' subject.
type replayConn struct{ r *bytes.Reader }

func (c *replayConn) Read(b []byte) (int, error)  { return c.r.Read(b) }
func (c *replayConn) Write(b []byte) (int, error) { return len(b), nil }
func (c *replayConn) Close() error                { return nil }
func (c *replayConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (c *replayConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443}
}
func (c *replayConn) SetDeadline(time.Time) error      { return nil }
func (c *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }
