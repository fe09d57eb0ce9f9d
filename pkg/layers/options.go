package layers

// decodeOptions walks the kind-length-value option lists that IPv4 and TCP
// headers share: a one-byte end-of-list, a one-byte no-op, and every other
// option a kind byte, a length byte counting both, then the data. It
// appends each option to opts (reused by the caller, so decoding does not
// allocate once opts has grown) and reports whether the list was malformed:
// a length below 2 or running past the header keeps what is there as the
// last option and stops.
func decodeOptions[K ~uint8, O any](opts []O, b []byte, eol, nop K, option func(kind K, length uint8, data []byte) O) ([]O, bool) {
	for len(b) > 0 {
		k := K(b[0])
		switch k {
		case eol:
			return append(opts, option(k, 1, nil)), false
		case nop:
			opts = append(opts, option(k, 1, nil))
			b = b[1:]
			continue
		}
		if len(b) < 2 || int(b[1]) < 2 || int(b[1]) > len(b) {
			l := uint8(0)
			if len(b) >= 2 {
				l = b[1]
			}
			return append(opts, option(k, l, b[min(2, len(b)):])), true
		}
		n := int(b[1])
		opts = append(opts, option(k, b[1], b[2:n]))
		b = b[n:]
	}
	return opts, false
}
