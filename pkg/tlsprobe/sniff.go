package tlsprobe

import "bytes"

// sniffProtocol names the protocol a non-TLS answer looks like, from its
// first bytes: servers of these protocols answer a ClientHello with their
// banner or an error page. It returns "" when nothing matches.
func sniffProtocol(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("HTTP/")), bytes.HasPrefix(b, []byte("<!DOCTYPE")),
		bytes.HasPrefix(bytes.ToLower(b), []byte("<html")):
		return "HTTP"
	case bytes.HasPrefix(b, []byte("SSH-")):
		return "SSH"
	case bytes.HasPrefix(b, []byte("220")) || bytes.HasPrefix(b, []byte("554")):
		up := bytes.ToUpper(b)
		if bytes.Contains(up, []byte("FTP")) {
			return "FTP"
		}
		return "SMTP"
	case bytes.HasPrefix(b, []byte("+OK")):
		return "POP3"
	case bytes.HasPrefix(b, []byte("* OK")), bytes.HasPrefix(b, []byte("* PREAUTH")):
		return "IMAP"
	}
	return ""
}
