package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// httpPathFlag is the --http [PATH] option of the commands that take one
// HOST[:PORT] (tlsprobe, diagnose). PATH is optional, so "--http /health"
// leaves the path as an argument of its own, before or after the target;
// takeTarget sorts the two apart.
type httpPathFlag struct {
	HTTP bool   // --http was given
	Path string // the path to ask for: "/" after a bare --http
}

// addHTTPFlag defines --http on cmd.
func (h *httpPathFlag) addHTTPFlag(cmd *cobra.Command, usage string) {
	cmd.Flags().StringVar(&h.Path, "http", "", usage)
	cmd.Flags().Lookup("http").NoOptDefVal = "/"
}

// targetArgs is the positional-argument check of these commands: one
// target, and at most one more argument, the path of a bare --http.
func targetArgs(cmd *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return usageErrorf(cmd, "missing target (HOST[:PORT])")
	case len(args) > 2:
		return usageErrorf(cmd, "too many arguments: expected one HOST[:PORT], got %q", args)
	}
	return nil
}

// takeTarget returns the HOST[:PORT] of args, taking a path given after
// a bare --http as the flag's.
func (h *httpPathFlag) takeTarget(cmd *cobra.Command, args []string) (string, error) {
	h.HTTP = cmd.Flags().Changed("http")
	if len(args) == 1 {
		return args[0], nil
	}
	switch {
	case h.HTTP && h.Path == "/" && strings.HasPrefix(args[1], "/"):
		h.Path = args[1]
		return args[0], nil
	case h.HTTP && h.Path == "/" && strings.HasPrefix(args[0], "/"):
		h.Path = args[0]
		return args[1], nil
	}
	return "", usageErrorf(cmd, "too many arguments: expected one HOST[:PORT], got %q", args)
}

// validateHTTP refuses a path that the request line cannot carry, and a
// target with a path in it.
func (h *httpPathFlag) validateHTTP(cmd *cobra.Command, target string) error {
	switch {
	case h.HTTP && !strings.HasPrefix(h.Path, "/"):
		return usageErrorf(cmd, "--http PATH must start with /, got %q", h.Path)
	case h.HTTP && strings.ContainsAny(h.Path, " \t\r\n"):
		return usageErrorf(cmd, "--http PATH must not contain spaces or line breaks")
	case strings.Contains(target, "/"):
		return usageErrorf(cmd, "%q is not HOST[:PORT]: give the host alone, and a path with --http PATH", target)
	}
	return nil
}
