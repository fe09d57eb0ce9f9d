package transcript

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	// The blank import defines -update, so that go test ./... -update runs here.
	_ "github.com/netdiag/netdiag/internal/golden"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	segs, err := Read(write("ok.hex", "# connection 0\n> 1603\n< 160303\n# connection 1\n> 15\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Segment{{0, true, []byte{0x16, 0x03}}, {0, false, []byte{0x16, 0x03, 0x03}}, {1, true, []byte{0x15}}}
	if len(segs) != len(want) {
		t.Fatalf("got %d segments, want %d", len(segs), len(want))
	}
	for i := range want {
		if segs[i].Conn != want[i].Conn || segs[i].FromClient != want[i].FromClient || string(segs[i].Data) != string(want[i].Data) {
			t.Errorf("segment %d: %+v, want %+v", i, segs[i], want[i])
		}
	}
	for name, text := range map[string]string{"bad.hex": "# connection 0\n> 16zz\n", "empty.hex": "# connection 0\n"} {
		if _, err := Read(write(name, text)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Read(filepath.Join(dir, "missing.hex")); err == nil {
		t.Error("a missing file read")
	}
}

// TestReadCaptures reads every transcript kept under testdata/tls.
func TestReadCaptures(t *testing.T) {
	files, err := filepath.Glob("../../testdata/tls/*.hex")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, f := range files {
		segs, err := Read(f)
		if err != nil {
			t.Error(err)
			continue
		}
		if segs[0].Conn != 0 || !segs[0].FromClient {
			t.Errorf("%s does not begin with the client's first segment", f)
		}
	}
}
