package handshake

import (
	"strings"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/resolve"
)

// ParsePorts reads a port list as people write it for scanners:
// comma-separated ports and inclusive ranges, "22,80,443,8000-8100".
// Ports keep the order they are given in, duplicates dropped. Errors are
// input errors (exit 2) that quote the part of the list at fault.
func ParsePorts(list string) ([]int, error) {
	if strings.TrimSpace(list) == "" {
		return nil, failure.Inputf("empty port list")
	}
	var (
		out  []int
		seen [65536]bool
	)
	add := func(p int) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, failure.Inputf("port list %q: empty item between commas", list)
		}
		lo, hi, isRange := strings.Cut(item, "-")
		first, err := resolve.ParsePort(strings.TrimSpace(lo))
		if err != nil {
			return nil, failure.Inputf("port list %q: %v", list, err)
		}
		if !isRange {
			add(first)
			continue
		}
		last, err := resolve.ParsePort(strings.TrimSpace(hi))
		if err != nil {
			return nil, failure.Inputf("port list %q: range %q: %v", list, item, err)
		}
		if last < first {
			return nil, failure.Inputf("port list %q: range %q runs backwards", list, item)
		}
		for p := first; p <= last; p++ {
			add(p)
		}
	}
	return out, nil
}
