package cli

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/netdiag/netdiag/pkg/decode"
	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/layers"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newCmdDecode) }

// decodeOptions is everything `netdiag decode` was asked to do.
type decodeOptions struct {
	// File is the capture to read, "-" for standard input; empty with Hex.
	File string
	// Hex is a frame written as hex ("-": read the dump from stdin).
	Hex  string
	Link string

	Summary bool
	Dump    bool
	Stats   bool
	JSON    bool
	Count   int

	Protos       string
	Hosts        []string
	Ports        []string
	Conversation int

	filter   decode.Filter
	linkType layers.LinkType
}

func newCmdDecode(a *app) *cobra.Command {
	opts := &decodeOptions{}
	cmd := &cobra.Command{
		Use:   "decode FILE | decode --hex HEX",
		Short: "Show what is in a capture, layer by layer",
		Long: `decode reads a pcap or pcapng capture (recognised by its magic number; "-" reads
standard input; gzip-compressed files are read too) and shows every packet as a tree
of its layers: each header named with its TCP/IP layer and its PDU (frame, packet,
segment, data), its fields, and its checksums verified. TCP and UDP packets are
numbered by conversation; TLS records and handshake messages are reassembled across
segments, and DNS questions and answers are decoded.

Views:
  (default)   a layered tree per packet
  --summary   one line per packet, like tcpdump
  -x          add a hex and ASCII dump, each layer's header bytes on lines of their own
  --json      one JSON object per packet (see docs/json.md)
  --stats     totals per protocol and per conversation, with the TCP handshake and
              close checked (SYN-ACK and ACK numbers, FINs acknowledged); with filters,
              of the packets that pass them

Filters, all of which must hold: --proto, --host, --port, --conversation N, and -4 or
-6 for IPv4 or IPv6 packets only.

--hex decodes one frame given as hex: plain hex, or the output of od -Ax -tx1, xxd or
tcpdump -xx (one frame per packet of a tcpdump dump). Frames are Ethernet unless
--link says otherwise (tcpdump -x leaves the link layer out: use --link ip).

Checksums of packets this machine sent are often left to the network card, so a
capture taken on the sender shows them unfinished; decode says "unverified
(checksum offload)" for those rather than "bad".

Exit status: 0 when the whole input was decoded; 2 for unreadable input, a file that
is not a capture, or a damaged one (a truncated file, impossible record lengths,
packets cut by the snap length): everything before the damage is still shown, and
the problem is reported on stderr with the packet number and byte offset.`,
		Example: `  netdiag decode capture.pcap
  netdiag decode --summary capture.pcapng
  tcpdump -i eth0 -w - | netdiag decode --summary -
  netdiag decode -x --proto tls --host 198.18.1.10 capture.pcap
  netdiag decode --stats capture.pcap
  netdiag decode --conversation 3 capture.pcap
  netdiag decode --json capture.pcap | jq 'select(.type=="packet") | .layers[].name'
  netdiag decode --link ip --hex 4500001c000100004001edafc6120002c612010a0800f7fd00010001`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.Hex != "" {
				if len(args) > 0 {
					return usageErrorf(cmd, "give either a FILE or --hex, not both")
				}
				return nil
			}
			return exactArgs(1, "capture FILE (or - for standard input, or --hex)")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.File = args[0]
			}
			opts.JSON = a.global.JSON
			switch {
			case a.global.IPv4:
				opts.filter.IPVersion = 4
			case a.global.IPv6:
				opts.filter.IPVersion = 6
			}
			if err := opts.validate(cmd); err != nil {
				return err
			}
			return runDecode(a.ctx, opts, a.streams, a.printer())
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Hex, "hex", "", `decode one frame given as hex ("-": read the dump from standard input)`)
	f.StringVar(&opts.Link, "link", "eth", "link type of a --hex frame: eth, ip, sll, sll2, null, ppp, chdlc")
	f.BoolVar(&opts.Summary, "summary", false, "one line per packet, like tcpdump")
	f.BoolVarP(&opts.Dump, "hexdump", "x", false, "add a hex and ASCII dump with each layer's header bytes marked")
	f.BoolVar(&opts.Stats, "stats", false, "print totals per protocol and per conversation instead of packets")
	f.IntVarP(&opts.Count, "count", "c", 0, "stop after showing this many packets")
	f.StringVar(&opts.Protos, "proto", "", "only packets carrying one of these protocols: tcp,udp,icmp,icmpv6,arp,dns,tls,ipv4,ipv6,ip,...")
	f.StringArrayVar(&opts.Hosts, "host", nil, "only packets to or from this address or prefix (repeatable)")
	f.StringArrayVar(&opts.Ports, "port", nil, "only TCP or UDP packets to or from this port (repeatable)")
	f.IntVar(&opts.Conversation, "conversation", 0, "only packets of conversation N (numbers as --stats lists them)")
	return cmd
}

// linkTypes maps --link names to link types.
var linkTypes = map[string]layers.LinkType{
	"eth": layers.LinkTypeEthernet, "ip": layers.LinkTypeRaw, "sll": layers.LinkTypeLinuxSLL,
	"sll2": layers.LinkTypeLinuxSLL2, "null": layers.LinkTypeNull, "ppp": layers.LinkTypePPP,
	"chdlc": layers.LinkTypeCHDLC,
}

func (o *decodeOptions) validate(cmd *cobra.Command) error {
	lt, ok := linkTypes[strings.ToLower(o.Link)]
	if !ok {
		return usageErrorf(cmd, "--link %q is not one of eth, ip, sll, sll2, null, ppp, chdlc", o.Link)
	}
	o.linkType = lt
	if cmd.Flags().Changed("link") && o.Hex == "" {
		return usageErrorf(cmd, "--link applies to --hex only; a capture file says its own link type")
	}
	if o.Count < 0 {
		return usageErrorf(cmd, "--count must not be negative, got %d", o.Count)
	}
	if o.Conversation < 0 {
		return usageErrorf(cmd, "--conversation must be a positive number, got %d", o.Conversation)
	}
	if o.Stats && (o.Summary || o.Dump) {
		return usageErrorf(cmd, "--stats prints totals only; it does not combine with --summary or -x")
	}
	if o.JSON && (o.Summary || o.Dump) {
		return usageErrorf(cmd, "--json is a view of its own; it does not combine with --summary or -x")
	}
	o.filter.Conversation = o.Conversation
	if o.Protos != "" {
		p, err := decode.ParseProtos(o.Protos)
		if err != nil {
			return usageErrorf(cmd, "--proto: %v", err)
		}
		o.filter.Protos = p
	}
	for _, h := range o.Hosts {
		p, err := decode.ParseHost(h)
		if err != nil {
			return usageErrorf(cmd, "--host: %v", err)
		}
		o.filter.Hosts = append(o.filter.Hosts, p)
	}
	for _, s := range o.Ports {
		p, err := decode.ParsePort(s)
		if err != nil {
			return usageErrorf(cmd, "--port: %v", err)
		}
		o.filter.Ports = append(o.filter.Ports, p)
	}
	return nil
}

// maxHexInput bounds a hex dump read from standard input.
const maxHexInput = 16 << 20

// maxProblemLines bounds the per-packet problem lines on stderr; the rest
// are counted.
const maxProblemLines = 10

// packetSource yields the records to decode: a capture file or hex frames.
type packetSource interface {
	Next() (*decode.Record, error)
}

// hexSource serves the frames of a hex dump as records.
type hexSource struct {
	frames [][]byte
	link   layers.LinkType
	rec    decode.Record
}

func (h *hexSource) Next() (*decode.Record, error) {
	if h.rec.N >= len(h.frames) {
		return nil, io.EOF
	}
	fr := h.frames[h.rec.N]
	h.rec = decode.Record{N: h.rec.N + 1, Length: len(fr), LinkType: h.link, Data: fr}
	return &h.rec, nil
}

// openSource opens the input named by the options. The returned name is
// what error messages call the input; live says the input is a pipe or
// terminal (read so that an interrupt ends the wait, output flushed per
// packet).
func (o *decodeOptions) openSource(ctx context.Context, in io.Reader) (src packetSource, name string, live bool, closeSrc func(), err error) {
	noop := func() {}
	if o.File == "-" || o.Hex == "-" {
		if live = liveFile(in); live {
			in = newCtxReader(ctx, in)
		}
	}
	src, name, closeSrc, err = o.open(ctx, in, &live)
	if err != nil && ctx.Err() != nil {
		// Interrupted while waiting for the first bytes.
		return nil, "", false, noop, ctx.Err()
	}
	return src, name, live, closeSrc, err
}

func (o *decodeOptions) open(ctx context.Context, in io.Reader, live *bool) (packetSource, string, func(), error) {
	noop := func() {}
	if o.Hex != "" {
		text := []byte(o.Hex)
		name := "--hex"
		if o.Hex == "-" {
			b, err := io.ReadAll(io.LimitReader(in, maxHexInput+1))
			if err != nil {
				return nil, "", noop, failure.Inputf("read the hex dump from standard input: %v", err)
			}
			if len(b) > maxHexInput {
				return nil, "", noop, failure.Inputf("the hex dump on standard input is larger than %d MiB", maxHexInput>>20)
			}
			text, name = b, "standard input"
		}
		frames, err := decode.ParseHex(text)
		if err != nil {
			return nil, "", noop, failure.Inputf("%s: %v", name, err)
		}
		return &hexSource{frames: frames, link: o.linkType}, name, noop, nil
	}
	var (
		src   io.Reader = in
		name            = "standard input"
		close           = noop
	)
	if o.File != "-" {
		f, err := os.Open(o.File)
		if err != nil {
			return nil, "", noop, failure.Inputf("open %s: %v", o.File, unwrapPathError(err))
		}
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			f.Close()
			return nil, "", noop, failure.Inputf("%s is a directory, not a capture file", o.File)
		}
		src, name, close = f, o.File, func() { f.Close() }
		if *live = liveFile(f); *live {
			// A named pipe.
			src = newCtxReader(ctx, f)
		}
	}
	r, err := decode.NewReader(src)
	if err != nil {
		close()
		return nil, "", noop, failure.Inputf("%s: %v", name, err)
	}
	return r, name, close, nil
}

// unwrapPathError drops the operation and path an *os.PathError repeats.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// packetView renders decoded frames in one of the views.
type packetView interface {
	frame(f *decode.Frame)
	// finish ends the output once every packet is read.
	finish(sum *decodeSummary)
}

// decodeSummary is what the run counted, for the final lines; Stats is
// nil unless --stats.
type decodeSummary struct {
	Packets  int
	Shown    int
	Bytes    int64
	Cut      int
	Problems int
	Stats    *decode.Stats
}

func runDecode(ctx context.Context, opts *decodeOptions, s *Streams, p *Printer) error {
	src, name, live, closeSrc, err := opts.openSource(ctx, s.In)
	if err != nil {
		return err
	}
	defer closeSrc()

	out := bufio.NewWriterSize(s.Out, 64<<10)
	var view packetView
	switch {
	case opts.Stats && opts.JSON:
		// Through the buffered output, so that a failed write is noticed
		// when it is flushed.
		view = &statsJSONView{out: out, p: NewPrinter(&Streams{Out: out, Err: s.Err}, true, false, false)}
	case opts.Stats:
		view = &statsTextView{out: out, p: p}
	case opts.JSON:
		view = newJSONView(out)
	case opts.Summary:
		view = &summaryView{out: out, dump: opts.Dump}
	default:
		view = &treeView{out: out, p: p, dump: opts.Dump}
	}

	dec := decode.NewDecoder(decode.Options{Stats: opts.Stats, Filter: opts.filter})
	sum := &decodeSummary{}
	var (
		readErr     error
		problems    []string
		unsupported = map[layers.LinkType]bool{}
		hinted      bool
	)
	for {
		if sum.Packets&1023 == 0 && ctx.Err() != nil {
			break
		}
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if ctx.Err() == nil {
				readErr = err // not the interrupted read of a pipe
			}
			break
		}
		f := dec.Decode(rec)
		sum.Packets++
		if !rec.LinkType.Supported() && !unsupported[rec.LinkType] {
			unsupported[rec.LinkType] = true
			p.Warnf("%s: link type %v is not decoded (first: packet %d); -x shows the bytes", name, rec.LinkType, rec.N)
		}
		if opts.Hex != "" && !hinted && ipWithoutLink(opts, f) {
			hinted = true
			p.Warnf("%s: frame %d is an IP packet without a link-layer header (as tcpdump -x writes them); decode it with --link ip", name, rec.N)
		}
		sum.Bytes += int64(f.Length)
		if f.Cut() {
			sum.Cut++
			if len(problems) < maxProblemLines {
				problems = append(problems, fmt.Sprintf("packet %d at byte offset %d: cut by the snap length (%d of %d bytes captured)",
					f.N, f.Offset, f.Captured(), f.Length))
			}
		}
		if !opts.filter.Match(f) {
			continue
		}
		sum.Shown++
		if !opts.Stats {
			view.frame(f)
			if live {
				out.Flush()
			}
		}
		if opts.Count > 0 && sum.Shown >= opts.Count {
			break
		}
	}
	sum.Stats = dec.Stats()
	sum.Problems = sum.Cut
	if readErr != nil {
		sum.Problems++
	}
	view.finish(sum)
	if err := out.Flush(); err != nil {
		return failure.Localf(err, "write the output: %v", err)
	}

	for _, pr := range problems {
		p.Warnf("%s: %s", name, pr)
	}
	if sum.Cut > len(problems) {
		p.Warnf("%s: %s more cut by the snap length", name, count(sum.Cut-len(problems), "packet"))
	}
	if readErr != nil {
		p.Warnf("%s: %v", name, readErr)
		if sum.Packets > 0 {
			p.Warnf("%s: decoded the %s before the damage", name, count(sum.Packets, "packet"))
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if sum.Problems > 0 {
		return errReported{failure.KindInput}
	}
	return nil
}

// ipWithoutLink reports whether a --hex frame decoded as Ethernet (the
// default) is really an IP packet without a link-layer header, as tcpdump
// -x and -X dump them: its Ethernet type means nothing, and its bytes are
// an IPv4 header with a right checksum or an IPv6 header whose payload
// length is the rest of the frame.
func ipWithoutLink(o *decodeOptions, f *decode.Frame) bool {
	p := &f.Packet
	if o.linkType != layers.LinkTypeEthernet || !p.Has(layers.LayerEthernet) || len(p.Layers) != 1 {
		return false
	}
	b := p.Data
	switch {
	case len(b) >= 20 && b[0]>>4 == 4:
		hl := int(b[0]&0xf) * 4
		return hl >= 20 && len(b) >= hl && layers.Checksum(b[:hl]) == 0
	case len(b) >= 40 && b[0]>>4 == 6:
		return 40+int(binary.BigEndian.Uint16(b[4:])) == len(b)
	}
	return false
}
