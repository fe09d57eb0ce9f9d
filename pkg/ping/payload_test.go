package ping

import (
	"bytes"
	"testing"
	"time"
)

func TestPayloadRoundTrip(t *testing.T) {
	tok := token{9, 8, 7, 6, 5, 4, 3, 2}
	stamp := 1234567 * time.Microsecond
	for _, size := range []int{0, 1, 7, 8, 12, 15, 16, 17, 56, 1472} {
		b := make([]byte, size)
		fillPayload(b, tok, stamp)
		if v := checkPayload(b, size, tok, stamp); v != payloadOK {
			t.Errorf("size %d: verdict %d", size, v)
		}
		if size > stampEnd && b[size-1] != byte(size-1) {
			t.Errorf("size %d: pattern byte %d", size, b[size-1])
		}
		got, ok := payloadStamp(b, size, tok)
		if ok != (size >= stampEnd) || (ok && got != stamp) {
			t.Errorf("size %d: stamp %v %v", size, got, ok)
		}
	}
}

func TestPayloadVerdicts(t *testing.T) {
	tok := token{9, 8, 7, 6, 5, 4, 3, 2}
	other := token{0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x17, 0x28}
	stamp := time.Second
	ours := make([]byte, 56)
	fillPayload(ours, tok, stamp)
	theirs := make([]byte, 56)
	fillPayload(theirs, other, 3*time.Second)
	flip := func(i int) []byte { b := bytes.Clone(ours); b[i] ^= 1; return b }
	cases := []struct {
		name string
		b    []byte
		want payloadVerdict
	}{
		{"ours", ours, payloadOK},
		{"another run", theirs, payloadForeign},
		{"token bit", flip(3), payloadChanged},
		{"stamp bit", flip(10), payloadChanged},
		{"pattern bit", flip(40), payloadChanged},
		{"another run, damaged", func() []byte { b := bytes.Clone(theirs); b[30]++; return b }(), payloadChanged},
		{"short", ours[:55], payloadLength},
		{"long", append(bytes.Clone(ours), 0), payloadLength},
		{"zeros", make([]byte, 56), payloadChanged},
	}
	for _, c := range cases {
		if got := checkPayload(c.b, 56, tok, stamp); got != c.want {
			t.Errorf("%s: verdict %d, want %d", c.name, got, c.want)
		}
	}
	if _, ok := payloadStamp(theirs, 56, tok); ok {
		t.Error("another run's payload must not give a send time")
	}
	if _, ok := payloadStamp(flip(40), 56, tok); ok {
		t.Error("a damaged payload must not give a send time")
	}
}
