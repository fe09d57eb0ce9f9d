package decode

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// icmpFrames returns the first packets of icmp.pcap, which the dumps in
// testdata/decode/hex were made from (see make.sh there).
func icmpFrames(t testing.TB) [][]byte {
	recs, err := readAll(t, readCapture(t, "icmp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, r := range recs {
		out = append(out, r.Data)
	}
	return out
}

func TestParseHexToolDumps(t *testing.T) {
	frames := icmpFrames(t)
	ipOnly := func(fs [][]byte) [][]byte {
		var out [][]byte
		for _, f := range fs {
			out = append(out, f[14:])
		}
		return out
	}
	cases := []struct {
		file string
		want [][]byte
	}{
		{"od.txt", frames[2:3]},
		{"xxd.txt", frames[2:3]},
		{"hexdump-C.txt", frames[2:3]},
		{"tcpdump-xx.txt", frames[:4]},
		{"tcpdump-XX.txt", frames[:4]},
		{"tcpdump-x.txt", ipOnly(frames[:4])},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join(captureDir, "hex", c.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseHex(text)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("%d frames, want %d", len(got), len(c.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], c.want[i]) {
					t.Errorf("frame %d:\n got % x\nwant % x", i+1, got[i], c.want[i])
				}
			}
		})
	}
}

func TestParseHexForms(t *testing.T) {
	cases := []struct {
		name, text string
		want       []byte
	}{
		{"plain", "4500 0054\n66 2f", []byte{0x45, 0, 0, 0x54, 0x66, 0x2f}},
		{"plain without spaces", "45000054", []byte{0x45, 0, 0, 0x54}},
		{"colons", "45:00:00:54", []byte{0x45, 0, 0, 0x54}},
		{"0x prefixes", "0x45 0x00, 0x00 0x54", []byte{0x45, 0, 0, 0x54}},
		{"upper case", "DEADbeef", []byte{0xde, 0xad, 0xbe, 0xef}},
		// Real od -Ax -tx1 output for 40 zero bytes and a one: od leaves
		// out repeated rows and writes "*".
		{"od repeats", "000000 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n*\n000020 00 00 00 00 00 00 00 00 01\n000029\n",
			append(make([]byte, 40), 1)},
		{"wireshark hex dump", "0000   45 00 00 54  E..T\n", []byte{0x45, 0, 0, 0x54}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseHex([]byte(c.text))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || !bytes.Equal(got[0], c.want) {
				t.Fatalf("got % x, want one frame % x", got, c.want)
			}
		})
	}
}

func TestParseHexErrors(t *testing.T) {
	cases := map[string]string{
		"empty":         "",
		"odd digits":    "450",
		"not hex":       "hello",
		"offset gap":    "000000 45 00\n000010 00 54\n",
		"offset back":   "000000 45 00 00 54\n000002 00\n",
		"bad row bytes": "0x0000:  4500 zz54\n",
		"too large":     strings.Repeat("00", MaxHexFrame+1),
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseHex([]byte(text)); !errors.Is(err, ErrHex) {
				t.Fatalf("error %v, want ErrHex", err)
			}
		})
	}
}

func FuzzParseHex(f *testing.F) {
	for _, name := range []string{"od.txt", "xxd.txt", "hexdump-C.txt", "tcpdump-xx.txt", "tcpdump-XX.txt"} {
		b, err := os.ReadFile(filepath.Join(captureDir, "hex", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("000000 00 00\n*\n001000\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		frames, err := ParseHex(text)
		if err != nil {
			return
		}
		for _, fr := range frames {
			if len(fr) == 0 || len(fr) > MaxHexFrame {
				t.Fatalf("frame of %d bytes", len(fr))
			}
		}
	})
}
