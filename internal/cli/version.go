package cli

// Build information, stamped by the linker:
//
//	go build -ldflags "-X github.com/netdiag/netdiag/internal/cli.version=1.0.0 \
//	  -X github.com/netdiag/netdiag/internal/cli.commit=$(git rev-parse --short HEAD) \
//	  -X github.com/netdiag/netdiag/internal/cli.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
//
// A plain `go build` or `go install` leaves them as "dev" and "unknown".
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

func versionLine() string {
	return "netdiag " + version + " (commit " + commit + ", built " + date + ")"
}
