package cli

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/netdiag/netdiag/pkg/decode"
	"github.com/netdiag/netdiag/pkg/layers"
)

// statsTextView prints the totals per protocol and per conversation.
type statsTextView struct {
	out *bufio.Writer
	p   *Printer
}

func (v *statsTextView) frame(*decode.Frame) {}

func (v *statsTextView) finish(sum *decodeSummary) {
	s := sum.Stats
	w := v.out
	fmt.Fprintf(w, "%s %s, %s", v.p.Bold("Capture:"), count(s.Packets, "packet"), count(int(s.Bytes), "byte"))
	if s.Packets > 0 && !s.First.IsZero() {
		fmt.Fprintf(w, ", %s – %s (%s)", appendTimeUTC(nil, s.First), appendTimeUTC(nil, s.Last), FormatMs(s.Last.Sub(s.First)))
	}
	fmt.Fprintln(w)
	if sum.Shown != sum.Packets {
		fmt.Fprintf(w, "%d of %d packets pass the filters; the totals count those.\n", sum.Shown, sum.Packets)
	}

	fmt.Fprintf(w, "\n%s\n", v.p.Bold("Protocols"))
	fmt.Fprintf(w, "  %-28s %9s %12s\n", "protocol", "packets", "bytes")
	for _, pc := range s.Protocols {
		name := strings.Repeat("  ", len(pc.Path)-1) + pc.Path[len(pc.Path)-1]
		fmt.Fprintf(w, "  %-28s %9d %12d\n", name, pc.Packets, pc.Bytes)
	}

	if len(s.Conversations) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s\n", v.p.Bold("Conversations"))
	for _, c := range s.Conversations {
		v.conversation(w, c)
	}
}

func (v *statsTextView) conversation(w *bufio.Writer, c *decode.Conversation) {
	fmt.Fprintf(w, "  %s %s  %s → %s\n", v.p.Bold(fmt.Sprintf("#%d", c.N)), c.Proto, c.Client, c.Server)
	fmt.Fprintf(w, "      packets %d → %d ←  bytes %d → %d ←  payload %d → %d ←  packets %d-%d  %s\n",
		c.Packets[0], c.Packets[1], c.Bytes[0], c.Bytes[1], c.Payload[0], c.Payload[1],
		c.FirstFrame, c.LastFrame, FormatMs(c.Last.Sub(c.First)))
	if c.ICMPErrors > 0 {
		fmt.Fprintf(w, "      ICMP errors about it: %d\n", c.ICMPErrors)
	}
	if t := c.TCP; t != nil {
		fmt.Fprintf(w, "      handshake: %s\n", v.handshake(t))
		fmt.Fprintf(w, "      close: %s\n", v.teardown(t))
		if t.Retransmissions[0]+t.Retransmissions[1] == 0 {
			fmt.Fprintf(w, "      retransmissions: none\n")
		} else {
			n := func(k int) string {
				if k == 0 {
					return "0"
				}
				return v.p.Warn(strconv.Itoa(k))
			}
			fmt.Fprintf(w, "      retransmissions: %s from the client, %s from the server\n",
				n(t.Retransmissions[0]), n(t.Retransmissions[1]))
		}
	}
	if t := c.TLS; t != nil {
		s := "TLS"
		if t.Version != 0 {
			s = t.Version.String()
		}
		if t.ServerName != "" {
			s += ", server name " + t.ServerName
		}
		if t.CipherSuite != 0 {
			s += ", " + t.CipherSuite.String()
		}
		if t.Resumed {
			s += ", session resumed"
		}
		for _, a := range t.Alerts {
			s += ", alert " + a.String()
		}
		if t.EncryptedAlerts > 0 {
			s += fmt.Sprintf(", %d encrypted alerts", t.EncryptedAlerts)
		}
		if t.Err != "" {
			s += "; " + t.Err
		}
		fmt.Fprintf(w, "      %s\n", s)
	}
}

// ackCheck says whether an acknowledgement number is the sequence number
// plus one, as a SYN or a FIN requires.
func (v *statsTextView) ackCheck(ack, seq uint32, ok bool) string {
	if ok {
		return fmt.Sprintf("ack %d %s (= seq + 1)", ack, v.p.Check(true))
	}
	return fmt.Sprintf("ack %d %s (expected %d = seq + 1)", ack, v.p.Check(false), seq+1)
}

func (v *statsTextView) handshake(t *decode.TCPSummary) string {
	switch t.Handshake {
	case decode.HandshakeComplete:
		s := v.p.OK("complete") + fmt.Sprintf(" (packet %d): SYN seq %d · SYN-ACK seq %d %s · ACK %s",
			t.HandshakeFrame, t.ClientISN, t.ServerISN,
			v.ackCheck(t.SYNACKAck, t.ClientISN, t.SYNACKAckOK), v.ackCheck(t.ACKAck, t.ServerISN, t.ACKOK))
		if t.SYNs > 1 {
			s += fmt.Sprintf(" · %d SYNs (%d retransmitted)", t.SYNs, t.SYNs-1)
		}
		return s
	case decode.HandshakeRefused:
		return v.p.Bad("refused") + fmt.Sprintf(": the server answered the SYN with a reset (packet %d)", t.HandshakeFrame)
	case decode.HandshakeRejected:
		kind := "ICMP"
		if t.ICMPv6 {
			kind = "ICMPv6"
		}
		return v.p.Bad("rejected") + fmt.Sprintf(": %s %s (type %d, code %d) from %s (packet %d)", kind,
			icmpErrorName(t), t.ICMPType, t.ICMPCode, t.ICMPFrom, t.HandshakeFrame)
	case decode.HandshakeUnanswered:
		s := v.p.Bad("unanswered") + fmt.Sprintf(": %d SYN", t.SYNs)
		if t.SYNs > 1 {
			s += fmt.Sprintf("s (%d retransmitted)", t.SYNs-1)
		}
		return s + ", no answer in the capture"
	case decode.HandshakeIncomplete:
		return v.p.Warn("incomplete") + fmt.Sprintf(": SYN and SYN-ACK %s, but no ACK from the client",
			v.ackCheck(t.SYNACKAck, t.ClientISN, t.SYNACKAckOK))
	}
	return "not in the capture (it starts after the handshake)"
}

func icmpErrorName(t *decode.TCPSummary) string {
	if t.ICMPv6 {
		return layers.ICMPv6Type(t.ICMPType).String() + ": " + layers.ICMPv6CodeName(layers.ICMPv6Type(t.ICMPType), t.ICMPCode)
	}
	return layers.ICMPv4Type(t.ICMPType).String() + ": " + layers.ICMPv4CodeName(layers.ICMPv4Type(t.ICMPType), t.ICMPCode)
}

func (v *statsTextView) teardown(t *decode.TCPSummary) string {
	fin := func(who string, f decode.FINSummary) string {
		switch {
		case !f.Sent:
			return who + " sent no FIN"
		case !f.Acked:
			return fmt.Sprintf("%s FIN seq %d %s not acknowledged", who, f.Seq, v.p.Check(false))
		}
		return fmt.Sprintf("%s FIN seq %d %s", who, f.Seq, v.ackCheck(f.Ack, f.Seq, f.AckOK))
	}
	fins := fin("client", t.FIN[0]) + "; " + fin("server", t.FIN[1])
	switch t.Teardown {
	case decode.TeardownClientFirst:
		return fmt.Sprintf("the client closed first%s: %s", closeFrame(t), fins)
	case decode.TeardownServerFirst:
		return fmt.Sprintf("the server closed first%s: %s", closeFrame(t), fins)
	case decode.TeardownResetClient:
		return v.p.Warn("reset by the client") + fmt.Sprintf(" (packet %d)", t.CloseFrame)
	case decode.TeardownResetServer:
		return v.p.Warn("reset by the server") + fmt.Sprintf(" (packet %d)", t.CloseFrame)
	case decode.TeardownOpen:
		return "still open at the end of the capture"
	}
	return "none (the connection never opened)"
}

func closeFrame(t *decode.TCPSummary) string {
	if t.CloseFrame > 0 {
		return fmt.Sprintf(" (closed at packet %d)", t.CloseFrame)
	}
	return " (not completely closed in the capture)"
}

// statsJSONView emits the totals as "protocol" and "conversation" objects
// and a summary.
type statsJSONView struct {
	out *bufio.Writer
	p   *Printer
}

func (v *statsJSONView) frame(*decode.Frame) {}

type protocolJSON struct {
	Path    string `json:"path"`
	Packets int    `json:"packets"`
	Bytes   int64  `json:"bytes"`
}

type finJSON struct {
	Seq   uint32 `json:"seq"`
	Acked bool   `json:"acked"`
	Ack   uint32 `json:"ack,omitempty"`
	AckOK bool   `json:"ack_ok"`
}

type tlsSummaryJSON struct {
	ServerName      string   `json:"server_name,omitempty"`
	Version         string   `json:"version,omitempty"`
	CipherSuite     string   `json:"cipher_suite,omitempty"`
	Resumed         bool     `json:"resumed"`
	Alerts          []string `json:"alerts,omitempty"`
	EncryptedAlerts int      `json:"encrypted_alerts,omitempty"`
	Error           string   `json:"error,omitempty"`
}

type conversationJSON struct {
	N             int             `json:"n"`
	Proto         string          `json:"proto"`
	Client        string          `json:"client"`
	Server        string          `json:"server"`
	FirstPacket   int             `json:"first_packet"`
	LastPacket    int             `json:"last_packet"`
	Start         string          `json:"start,omitempty"`
	DurationMs    float64         `json:"duration_ms"`
	PacketsClient int             `json:"packets_client"`
	PacketsServer int             `json:"packets_server"`
	BytesClient   int64           `json:"bytes_client"`
	BytesServer   int64           `json:"bytes_server"`
	PayloadClient int64           `json:"payload_client"`
	PayloadServer int64           `json:"payload_server"`
	ICMPErrors    int             `json:"icmp_errors"`
	Handshake     string          `json:"handshake,omitempty"`
	SYNs          *int            `json:"syns,omitempty"`
	SYNACKs       *int            `json:"syn_acks,omitempty"`
	ClientISN     *uint32         `json:"client_isn,omitempty"`
	ServerISN     *uint32         `json:"server_isn,omitempty"`
	SYNACKAckOK   *bool           `json:"syn_ack_ok,omitempty"`
	ACKOK         *bool           `json:"ack_ok,omitempty"`
	HandshakePkt  int             `json:"handshake_packet,omitempty"`
	ICMPType      *uint8          `json:"icmp_type,omitempty"`
	ICMPCode      *uint8          `json:"icmp_code,omitempty"`
	ICMPFrom      string          `json:"icmp_from,omitempty"`
	Teardown      string          `json:"teardown,omitempty"`
	FINClient     *finJSON        `json:"fin_client,omitempty"`
	FINServer     *finJSON        `json:"fin_server,omitempty"`
	ClosePacket   int             `json:"close_packet,omitempty"`
	RetransClient *int            `json:"retransmissions_client,omitempty"`
	RetransServer *int            `json:"retransmissions_server,omitempty"`
	TLS           *tlsSummaryJSON `json:"tls,omitempty"`
}

type statsSummaryJSON struct {
	Packets       int     `json:"packets"`
	Shown         int     `json:"shown"`
	Bytes         int64   `json:"bytes"`
	Start         string  `json:"start,omitempty"`
	End           string  `json:"end,omitempty"`
	DurationMs    float64 `json:"duration_ms"`
	Conversations int     `json:"conversations"`
	Cut           int     `json:"cut"`
	Problems      int     `json:"problems"`
}

func jsonTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	q := appendTimeJSON(nil, t)
	return string(q[1 : len(q)-1])
}

func (v *statsJSONView) finish(sum *decodeSummary) {
	s := sum.Stats
	for _, pc := range s.Protocols {
		v.p.Emit("protocol", protocolJSON{Path: strings.Join(pc.Path, "/"), Packets: pc.Packets, Bytes: pc.Bytes})
	}
	for _, c := range s.Conversations {
		v.p.Emit("conversation", conversationToJSON(c))
	}
	v.p.Emit("summary", statsSummaryJSON{
		Packets: sum.Packets, Shown: sum.Shown, Bytes: s.Bytes,
		Start: jsonTime(s.First), End: jsonTime(s.Last), DurationMs: Ms(s.Last.Sub(s.First)),
		Conversations: len(s.Conversations), Cut: sum.Cut, Problems: sum.Problems,
	})
}

func conversationToJSON(c *decode.Conversation) conversationJSON {
	j := conversationJSON{
		N: c.N, Proto: c.Proto, Client: c.Client.String(), Server: c.Server.String(),
		FirstPacket: c.FirstFrame, LastPacket: c.LastFrame, Start: jsonTime(c.First), DurationMs: Ms(c.Last.Sub(c.First)),
		PacketsClient: c.Packets[0], PacketsServer: c.Packets[1], BytesClient: c.Bytes[0], BytesServer: c.Bytes[1],
		PayloadClient: c.Payload[0], PayloadServer: c.Payload[1], ICMPErrors: c.ICMPErrors,
	}
	if t := c.TCP; t != nil {
		j.Handshake = string(t.Handshake)
		j.SYNs, j.SYNACKs = &t.SYNs, &t.SYNACKs
		if t.ClientISNSeen {
			j.ClientISN = &t.ClientISN
		}
		if t.ServerISNSeen {
			j.ServerISN = &t.ServerISN
		}
		if t.SYNACKs > 0 && t.ClientISNSeen {
			j.SYNACKAckOK = &t.SYNACKAckOK
		}
		if t.Handshake == decode.HandshakeComplete {
			j.ACKOK = &t.ACKOK
		}
		j.HandshakePkt = t.HandshakeFrame
		if t.Handshake == decode.HandshakeRejected {
			j.ICMPType, j.ICMPCode, j.ICMPFrom = &t.ICMPType, &t.ICMPCode, t.ICMPFrom.String()
		}
		j.Teardown = string(t.Teardown)
		fin := func(f decode.FINSummary) *finJSON {
			if !f.Sent {
				return nil
			}
			return &finJSON{Seq: f.Seq, Acked: f.Acked, Ack: f.Ack, AckOK: f.AckOK}
		}
		j.FINClient, j.FINServer = fin(t.FIN[0]), fin(t.FIN[1])
		j.ClosePacket = t.CloseFrame
		j.RetransClient, j.RetransServer = &t.Retransmissions[0], &t.Retransmissions[1]
	}
	if t := c.TLS; t != nil {
		tj := &tlsSummaryJSON{ServerName: t.ServerName, Resumed: t.Resumed, EncryptedAlerts: t.EncryptedAlerts, Error: t.Err}
		if t.Version != 0 {
			tj.Version = t.Version.String()
		}
		if t.CipherSuite != 0 {
			tj.CipherSuite = t.CipherSuite.String()
		}
		for _, a := range t.Alerts {
			tj.Alerts = append(tj.Alerts, a.String())
		}
		j.TLS = tj
	}
	return j
}
