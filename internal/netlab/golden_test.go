package netlab

// The blank import defines -update, so that go test ./... -update runs here.
import _ "github.com/netdiag/netdiag/internal/golden"
