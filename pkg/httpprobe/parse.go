package httpprobe

import (
	"bytes"
	"io"
	"strconv"
	"strings"
)

// readHead reads up to the blank line that ends a response head, the end
// of the stream, or MaxHead bytes, whichever comes first. It stops as soon
// as the bytes cannot begin an HTTP response, since another protocol's
// server may say no more. The error is the read's when the head is not
// complete.
func readHead(r io.Reader) ([]byte, error) {
	var head []byte
	buf := make([]byte, 4096)
	for len(head) < MaxHead {
		n, err := r.Read(buf[:min(len(buf), MaxHead-len(head))])
		head = append(head, buf[:n]...)
		switch {
		case bytes.Contains(head, []byte("\r\n\r\n")), bytes.Contains(head, []byte("\n\n")):
			return head, nil
		case !couldBeHTTP(head):
			return head, nil
		case err != nil:
			return head, err
		}
	}
	return head, nil
}

// couldBeHTTP reports whether b can be the start of an HTTP response.
func couldBeHTTP(b []byte) bool {
	const prefix = "HTTP/"
	if len(b) < len(prefix) {
		return string(b) == prefix[:len(b)]
	}
	return string(b[:len(prefix)]) == prefix
}

// parseHead fills the status and the headers of res from a response head,
// complete or cut short. A first line that is not an HTTP status line is
// kept, shortened and without control characters, as the sign of another
// protocol.
func parseHead(res *Result, head []byte) {
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	first := lines[0]
	f := strings.Fields(first)
	code := 0
	if len(f) >= 2 && strings.HasPrefix(f[0], "HTTP/") {
		if c, err := strconv.Atoi(f[1]); err == nil && c >= 100 && c <= 999 {
			code = c
		}
	}
	if code == 0 {
		res.StatusLine = printable(first, 60)
		switch {
		case len(head) >= 2 && (head[0] == 0x15 || head[0] == 0x16) && head[1] == 0x03:
			// An alert or handshake record: the port wants TLS.
			res.StatusLine = "a TLS record: this port speaks TLS (try --tls)"
		case strings.TrimSpace(first) == "":
			res.StatusLine = "an empty line"
		case res.StatusLine == "" || 2*printableBytes(first) < len(first):
			res.StatusLine = strconv.Itoa(len(first)) + " bytes of binary data"
			if len(first) == 1 {
				res.StatusLine = "1 byte of binary data"
			}
		}
		return
	}
	res.StatusLine, res.StatusCode = printable(first, 200), code
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "server":
			res.Server = printable(v, 80)
		case "location":
			res.Location = printable(v, 200)
		case "content-type":
			res.ContentType = printable(v, 80)
		}
	}
}

// printable keeps the printable ASCII of s, at most n bytes of it and an
// ellipsis when there was more.
func printable(s string, n int) string {
	var b strings.Builder
	for _, c := range s {
		if c < 0x20 || c >= 0x7f {
			continue
		}
		if b.Len() == n {
			b.WriteString("…")
			break
		}
		b.WriteRune(c)
	}
	return strings.TrimSpace(b.String())
}

// printableBytes counts the printable ASCII bytes of s.
func printableBytes(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x20 && s[i] < 0x7f {
			n++
		}
	}
	return n
}
