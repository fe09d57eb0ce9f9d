package handshake

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/netdiag/netdiag/pkg/failure"
)

func TestParsePorts(t *testing.T) {
	good := []struct {
		in   string
		want []int
	}{
		{"80", []int{80}},
		{"22,80,443", []int{22, 80, 443}},
		{"443,22", []int{443, 22}},
		{"8000-8003", []int{8000, 8001, 8002, 8003}},
		{"22, 80 ,8000-8001", []int{22, 80, 8000, 8001}},
		{"80,80,79-81", []int{80, 79, 81}},
		{"65535", []int{65535}},
		{"1-1", []int{1}},
	}
	for _, c := range good {
		got, err := ParsePorts(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	all, err := ParsePorts("1-65535")
	if err != nil || len(all) != 65535 || all[0] != 1 || all[65534] != 65535 {
		t.Errorf("1-65535: %d ports, %v", len(all), err)
	}

	bad := []struct{ in, says string }{
		{"", "empty port list"},
		{" ", "empty port list"},
		{"80,", "empty item"},
		{",80", "empty item"},
		{"80,,81", "empty item"},
		{"0", "out of range"},
		{"65536", "out of range"},
		{"-1", "missing port number"},
		{"http", "not a number"},
		{"100-50", "runs backwards"},
		{"1-70000", "out of range"},
		{"1-", "missing port number"},
		{"1-2-3", "not a number"},
		{"8o", "not a number"},
	}
	for _, c := range bad {
		_, err := ParsePorts(c.in)
		var fe *failure.Error
		if !errors.As(err, &fe) || fe.Kind != failure.KindInput {
			t.Errorf("%q: got %v, want an input error", c.in, err)
			continue
		}
		if !strings.Contains(err.Error(), c.says) {
			t.Errorf("%q: error %q does not say %q", c.in, err, c.says)
		}
	}
}

// FuzzParsePorts: any list either fails with an input error or gives
// distinct ports in 1-65535, at most 65535 of them however long the list.
func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"22,80,443,8000-8100", "1-65535", "80,80,79-81", "1-", "5-3", "a,b", " 8 , 9 ", "+80", "0", "65536"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		ports, err := ParsePorts(list)
		if err != nil {
			var fe *failure.Error
			if !errors.As(err, &fe) || fe.Kind != failure.KindInput || strings.Contains(fe.Msg, "\n") {
				t.Fatalf("%q: %v is not a one-line input error", list, err)
			}
			return
		}
		if len(ports) == 0 || len(ports) > 65535 {
			t.Fatalf("%q: %d ports", list, len(ports))
		}
		seen := map[int]bool{}
		for _, p := range ports {
			if p < 1 || p > 65535 || seen[p] {
				t.Fatalf("%q: bad or repeated port %d", list, p)
			}
			seen[p] = true
		}
	})
}
