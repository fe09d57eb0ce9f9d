package failure

// ICMP types that report errors, as numbered on the wire.
const (
	icmp4DestUnreachable = 3
	icmp4TimeExceeded    = 11
	icmp4ParamProblem    = 12
	icmp6DestUnreachable = 1
	icmp6PacketTooBig    = 2
	icmp6TimeExceeded    = 3
	icmp6ParamProblem    = 4
)

// FromICMPv4 maps an ICMPv4 error type and code to a reason. ok is false
// for messages that are not errors (echo, redirect, ...). Codes that mean
// the same to a user share a reason: "network unknown" and "network
// unreachable for TOS" are both net-unreachable; every "prohibited" code
// (9, 10, 13) and the precedence codes are admin-prohibited.
func FromICMPv4(typ, code uint8) (r Reason, ok bool) {
	switch typ {
	case icmp4DestUnreachable:
		switch code {
		case 0, 6, 11:
			return NetUnreachable, true
		case 1, 7, 8, 12:
			return HostUnreachable, true
		case 2:
			return ProtoUnreachable, true
		case 3:
			return PortUnreachable, true
		case 4:
			return FragNeeded, true
		case 5:
			return SourceRouteFailed, true
		default: // 9, 10, 13, 14, 15 and unassigned codes
			return AdminProhibited, true
		}
	case icmp4TimeExceeded:
		if code == 1 {
			return ReassemblyTimeout, true
		}
		return TTLExceeded, true
	case icmp4ParamProblem:
		return ParamProblem, true
	}
	return "", false
}

// FromICMPv6 maps an ICMPv6 error type and code to a reason (RFC 4443).
func FromICMPv6(typ, code uint8) (r Reason, ok bool) {
	switch typ {
	case icmp6DestUnreachable:
		switch code {
		case 0, 2: // no route, beyond scope of source address
			return NetUnreachable, true
		case 3:
			return HostUnreachable, true
		case 4:
			return PortUnreachable, true
		default: // 1 administratively prohibited, 5 policy, 6 reject route, 7 source routing header
			return AdminProhibited, true
		}
	case icmp6PacketTooBig:
		return FragNeeded, true
	case icmp6TimeExceeded:
		if code == 1 {
			return ReassemblyTimeout, true
		}
		return TTLExceeded, true
	case icmp6ParamProblem:
		return ParamProblem, true
	}
	return "", false
}
