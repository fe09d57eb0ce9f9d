//go:build linux

package netlab_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/netdiag/netdiag/internal/netlab"
)

// This is the example of the package documentation.
func TestPingThroughTheLab(t *testing.T) {
	t.Parallel()
	lab := netlab.New(t, netlab.Config{})
	requireTool(t, "ping")
	requireTool(t, "dnsmasq")
	srv := lab.Servers[0]
	lab.StartDNS(t, netlab.DNSConfig{Records: map[string][]netip.Addr{
		"web": {srv.Addr4, srv.Addr6},
	}})
	lab.Router.AddFault(t, netlab.Fault{
		Action: netlab.RejectAdminProhibited, Dst: srv.Addr6, Proto: netlab.ICMP,
	})
	out, err := lab.Client.Exec("ping", "-c", "1", "-W", "2", "-4", "web")
	if err != nil {
		t.Fatalf("IPv4 should work: %v\n%s", err, out)
	}
	out, _ = lab.Client.Exec("ping", "-c", "1", "-W", "2", "-6", "web")
	if !strings.Contains(out, "Administratively prohibited") {
		t.Errorf("IPv6 should be rejected by the router:\n%s", out)
	}
}
