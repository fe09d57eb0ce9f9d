// Command netdiag tells whether a service is reachable and, when it is not,
// at which layer connectivity breaks. See `netdiag --help`.
package main

import (
	"os"

	"github.com/netdiag/netdiag/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
