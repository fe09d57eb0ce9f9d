package diagnose

import (
	"testing"
	"unicode/utf8"
)

// FuzzParseHead feeds arbitrary response heads to the parser: it must not
// panic, and what it keeps to show must be short printable text.
func FuzzParseHead(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.0 503 Service Unavailable\r\n\r\n",
		"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
		"220 mail.lab.test ESMTP Postfix\r\n",
		"\x15\x03\x01\x00\x02\x02\x28",
		"HTTP/1.1 99999 Weird\r\n\r\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		res := &HTTPResult{}
		parseHead(res, head)
		if res.StatusCode == 0 {
			if len(res.StatusLine) > 80 || !utf8.ValidString(res.StatusLine) {
				t.Fatalf("status line kept %q", res.StatusLine)
			}
			if res.Failure() == nil && len(head) > 0 {
				t.Fatalf("an answer without a status passed: %+v", res)
			}
		} else if res.StatusCode < 100 || res.StatusCode > 999 {
			t.Fatalf("status %d", res.StatusCode)
		}
		if len(res.Server) > 90 {
			t.Fatalf("server %q", res.Server)
		}
	})
}
