//go:build !linux && !windows

package handshake

import "syscall"

var (
	refusedErrnos     = []syscall.Errno{syscall.ECONNREFUSED}
	hostUnreachErrnos = []syscall.Errno{syscall.EHOSTUNREACH, syscall.EHOSTDOWN}
	netUnreachErrnos  = []syscall.Errno{syscall.ENETUNREACH}
	prohibitedErrnos  = []syscall.Errno{syscall.EACCES, syscall.EPERM}
)
