package cli

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/netdiag/netdiag/pkg/decode"
)

// BenchmarkDecodeViews renders the packets of the lab captures in each
// view, one packet per iteration, into io.Discard: the cost per packet of
// formatting, on top of BenchmarkDecode in pkg/decode.
func BenchmarkDecodeViews(b *testing.B) {
	var recs []decode.Record
	for _, name := range []string{"tls-openssl.pcap", "tcp.pcap", "icmp.pcap", "bulk-mss.pcap", "ipv6.pcap"} {
		f, err := os.Open(filepath.Join(decodeData, name))
		if err != nil {
			b.Fatal(err)
		}
		r, err := decode.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			c := *rec
			c.Data = append([]byte(nil), rec.Data...)
			recs = append(recs, c)
		}
		f.Close()
	}
	p := NewPrinter(&Streams{Out: io.Discard, Err: io.Discard}, false, false, false)
	out := bufio.NewWriter(io.Discard)
	views := map[string]packetView{
		"summary": &summaryView{out: out},
		"tree":    &treeView{out: out, p: p},
		"json":    newJSONView(out),
		"hexdump": &summaryView{out: out, dump: true},
	}
	for name, v := range views {
		b.Run(name, func(b *testing.B) {
			d := decode.NewDecoder(decode.Options{})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				v.frame(d.Decode(&recs[i%len(recs)]))
				i++
			}
		})
	}
}
