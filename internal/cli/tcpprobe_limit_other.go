//go:build !unix

package cli

// openFileLimit returns 0: the platform has no limit on open files that
// tcpprobe needs to respect.
func openFileLimit() int { return 0 }
