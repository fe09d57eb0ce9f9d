package cli

import (
	"testing"

	"github.com/spf13/cobra"
)

// TestHTTPPathArgument: --http takes an optional PATH, also as an
// argument of its own on either side of the target.
func TestHTTPPathArgument(t *testing.T) {
	cases := []struct {
		args         []string
		target, path string
		http, ok     bool
	}{
		{[]string{"a.test"}, "a.test", "", false, true},
		{[]string{"--http", "/health", "a.test"}, "a.test", "/health", true, true},
		{[]string{"a.test", "--http", "/health"}, "a.test", "/health", true, true},
		{[]string{"--http=/health", "a.test"}, "a.test", "/health", true, true},
		{[]string{"a.test", "--http"}, "a.test", "/", true, true},
		{[]string{"a.test", "/health"}, "", "", false, false},
		{[]string{"--http=/x", "a.test", "/health"}, "", "", true, false},
		{[]string{"--http", "a.test", "b.test"}, "", "", true, false},
	}
	for _, c := range cases {
		var h httpPathFlag
		cmd := &cobra.Command{}
		h.addHTTPFlag(cmd, "")
		if err := cmd.ParseFlags(c.args); err != nil {
			t.Fatal(err)
		}
		target, err := h.takeTarget(cmd, cmd.Flags().Args())
		if (err == nil) != c.ok || c.ok && (target != c.target || h.Path != c.path || h.HTTP != c.http) {
			t.Errorf("%v: target %q, path %q, http %v, err %v", c.args, target, h.Path, h.HTTP, err)
		}
	}
}
