package cli

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/netdiag/netdiag/pkg/decode"
	"github.com/netdiag/netdiag/pkg/layers"
)

// FuzzRenderFrame decodes arbitrary frames of any link type and renders
// them in every view: no frame may make a view panic, and the JSON view
// must always write valid JSON. Seeds are packets of the lab captures.
func FuzzRenderFrame(f *testing.F) {
	for _, name := range []string{"tls-openssl.pcap", "icmp.pcap", "ipv6.pcap", "dns.pcapng", "any-sll2.pcap"} {
		fh, err := os.Open(filepath.Join(decodeData, name))
		if err != nil {
			f.Fatal(err)
		}
		r, err := decode.NewReader(fh)
		if err != nil {
			f.Fatal(err)
		}
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			f.Add(uint16(rec.LinkType), append([]byte(nil), rec.Data...))
		}
		fh.Close()
	}
	p := NewPrinter(&Streams{Out: io.Discard, Err: io.Discard}, false, false, false)
	out := bufio.NewWriter(io.Discard)
	text := []packetView{&treeView{out: out, p: p, dump: true}, &summaryView{out: out, dump: true}}
	f.Fuzz(func(t *testing.T, lt uint16, data []byte) {
		d := decode.NewDecoder(decode.Options{})
		fr := d.Decode(&decode.Record{N: 1, Length: len(data), LinkType: layers.LinkType(lt), Data: data})
		for _, v := range text {
			v.frame(fr)
		}
		b := appendPacketJSON(nil, fr)
		if !json.Valid(b) {
			t.Fatalf("invalid JSON: %s", b)
		}
	})
}
