// Package transcript reads the TLS conversations kept as text under
// testdata/tls (written by testdata/tls/capture.sh from real handshakes)
// for the tests that replay them: a line "# connection N" starts each TCP
// connection, then each TCP payload is a line of its own, "> " and hex
// for what the client sent, "< " and hex for what the server sent.
package transcript

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// Segment is one TCP payload of a transcript.
type Segment struct {
	Conn       int // the connection's number, from 0
	FromClient bool
	Data       []byte
}

// Read returns the segments of the transcript at path, in order.
func Read(path string) ([]Segment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Segment
	conn := -1
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# connection"):
			conn++
		case strings.HasPrefix(line, "> "), strings.HasPrefix(line, "< "):
			b, err := hex.DecodeString(line[2:])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, n, err)
			}
			out = append(out, Segment{Conn: conn, FromClient: line[0] == '>', Data: b})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: empty transcript", path)
	}
	return out, nil
}
