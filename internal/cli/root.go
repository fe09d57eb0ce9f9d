// Package cli is netdiag's command line: one file per command, each with an
// Options struct filled from flags by a NewCmdX function and a run function
// that does the work through the pkg/ libraries and renders the results.
// Every command shares the global options, the Printer (text or NDJSON) and
// the error-to-exit-code mapping of Main.
package cli

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// Streams are the process's standard streams; tests substitute buffers.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
	// OutTTY and ErrTTY say whether Out and Err are terminals: colour is
	// only used on a terminal, progress only on a terminal's stderr.
	OutTTY, ErrTTY bool
	// Getenv reads the environment (NO_COLOR); tests inject their own.
	Getenv func(string) string
}

// GlobalOptions are the flags every command shares (DESIGN.md, "CLI contract").
type GlobalOptions struct {
	JSON    bool
	IPv4    bool
	IPv6    bool
	Timeout time.Duration
	NoColor bool
	Quiet   bool
}

// DefaultTimeout is the per-probe wait when --timeout is not given: the
// classic "a reply expected within 2 s".
const DefaultTimeout = 2 * time.Second

// Family returns "ip4", "ip6" or "ip" for the -4/-6 flags.
func (g *GlobalOptions) Family() string {
	switch {
	case g.IPv4:
		return "ip4"
	case g.IPv6:
		return "ip6"
	}
	return "ip"
}

// app is what every command receives: the streams, the global options and
// the context that is cancelled on Ctrl-C or SIGTERM.
type app struct {
	streams *Streams
	global  GlobalOptions
	ctx     context.Context
}

// printer returns the renderer for the current global options.
func (a *app) printer() *Printer {
	return NewPrinter(a.streams, a.global.JSON, a.global.Quiet, a.colorEnabled())
}

func (a *app) colorEnabled() bool {
	if a.global.NoColor || a.global.JSON || !a.streams.OutTTY {
		return false
	}
	if a.streams.Getenv != nil && a.streams.Getenv("NO_COLOR") != "" {
		return false
	}
	return true
}

// newRootCmd builds the command tree. Subcommands register themselves in
// commands (one file each), so adding a command touches no shared code.
func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "netdiag",
		Short: "Find where network connectivity breaks, layer by layer",
		Long: `netdiag tells whether a service is reachable and, when it is not, at which layer
it breaks: name resolution, link, network (IP/ICMP), transport (TCP), TLS or the
application. Each command prints plain text for people, or one JSON object per
line with --json for scripts.

Exit codes, the same for every command:
  0  healthy
  1  the target answered badly or not at all (a check failed)
  2  usage or input error (bad flag, bad address, unreadable or malformed file)
  3  name resolution failed
  4  local environment error (no permission for raw sockets, no such interface)`,
		Example: `  netdiag ping 198.18.1.10
  netdiag ping -c 10 -i 0.2 --max-loss 10 db.internal
  netdiag tcpprobe 198.18.1.10:443
  netdiag tlsprobe --quick www.internal
  netdiag decode capture.pcap --summary
  netdiag diagnose api.internal:443`,
		Version:       versionLine(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// A bare `netdiag` shows help; an unknown subcommand is a usage error.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if a.global.IPv4 && a.global.IPv6 {
				return usageErrorf(cmd, "-4 and -6 cannot be used together")
			}
			if a.global.Timeout <= 0 {
				return usageErrorf(cmd, "--timeout must be positive, got %v", a.global.Timeout)
			}
			return nil
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetIn(a.streams.In)
	root.SetOut(a.streams.Out)
	root.SetErr(a.streams.Err)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{cmd: cmd, msg: flagErrorMessage(err)}
	})

	pf := root.PersistentFlags()
	pf.BoolVar(&a.global.JSON, "json", false, "print newline-delimited JSON, one object per line")
	pf.BoolVarP(&a.global.IPv4, "ipv4", "4", false, "use IPv4 only")
	pf.BoolVarP(&a.global.IPv6, "ipv6", "6", false, "use IPv6 only")
	a.global.Timeout = DefaultTimeout
	pf.Var(newDurationValue(&a.global.Timeout), "timeout", "wait per probe, in seconds (2, 0.5) or with a unit (500ms)")
	pf.BoolVar(&a.global.NoColor, "no-color", false, "never colour the output (also: NO_COLOR=1)")
	pf.BoolVarP(&a.global.Quiet, "quiet", "q", false, "print only summaries and failures")

	for _, newCmd := range commands {
		root.AddCommand(newCmd(a))
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newCompletionCmd())
	return root
}

// commands holds the constructors of the subcommands; each command's file
// appends to it in an init function.
var commands []func(*app) *cobra.Command

// Main runs netdiag with args (without the program name) on the process's
// standard streams and returns the exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, args, &Streams{
		In:     os.Stdin,
		Out:    os.Stdout,
		Err:    os.Stderr,
		OutTTY: isTerminal(os.Stdout),
		ErrTTY: isTerminal(os.Stderr),
		Getenv: os.Getenv,
	})
}

// Run is Main with injectable context and streams.
func Run(ctx context.Context, args []string, s *Streams) int {
	a := &app{streams: s, ctx: ctx}
	root := newRootCmd(a)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return reportError(s.Err, err)
}
