package ping

import "golang.org/x/net/bpf"

// snapAll is the filter's "accept the whole packet" length.
const snapAll = 1 << 18

// echoFilter is the classic BPF program a raw ICMP socket carries so that
// the kernel queues only packets for this run: echo replies with our
// identifier, and ICMP errors quoting an echo request with our identifier.
// Every other ICMP packet on the host (other pings, neighbour discovery,
// our own requests to a local address) is dropped before it is copied to
// us. Userspace checks everything again; the filter only spares the work.
//
// A raw IPv4 socket's filter sees the packet from its IPv4 header; a raw
// ICMPv6 socket's sees the ICMPv6 message without the IPv6 header.
func echoFilter(fam int, id uint16) []bpf.Instruction {
	if fam == 4 {
		return echoFilter4(uint32(id))
	}
	return echoFilter6(uint32(id))
}

func echoFilter4(id uint32) []bpf.Instruction {
	const accept, drop = 19, 20
	eq := func(at int, v uint32, yes, no int) bpf.Instruction {
		return bpf.JumpIf{Cond: bpf.JumpEqual, Val: v, SkipTrue: uint8(yes - at - 1), SkipFalse: uint8(no - at - 1)}
	}
	return []bpf.Instruction{
		/*  0 */ bpf.LoadMemShift{Off: 0}, // X = length of the IPv4 header
		/*  1 */ bpf.LoadIndirect{Off: 0, Size: 1}, // ICMP type
		/*  2 */ eq(2, 0, 3, 5), // echo reply
		/*  3 */ bpf.LoadIndirect{Off: 4, Size: 2}, // its identifier
		/*  4 */ eq(4, id, accept, drop),
		/*  5 */ eq(5, 3, 8, 6), // destination unreachable
		/*  6 */ eq(6, 11, 8, 7), // time exceeded
		/*  7 */ eq(7, 12, 8, drop), // parameter problem
		/*  8 */ bpf.LoadIndirect{Off: 8 + 9, Size: 1}, // quoted IPv4 protocol
		/*  9 */ eq(9, 1, 10, drop), // ICMP
		/* 10 */ bpf.LoadIndirect{Off: 8, Size: 1}, // quoted version and header length
		/* 11 */ bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0x0f},
		/* 12 */ bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 2},
		/* 13 */ bpf.ALUOpX{Op: bpf.ALUOpAdd},
		/* 14 */ bpf.TAX{}, // X = both IPv4 headers: the quoted ICMP header is at X+8
		/* 15 */ bpf.LoadIndirect{Off: 8, Size: 1}, // quoted ICMP type
		/* 16 */ eq(16, 8, 17, drop), // echo request
		/* 17 */ bpf.LoadIndirect{Off: 8 + 4, Size: 2}, // its identifier
		/* 18 */ eq(18, id, accept, drop),
		/* 19 */ bpf.RetConstant{Val: snapAll},
		/* 20 */ bpf.RetConstant{Val: 0},
	}
}

func echoFilter6(id uint32) []bpf.Instruction {
	const accept, drop = 14, 15
	eq := func(at int, v uint32, yes, no int) bpf.Instruction {
		return bpf.JumpIf{Cond: bpf.JumpEqual, Val: v, SkipTrue: uint8(yes - at - 1), SkipFalse: uint8(no - at - 1)}
	}
	const quote = 8 // the quoted IPv6 header follows the 8-byte ICMPv6 header
	return []bpf.Instruction{
		/*  0 */ bpf.LoadAbsolute{Off: 0, Size: 1}, // ICMPv6 type
		/*  1 */ eq(1, 129, 2, 4), // echo reply
		/*  2 */ bpf.LoadAbsolute{Off: 4, Size: 2}, // its identifier
		/*  3 */ eq(3, id, accept, drop),
		/*  4 */ eq(4, 1, 8, 5), // destination unreachable
		/*  5 */ eq(5, 2, 8, 6), // packet too big
		/*  6 */ eq(6, 3, 8, 7), // time exceeded
		/*  7 */ eq(7, 4, 8, drop), // parameter problem
		/*  8 */ bpf.LoadAbsolute{Off: quote + 6, Size: 1}, // quoted next header
		/*  9 */ eq(9, 58, 10, drop), // ICMPv6, no extension headers: our requests carry none
		/* 10 */ bpf.LoadAbsolute{Off: quote + 40, Size: 1}, // quoted ICMPv6 type
		/* 11 */ eq(11, 128, 12, drop), // echo request
		/* 12 */ bpf.LoadAbsolute{Off: quote + 40 + 4, Size: 2}, // its identifier
		/* 13 */ eq(13, id, accept, drop),
		/* 14 */ bpf.RetConstant{Val: snapAll},
		/* 15 */ bpf.RetConstant{Val: 0},
	}
}
