package resolve

import (
	"net"
	"strconv"
	"strings"

	"github.com/netdiag/netdiag/pkg/failure"
)

// SplitHostPort splits "host:port", "[v6]:port", a bare host or a bare
// IPv6 literal. A target without a port gets defPort; defPort 0 means a
// port is required. Errors are input errors naming what was wrong.
func SplitHostPort(target string, defPort int) (host string, port int, err error) {
	if target == "" {
		return "", 0, failure.Inputf("empty target")
	}
	switch {
	case strings.HasPrefix(target, "["):
		end := strings.IndexByte(target, ']')
		if end < 0 {
			return "", 0, failure.Inputf("%q: missing ']' after the IPv6 address", target)
		}
		host, rest := target[1:end], target[end+1:]
		if rest == "" {
			return withDefault(target, host, defPort)
		}
		if !strings.HasPrefix(rest, ":") {
			return "", 0, failure.Inputf("%q: expected ':PORT' after ']'", target)
		}
		p, err := ParsePort(rest[1:])
		if err != nil {
			return "", 0, failure.Inputf("%q: %v", target, err)
		}
		return host, p, nil
	case strings.Count(target, ":") > 1:
		// A bare IPv6 literal: the colons are the address's own.
		if ip := net.ParseIP(strings.SplitN(target, "%", 2)[0]); ip == nil {
			return "", 0, failure.Inputf("%q is not an IPv6 address; write [ADDR]:PORT", target)
		}
		return withDefault(target, target, defPort)
	case strings.Contains(target, ":"):
		host, ps, _ := strings.Cut(target, ":")
		if host == "" {
			return "", 0, failure.Inputf("%q: missing host before ':'", target)
		}
		p, err := ParsePort(ps)
		if err != nil {
			return "", 0, failure.Inputf("%q: %v", target, err)
		}
		return host, p, nil
	}
	return withDefault(target, target, defPort)
}

func withDefault(target, host string, defPort int) (string, int, error) {
	if defPort == 0 {
		return "", 0, failure.Inputf("%q: missing port (write HOST:PORT)", target)
	}
	return host, defPort, nil
}

// ParsePort reads a TCP/UDP port number, 1–65535.
func ParsePort(s string) (int, error) {
	if s == "" {
		return 0, errMsg("missing port number")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errMsg("port " + strconv.Quote(s) + " is not a number")
		}
	}
	p, err := strconv.Atoi(s)
	if err != nil {
		return 0, errMsg("port " + s + " is out of range 1-65535")
	}
	if p < 1 || p > 65535 {
		return 0, errMsg("port " + s + " is out of range 1-65535")
	}
	return p, nil
}

type errMsg string

func (e errMsg) Error() string { return string(e) }
