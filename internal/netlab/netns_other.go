//go:build !linux

package netlab

import (
	"errors"
	"os/exec"
	"runtime"
	"syscall"
)

var errNotLinux = errors.New("netlab: network namespaces are not supported on " + runtime.GOOS)

// Do needs Linux network namespaces; elsewhere it returns an error. New
// skips the test before a Node can exist, so this is never reached in
// practice.
func (n *Node) Do(fn func() error) error { return errNotLinux }

func serverAttrs() *syscall.SysProcAttr { return nil }

func signalGroup(pid int, sig syscall.Signal) error { return errNotLinux }

func killPid(pid int) {}

func processStart(pid int) (uint64, error) { return 0, errNotLinux }

func startCmd(cmd *exec.Cmd) error { return cmd.Start() }
