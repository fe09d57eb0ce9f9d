package handshake

import "syscall"

// Winsock's error codes, which syscall's portable names do not match.
var (
	refusedErrnos     = []syscall.Errno{10061} // WSAECONNREFUSED
	hostUnreachErrnos = []syscall.Errno{10065} // WSAEHOSTUNREACH
	netUnreachErrnos  = []syscall.Errno{10051} // WSAENETUNREACH
	prohibitedErrnos  = []syscall.Errno{10013} // WSAEACCES
)
