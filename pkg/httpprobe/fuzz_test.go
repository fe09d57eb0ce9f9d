package httpprobe

import (
	"testing"
	"unicode/utf8"
)

// FuzzParseHead feeds arbitrary response heads to the parser: it must not
// panic, what it keeps to show must be short printable text, and an answer
// without a status must not pass.
func FuzzParseHead(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n",
		"HTTP/1.1 301 Moved Permanently\r\nLocation: https://www.lab.test/\r\nContent-Type: text/html\r\n\r\n",
		"HTTP/1.0 503 Service Unavailable\r\n\r\n",
		"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
		"220 mail.lab.test ESMTP Postfix\r\n",
		"<!DOCTYPE HTML>\r\n\r\n",
		"\x15\x03\x01\x00\x02\x02\x28",
		"HTTP/1.1 99999 Weird\r\n\r\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		res := &Result{}
		parseHead(res, head)
		if !utf8.ValidString(res.StatusLine) || len(res.StatusLine) > 203 {
			t.Fatalf("status line kept %q", res.StatusLine)
		}
		if res.StatusCode == 0 {
			if len(res.StatusLine) > 63 {
				t.Fatalf("other protocol's line kept %q", res.StatusLine)
			}
			if res.Failure() == nil && len(head) > 0 {
				t.Fatalf("an answer without a status passed: %+v", res)
			}
		} else if res.StatusCode < 100 || res.StatusCode > 999 {
			t.Fatalf("status %d", res.StatusCode)
		}
		if len(res.Server) > 83 || len(res.ContentType) > 83 || len(res.Location) > 203 {
			t.Fatalf("headers kept %+v", res)
		}
	})
}
