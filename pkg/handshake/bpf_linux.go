package handshake

import (
	"encoding/binary"
	"net/netip"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// The socket filters of the trace and SYN modes, in classic BPF, for a
// packet socket of type SOCK_DGRAM: the bytes the filter sees begin at
// the IPv4 or IPv6 header. A filter is a list of alternatives, each a
// list of tests that must all pass; the first alternative that passes
// accepts the packet.

// bpfTest loads a value into A and compares it.
type bpfTest struct {
	load []bpf.Instruction
	cond bpf.JumpTest
	val  uint32
}

func ldb(off uint32) []bpf.Instruction { return []bpf.Instruction{bpf.LoadAbsolute{Off: off, Size: 1}} }
func ldh(off uint32) []bpf.Instruction { return []bpf.Instruction{bpf.LoadAbsolute{Off: off, Size: 2}} }
func ldw(off uint32) []bpf.Instruction { return []bpf.Instruction{bpf.LoadAbsolute{Off: off, Size: 4}} }

// ipv4Transport loads size bytes at off into the IPv4 payload, after a
// header of any length.
func ipv4Transport(off, size uint32) []bpf.Instruction {
	return []bpf.Instruction{bpf.LoadMemShift{Off: 0}, bpf.LoadIndirect{Off: off, Size: int(size)}}
}

func eq(load []bpf.Instruction, v uint32) bpfTest {
	return bpfTest{load: load, cond: bpf.JumpEqual, val: v}
}

var (
	isIPv4 = bpfTest{load: append(ldb(0), bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0}), cond: bpf.JumpEqual, val: 0x40}
	isIPv6 = bpfTest{load: append(ldb(0), bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf0}), cond: bpf.JumpEqual, val: 0x60}
	// notFragment passes first fragments and whole packets, whose
	// transport header sits right after the IPv4 header.
	notFragment = bpfTest{load: ldh(6), cond: bpf.JumpBitsNotSet, val: 0x1fff}
)

// addrTests compares the address at off with a, word by word.
func addrTests(off uint32, a netip.Addr) []bpfTest {
	b := a.AsSlice()
	var out []bpfTest
	for i := 0; i < len(b); i += 4 {
		out = append(out, eq(ldw(off+uint32(i)), binary.BigEndian.Uint32(b[i:])))
	}
	return out
}

// snapLen is how much of an accepted packet a socket filter keeps: the
// headers, never the payload, which neither mode reads. An IPv4 ICMP
// error with its quoted SYN takes at most 60 + 8 + 60 + 60 bytes; IPv6
// leaves room for extension headers. Without it, a traced transfer
// would keep up to 64 KiB for each of its packets (GRO merges them).
const snapLen = 512

// bpfProgram assembles the alternatives; an accepted packet is cut to
// snapLen bytes.
func bpfProgram(alts ...[]bpfTest) []bpf.Instruction {
	var prog []bpf.Instruction
	for _, alt := range alts {
		length := 1 // the accept at the end
		for _, t := range alt {
			length += len(t.load) + 1
		}
		pos := 0
		for _, t := range alt {
			prog = append(prog, t.load...)
			pos += len(t.load) + 1
			prog = append(prog, bpf.JumpIf{Cond: t.cond, Val: t.val, SkipFalse: uint8(length - pos)})
		}
		prog = append(prog, bpf.RetConstant{Val: snapLen})
	}
	return append(prog, bpf.RetConstant{Val: 0})
}

// tupleFilter accepts the TCP segments of one connection, both ways, and
// the ICMP errors sent to the local address (matched to the connection
// in userspace, from the datagram they quote).
func tupleFilter(local, remote netip.AddrPort) []bpf.Instruction {
	l, r := local.Addr(), remote.Addr()
	out := uint32(local.Port())<<16 | uint32(remote.Port())
	in := uint32(remote.Port())<<16 | uint32(local.Port())
	if l.Is4() {
		dir := func(src, dst netip.Addr, ports uint32) []bpfTest {
			t := []bpfTest{isIPv4, eq(ldb(9), unix.IPPROTO_TCP), notFragment}
			t = append(t, addrTests(12, src)...)
			t = append(t, addrTests(16, dst)...)
			return append(t, eq(ipv4Transport(0, 4), ports))
		}
		icmp := append([]bpfTest{isIPv4, eq(ldb(9), unix.IPPROTO_ICMP)}, addrTests(16, l)...)
		return bpfProgram(dir(l, r, out), dir(r, l, in), icmp)
	}
	dir := func(src, dst netip.Addr, ports uint32) []bpfTest {
		t := []bpfTest{isIPv6, eq(ldb(6), unix.IPPROTO_TCP)}
		t = append(t, addrTests(8, src)...)
		t = append(t, addrTests(24, dst)...)
		return append(t, eq(ldw(40), ports))
	}
	icmp := append([]bpfTest{isIPv6, eq(ldb(6), unix.IPPROTO_ICMPV6)}, addrTests(24, l)...)
	return bpfProgram(dir(l, r, out), dir(r, l, in), icmp)
}

// portFilter accepts, for the SYN mode, TCP segments of either family
// sent to local port port, and ICMP and ICMPv6 error messages (the
// ICMPv6 types below 128).
func portFilter(port uint16) []bpf.Instruction {
	return bpfProgram(
		[]bpfTest{isIPv4, eq(ldb(9), unix.IPPROTO_TCP), notFragment, eq(ipv4Transport(2, 2), uint32(port))},
		[]bpfTest{isIPv4, eq(ldb(9), unix.IPPROTO_ICMP)},
		[]bpfTest{isIPv6, eq(ldb(6), unix.IPPROTO_TCP), eq(ldh(42), uint32(port))},
		[]bpfTest{isIPv6, eq(ldb(6), unix.IPPROTO_ICMPV6), {load: ldb(40), cond: bpf.JumpLessThan, val: 128}},
	)
}

// attachFilter assembles prog and attaches it to the socket fd.
func attachFilter(fd int, prog []bpf.Instruction) error {
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return err
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]})
}
