package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/netdiag/netdiag/internal/netlab"
)

// TestDecodeLiveFromTcpdump runs the built binary behind tcpdump in the
// lab, reading the capture from a pipe as it is written: packets must
// show while the capture is still going, so the reader streams and the
// output is flushed per packet.
func TestDecodeLiveFromTcpdump(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	bin := netlab.Netdiag(t)
	srv := lab.Servers[0]
	p := lab.Client.Start(t, "sh", "-c", "tcpdump -i eth0 -U -w - 2>/dev/null | "+bin+" decode --summary -")
	p.WaitReady(t, func() error {
		_, _ = lab.Client.Exec("ping", "-c", "1", "-W", "1", srv.Addr4.String())
		if !strings.Contains(p.Output(), "IP 198.18.1.10 > 198.18.0.2: ICMP echo reply") {
			return errors.New("no echo reply decoded yet:\n" + p.Output())
		}
		return nil
	})
	select {
	case <-p.Done():
		t.Fatalf("decode ended while the capture was running: %v\n%s", p.Err(), p.Output())
	default:
	}
}
