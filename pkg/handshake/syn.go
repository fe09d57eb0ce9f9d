package handshake

import "time"

// SYNOptions configure SYN mode.
type SYNOptions struct {
	// Timeout is the longest a port may stay silent before it is
	// filtered; the SYN is sent a second time halfway. Once a host has
	// answered other probes, each SYN to it is given instead the
	// retransmission timeout its round trips suggest (RFC 6298: the
	// smoothed RTT plus four deviations, and at least 100 ms more than
	// the smoothed RTT and 125 ms in all), so a silent port is filtered
	// after twice that: 250 ms at least, Timeout at most.
	Timeout time.Duration
	// Rate caps the SYNs sent per second, retransmissions included; 0
	// means no cap (Schedule.Parallel still bounds the probes in flight).
	Rate float64
}

// NewSYNProber returns the SYN-mode prober, a half-open scan like
// nmap -sS: it sends SYNs it builds itself from one reserved source port
// on a raw socket, reads SYN-ACKs, resets and ICMP errors from a packet
// socket, and answers a SYN-ACK with a reset instead of completing the
// handshake. It needs CAP_NET_RAW and Linux; without them it returns a
// failure.KindLocal error saying how to get them. Close releases the
// sockets.
func NewSYNProber(o SYNOptions) (Prober, error) {
	p, err := newSYNProber(o)
	if err != nil {
		return nil, err
	}
	return p, nil
}
