package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
)

// Printer is the one renderer every command writes through. In text mode
// it prints lines for people (coloured only on a terminal, never with
// NO_COLOR or --no-color); in JSON mode it prints newline-delimited JSON,
// one object per line, each starting with its "type".
type Printer struct {
	out, err io.Writer
	json     bool
	quiet    bool
	errTTY   bool

	ok, bad, warn, dim, bold *color.Color
	buf                      bytes.Buffer
}

// NewPrinter returns a Printer on s. quiet drops detail lines (Detailf)
// in text mode; JSON mode always prints every object.
func NewPrinter(s *Streams, jsonMode, quiet, useColor bool) *Printer {
	p := &Printer{out: s.Out, err: s.Err, json: jsonMode, quiet: quiet, errTTY: s.ErrTTY}
	mk := func(attrs ...color.Attribute) *color.Color {
		c := color.New(attrs...)
		if useColor {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return c
	}
	p.ok = mk(color.FgGreen)
	p.bad = mk(color.FgRed, color.Bold)
	p.warn = mk(color.FgYellow)
	p.dim = mk(color.Faint)
	p.bold = mk(color.Bold)
	return p
}

// JSON reports whether the printer is in --json mode.
func (p *Printer) JSON() bool { return p.json }

// Quiet reports whether -q was given.
func (p *Printer) Quiet() bool { return p.quiet }

// Emit writes v as one JSON line with "type" as its first key. v must
// marshal to a JSON object (a struct or a map). In text mode Emit does
// nothing, so commands can emit unconditionally and print text separately.
func (p *Printer) Emit(typ string, v any) {
	if !p.json {
		return
	}
	p.buf.Reset()
	enc := json.NewEncoder(&p.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every value emitted is one of our own result structs; failing to
		// marshal one is a programming error that must not pass silently.
		panic(fmt.Sprintf("cli: cannot marshal %T: %v", v, err))
	}
	body := bytes.TrimSpace(p.buf.Bytes())
	if len(body) < 2 || body[0] != '{' {
		panic(fmt.Sprintf("cli: %T does not marshal to a JSON object", v))
	}
	line := make([]byte, 0, len(body)+len(typ)+12)
	line = append(line, `{"type":`...)
	line, _ = appendJSONString(line, typ)
	if len(body) > 2 {
		line = append(line, ',')
	}
	line = append(line, body[1:]...)
	line = append(line, '\n')
	p.out.Write(line)
}

func appendJSONString(b []byte, s string) ([]byte, error) {
	q, err := json.Marshal(s)
	return append(b, q...), err
}

// Printf writes text to stdout in text mode; nothing in JSON mode.
func (p *Printer) Printf(format string, args ...any) {
	if p.json {
		return
	}
	fmt.Fprintf(p.out, format, args...)
}

// Detailf is Printf for lines that -q suppresses (per-probe lines).
func (p *Printer) Detailf(format string, args ...any) {
	if p.quiet {
		return
	}
	p.Printf(format, args...)
}

// Warnf writes a diagnostic line to stderr, in either mode.
func (p *Printer) Warnf(format string, args ...any) {
	fmt.Fprintf(p.err, "netdiag: "+format+"\n", args...)
}

// OK, Bad, Warn, Dim and Bold colour a string when colour is on.
func (p *Printer) OK(s string) string   { return p.ok.Sprint(s) }
func (p *Printer) Bad(s string) string  { return p.bad.Sprint(s) }
func (p *Printer) Warn(s string) string { return p.warn.Sprint(s) }
func (p *Printer) Dim(s string) string  { return p.dim.Sprint(s) }
func (p *Printer) Bold(s string) string { return p.bold.Sprint(s) }

// Check renders a ✓ or ✗ mark, coloured.
func (p *Printer) Check(ok bool) string {
	if ok {
		return p.OK("✓")
	}
	return p.Bad("✗")
}

// Progress returns a progress writer for long runs: a single rewritten
// line on stderr when stderr is a terminal and not in JSON or quiet mode,
// otherwise a Progress that prints nothing.
func (p *Printer) Progress(label string, total int) *Progress {
	return &Progress{w: p.err, label: label, total: total, on: p.errTTY && !p.json && !p.quiet}
}

// Progress is a one-line counter on a terminal's stderr.
type Progress struct {
	w     io.Writer
	label string
	total int
	done  int
	on    bool
}

// Add advances the counter by n and redraws the line.
func (g *Progress) Add(n int) {
	g.done += n
	if g.on {
		fmt.Fprintf(g.w, "\r%s %d/%d", g.label, g.done, g.total)
	}
}

// Done clears the line.
func (g *Progress) Done() {
	if g.on {
		fmt.Fprint(g.w, "\r\033[K")
	}
}

// Ms converts a duration to milliseconds for JSON (`*_ms` keys), kept to
// microsecond precision.
func Ms(d time.Duration) float64 {
	return math.Round(float64(d)/1e3) / 1e3
}

// FormatMs renders a duration in milliseconds for text, with three
// decimals below 10 ms and fewer above, as ping does.
func FormatMs(d time.Duration) string {
	ms := float64(d) / 1e6
	switch {
	case ms < 10:
		return fmt.Sprintf("%.3f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.2f ms", ms)
	}
	return fmt.Sprintf("%.1f ms", ms)
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
