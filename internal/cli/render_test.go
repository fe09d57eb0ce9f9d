package cli

import (
	"bytes"
	"fmt"
	"testing"
)

// TestProgressOnlyOnATerminalInTextMode: the progress line goes to a
// terminal's stderr, and never in JSON or quiet mode, whose stderr a
// script may read.
func TestProgressOnlyOnATerminalInTextMode(t *testing.T) {
	cases := []struct {
		errTTY, json, quiet bool
		want                string
	}{
		{true, false, false, "\rprobing 1/3\rprobing 3/3\r\033[K"},
		{false, false, false, ""},
		{true, true, false, ""},
		{true, false, true, ""},
		{true, true, true, ""},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		p := NewPrinter(&Streams{Out: &out, Err: &errOut, ErrTTY: c.errTTY}, c.json, c.quiet, false)
		bar := p.Progress("probing", 3)
		bar.Add(1)
		bar.Add(2)
		bar.Done()
		name := fmt.Sprintf("tty %v, json %v, quiet %v", c.errTTY, c.json, c.quiet)
		if errOut.String() != c.want || out.Len() != 0 {
			t.Errorf("%s: stderr %q, stdout %q; want stderr %q", name, errOut.String(), out.String(), c.want)
		}
		if bar.done != 3 {
			t.Errorf("%s: counted %d, want 3", name, bar.done)
		}
	}
}
