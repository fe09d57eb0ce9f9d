package cli

import (
	"crypto/x509"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/spf13/cobra"
)

// durationValue is a flag that takes seconds the way ping does ("2",
// "0.2") or a Go duration ("200ms", "1m30s").
type durationValue struct{ d *time.Duration }

func newDurationValue(d *time.Duration) *durationValue { return &durationValue{d} }

// String is shown as the default in --help; zero reads "0" so that help
// leaves out a meaningless "(default 0s)".
func (v *durationValue) String() string {
	if v.d == nil || *v.d == 0 {
		return "0"
	}
	return v.d.String()
}

func (v *durationValue) Type() string { return "duration" }

func (v *durationValue) Set(s string) error {
	d, err := parseSeconds(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

// parseSeconds reads "2", "0.25" (seconds) or "250ms" (a Go duration).
// Negative values are refused; zero is allowed where a command gives it a
// meaning (and refused by the command otherwise).
func parseSeconds(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var d time.Duration
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("%q is not a duration (use seconds like 0.5 or a unit like 500ms)", s)
		}
		if f > float64(1<<62)/1e9 {
			return 0, fmt.Errorf("%q is too long", s)
		}
		d = time.Duration(f * float64(time.Second))
	} else {
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (use seconds like 0.5 or a unit like 500ms)", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

// requireArgs is a positional-argument check whose failure is a usage
// error (exit 2) naming what is missing.
func requireArgs(min int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min {
			return usageErrorf(cmd, "missing %s", what)
		}
		return nil
	}
}

// exactArgs requires exactly n arguments.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < n:
			return usageErrorf(cmd, "missing %s", what)
		case len(args) > n:
			return usageErrorf(cmd, "too many arguments: expected %s, got %q", what, args)
		}
		return nil
	}
}

// loadRoots reads the --ca file of tlsprobe and diagnose.
func loadRoots(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, failure.Inputf("--ca: cannot read %s: %v", path, unwrapPathError(err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, failure.Inputf("--ca: %s holds no PEM certificate", path)
	}
	return pool, nil
}
