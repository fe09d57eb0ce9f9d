package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/spf13/cobra"
)

// usageError is a mistake on the command line: a bad flag, a missing or
// extra argument, a value out of range. It prints the message and the
// command's usage line, and exits 2.
type usageError struct {
	cmd *cobra.Command
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usageErrorf(cmd *cobra.Command, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// flagErrorMessage rewrites pflag's parse errors, which end in Go's own
// strconv text ("strconv.ParseInt: parsing \"x\": invalid syntax"), into
// words: `invalid argument "x" for "-c, --count" flag: not a number`.
func flagErrorMessage(err error) string {
	msg := err.Error()
	head, detail, ok := strings.Cut(msg, " flag: ")
	if !ok {
		return msg
	}
	switch {
	case strings.Contains(detail, "strconv.ParseInt"), strings.Contains(detail, "strconv.ParseUint"):
		if strings.Contains(detail, "value out of range") {
			return head + " flag: out of range"
		}
		return head + " flag: not a whole number"
	case strings.Contains(detail, "strconv.ParseFloat"):
		return head + " flag: not a number"
	case strings.Contains(detail, "strconv.ParseBool"):
		return head + " flag: not true or false"
	}
	return msg
}

// errReported means the command has already printed its results and its
// diagnosis; only the exit code is left to set.
type errReported struct{ kind failure.Kind }

func (e errReported) Error() string { return fmt.Sprintf("exit %d", e.kind.ExitCode()) }

// checkFailed ends a command whose output already explains the failure.
var checkFailed error = errReported{failure.KindCheck}

// reportError prints err as one line on w and returns the exit code. It is
// the only place where errors become exit codes.
func reportError(w io.Writer, err error) int {
	if err == nil {
		return 0
	}
	var (
		usage    *usageError
		reported errReported
		kinded   *failure.Error
		fail     *failure.Failure
	)
	switch {
	case errors.As(err, &reported):
		return reported.kind.ExitCode()
	case errors.As(err, &usage):
		fmt.Fprintf(w, "netdiag: %s\n", usage.msg)
		if usage.cmd != nil {
			fmt.Fprintf(w, "usage: %s\n", usage.cmd.UseLine())
			fmt.Fprintf(w, "Run '%s --help' for more.\n", usage.cmd.CommandPath())
		}
		return failure.KindInput.ExitCode()
	case errors.As(err, &kinded):
		if kinded.Msg != "" {
			fmt.Fprintf(w, "netdiag: %s\n", oneLine(kinded.Msg))
		}
		return kinded.Kind.ExitCode()
	case errors.As(err, &fail):
		fmt.Fprintf(w, "netdiag: %s failure: %s\n", fail.Layer, oneLine(fail.Explain()))
		return failure.KindCheck.ExitCode()
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(w, "netdiag: interrupted")
		return failure.KindCheck.ExitCode()
	case isCobraUsage(err):
		// Cobra's own argument and command errors ("unknown command",
		// "accepts 1 arg(s)") come without a command attached.
		fmt.Fprintf(w, "netdiag: %s\n", oneLine(err.Error()))
		fmt.Fprintln(w, "Run 'netdiag --help' for usage.")
		return failure.KindInput.ExitCode()
	}
	fmt.Fprintf(w, "netdiag: %s\n", oneLine(err.Error()))
	return failure.KindCheck.ExitCode()
}

// isCobraUsage recognises the usage errors cobra creates itself, which are
// plain errors without a type.
func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// oneLine keeps an error message to a single line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
