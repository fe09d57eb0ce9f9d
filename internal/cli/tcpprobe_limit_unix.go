//go:build unix

package cli

import "syscall"

// openFileLimit returns the soft limit on this process's open files,
// or 0 when it is unknown or unlimited.
func openFileLimit() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Cur > 1<<30 {
		return 0
	}
	return int(l.Cur)
}
