package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/resolve"
)

// runCLI runs netdiag in-process and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &Streams{Out: &out, Err: &errb, Getenv: func(string) string { return "" }})
	return out.String(), errb.String(), code
}

// checkUsageError runs netdiag in-process with args and checks that it is
// refused as bad input: exit 2, nothing on stdout, and one "netdiag: "
// message on stderr that says says.
func checkUsageError(t *testing.T, args []string, says string) {
	t.Helper()
	out, errOut, code := runCLI(t, args...)
	if code != 2 {
		t.Errorf("%q: exit %d, want 2 (stderr %q)", args, code, errOut)
	}
	if out != "" {
		t.Errorf("%q: stdout %q", args, out)
	}
	if !strings.HasPrefix(errOut, "netdiag: ") || strings.Count(errOut, "netdiag: ") != 1 ||
		!strings.Contains(errOut, says) || strings.Contains(errOut, "goroutine") {
		t.Errorf("%q: stderr %q does not say %q", args, errOut, says)
	}
}

// checkHelp checks that netdiag's help for the command path cmd (empty:
// the root's) succeeds and mentions every one of wants.
func checkHelp(t *testing.T, cmd []string, wants ...string) {
	t.Helper()
	out, _, code := runCLI(t, append(cmd, "--help")...)
	if code != 0 {
		t.Fatalf("%q --help: exit %d", cmd, code)
	}
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("%q --help lacks %q:\n%s", cmd, want, out)
		}
	}
}

func TestVersion(t *testing.T) {
	out, _, code := runCLI(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "netdiag dev (commit unknown, built unknown)") {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

func TestHelpListsCommandsAndExitCodes(t *testing.T) {
	checkHelp(t, nil, "Usage:", "Examples:", "completion", "--json", "--timeout", "-4, --ipv4", "3  name resolution failed")
}

func TestUsageErrorsExit2(t *testing.T) {
	cases := [][]string{
		{"--bogus"},
		{"no-such-command"},
		{"-4", "-6", "completion", "bash"},
		{"--timeout", "abc", "completion", "bash"},
		{"--timeout", "0", "completion", "bash"},
	}
	for _, args := range cases {
		checkUsageError(t, args, "")
	}
	_, errOut, _ := runCLI(t, "--bogus")
	if !strings.Contains(errOut, "usage: netdiag") {
		t.Errorf("a bad flag must print the usage line, got %q", errOut)
	}
}

func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, _, code := runCLI(t, "completion", sh)
		if code != 0 || !strings.Contains(out, "netdiag") {
			t.Errorf("%s: exit %d, %d bytes", sh, code, len(out))
		}
	}
}

func TestReportError(t *testing.T) {
	resolveErr := &resolve.Error{Host: "nope.lab.test", Failure: failure.New(failure.NXDomain, ""), Err: errors.New("no such host")}
	f := failure.New(failure.AdminProhibited, "")
	f.From = "198.18.0.1"
	cases := []struct {
		err  error
		code int
		line string
	}{
		{nil, 0, ""},
		{checkFailed, 1, ""},
		{fmt.Errorf("ping: %w", failure.Inputf("bad count %q", "x")), 2, `netdiag: bad count "x"` + "\n"},
		{fmt.Errorf("ping: %w", resolveErr), 3, `netdiag: cannot resolve "nope.lab.test": the name does not exist (NXDOMAIN)` + "\n"},
		{failure.Localf(errors.New("EPERM"), "no permission for raw sockets\nsecond line"), 4, "netdiag: no permission for raw sockets\n"},
		{f, 1, "netdiag: network failure: a firewall rejects the traffic (administratively prohibited), reported by 198.18.0.1; likely at fault: a firewall\n"},
		{context.Canceled, 1, "netdiag: interrupted\n"},
		{errors.New("something odd"), 1, "netdiag: something odd\n"},
	}
	for _, c := range cases {
		var b bytes.Buffer
		if code := reportError(&b, c.err); code != c.code || b.String() != c.line {
			t.Errorf("%v: got exit %d %q, want %d %q", c.err, code, b.String(), c.code, c.line)
		}
	}
}

func TestEmitPutsTypeFirst(t *testing.T) {
	var out bytes.Buffer
	p := NewPrinter(&Streams{Out: &out, Err: &out}, true, false, false)
	p.Emit("reply", struct {
		Addr  string  `json:"addr"`
		RTTMs float64 `json:"rtt_ms"`
		Note  string  `json:"note"`
	}{"198.18.1.10", 0.042, "<&>"})
	p.Emit("empty", struct{}{})
	p.Printf("text is not printed in JSON mode\n")
	want := `{"type":"reply","addr":"198.18.1.10","rtt_ms":0.042,"note":"<&>"}` + "\n" + `{"type":"empty"}` + "\n"
	if out.String() != want {
		t.Fatalf("got %q\nwant %q", out.String(), want)
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || m["type"] == nil {
			t.Fatalf("line %q: %v", line, err)
		}
	}
}

func TestColourOnlyOnTerminal(t *testing.T) {
	env := func(v string) func(string) string { return func(string) string { return v } }
	cases := []struct {
		tty     bool
		noColor string
		flag    bool
		want    bool
	}{
		{true, "", false, true},
		{false, "", false, false},
		{true, "1", false, false},
		{true, "", true, false},
	}
	for _, c := range cases {
		a := &app{streams: &Streams{OutTTY: c.tty, Getenv: env(c.noColor)}, global: GlobalOptions{NoColor: c.flag}}
		if got := a.colorEnabled(); got != c.want {
			t.Errorf("%+v: colour %v", c, got)
		}
		var out bytes.Buffer
		p := NewPrinter(&Streams{Out: &out}, false, false, a.colorEnabled())
		p.Printf("%s\n", p.Bad("lost"))
		if hasEscape := strings.Contains(out.String(), "\x1b["); hasEscape != c.want {
			t.Errorf("%+v: escape codes present=%v in %q", c, hasEscape, out.String())
		}
	}
}

func TestParseSeconds(t *testing.T) {
	good := map[string]string{"2": "2s", "0.2": "200ms", "200ms": "200ms", "1m30s": "1m30s", "0": "0s"}
	for in, want := range good {
		d, err := parseSeconds(in)
		if err != nil || d.String() != want {
			t.Errorf("%q: got %v,%v want %s", in, d, err, want)
		}
	}
	for _, in := range []string{"", "-1", "abc", "5 parsecs", "1e300", "NaN", "nan", "Inf", "-Inf", "+Inf"} {
		if _, err := parseSeconds(in); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}

func TestFlagErrorsInWords(t *testing.T) {
	_, errOut, code := runCLI(t, "ping", "-c", "x", "198.18.1.10")
	if code != 2 || strings.Contains(errOut, "strconv") || !strings.Contains(errOut, `invalid argument "x" for "-c, --count" flag: not a whole number`) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	_, errOut, _ = runCLI(t, "ping", "-c", "99999999999999999999", "198.18.1.10")
	if !strings.Contains(errOut, "flag: out of range") {
		t.Fatalf("stderr %q", errOut)
	}
}
