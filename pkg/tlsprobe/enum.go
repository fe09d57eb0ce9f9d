package tlsprobe

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// EnumOptions configure Enumerate.
type EnumOptions struct {
	// Versions to test; nil tests SSL 3.0 to TLS 1.3.
	Versions []tlswire.Version
	// Concurrency bounds the connections in flight; 0 means 8. More
	// gains little (servers answer hellos in well under a millisecond)
	// and overflows small listen backlogs: gnutls-serv listens with a
	// backlog of 10, and a SYN dropped from a full queue costs the one
	// second of TCP's first retransmission.
	Concurrency int
	// ChunkSize is the number of suites per ClientHello; 0 means 64. It is
	// capped at 128, beyond which some servers reject the hello.
	ChunkSize int
	// Progress, when set, is called after every probe with the probes
	// done and the current estimate of the total; calls never overlap.
	Progress func(done, total int)

	StepTimeout time.Duration // 0 means 2 s
	MaxMessage  int
	Dial        DialFunc
	Now         func() time.Time
}

// Enumeration lists what a server accepts.
type Enumeration struct {
	// Versions the server accepts, oldest first.
	Versions []tlswire.Version
	// Suites the server accepts, per version, in the server's order of
	// preference when it has one (ServerOrder), else in ours.
	Suites []EnumSuite
	// ServerOrder tells, per accepted version, whether the server imposes
	// its own order of preference rather than following the client's. A
	// version is absent when that could not be told: a single suite
	// accepted, or a probe of the order without answer.
	ServerOrder map[tlswire.Version]bool
	Probes      int
	Elapsed     time.Duration
	// Errors are the probes that got no answer at all (timeouts, resets),
	// which may hide accepted suites; at most 10 are kept.
	Errors []string
}

// EnumSuite is one accepted suite at one version.
type EnumSuite struct {
	Version tlswire.Version
	Suite   tlswire.CipherSuite
}

const (
	defaultEnumConcurrency = 8
	defaultChunk           = 64
	maxChunk               = 128
	maxEnumErrors          = 10
)

func enumOptionsFrom(o *Options) EnumOptions {
	e := o.Enum
	if e.StepTimeout == 0 {
		e.StepTimeout = o.StepTimeout
	}
	if e.Dial == nil {
		e.Dial = o.Dial
	}
	if e.Now == nil {
		e.Now = o.Now
	}
	if e.MaxMessage == 0 {
		e.MaxMessage = o.MaxMessage
	}
	return e
}

// Enumerate finds the protocol versions and cipher suites the server at
// addr accepts, with ClientHello-only probes: each probe offers a list of
// suites at one version and reads which one the ServerHello picks; the
// pick is removed and the list offered again until the server refuses.
// Suites are offered in chunks so that every hello stays small, and the
// chunks and versions are probed concurrently.
func Enumerate(ctx context.Context, addr netip.AddrPort, serverName string, opts EnumOptions) *Enumeration {
	e := newEnumerator(addr, serverName, opts)
	start := e.now()
	versions := opts.Versions
	if versions == nil {
		versions = tlswire.Versions()
	}
	var wg sync.WaitGroup
	accepted := make([][]tlswire.CipherSuite, len(versions))
	for i, v := range versions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			accepted[i] = e.version(ctx, v)
		}()
	}
	wg.Wait()
	res := &Enumeration{ServerOrder: map[tlswire.Version]bool{}}
	for i, v := range versions {
		if len(accepted[i]) == 0 {
			continue
		}
		order, serverOrder, known := e.preference(ctx, v, accepted[i])
		res.Versions = append(res.Versions, v)
		if known {
			res.ServerOrder[v] = serverOrder
		}
		for _, s := range order {
			res.Suites = append(res.Suites, EnumSuite{Version: v, Suite: s})
		}
	}
	slices.Sort(res.Versions)
	res.Probes, res.Errors = e.done, e.errors
	res.Elapsed = e.now().Sub(start)
	return res
}

type enumerator struct {
	addr, serverName string
	o                EnumOptions
	sem              chan struct{}

	mu     sync.Mutex
	done   int
	total  int
	errors []string
}

func newEnumerator(addr netip.AddrPort, serverName string, o EnumOptions) *enumerator {
	if o.Concurrency <= 0 {
		o.Concurrency = defaultEnumConcurrency
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = defaultChunk
	}
	o.ChunkSize = min(o.ChunkSize, maxChunk)
	connDefaults(&o.StepTimeout, &o.MaxMessage, &o.Dial, &o.Now)
	return &enumerator{addr: addr.String(), serverName: serverName, o: o, sem: make(chan struct{}, o.Concurrency)}
}

func (e *enumerator) now() time.Time { return e.o.Now() }

// expect adds n probes to the progress estimate.
func (e *enumerator) expect(n int) {
	e.mu.Lock()
	e.total += n
	e.mu.Unlock()
}

// outcome is what one probe learned.
type outcome int

const (
	picked    outcome = iota // the server chose a suite at this version
	refused                  // the server refused every suite offered
	noVersion                // the server does not speak this version
	noAnswer                 // timeout, reset or garbage: nothing learned
)

// probe offers suites at version v and returns the server's pick.
func (e *enumerator) probe(ctx context.Context, v tlswire.Version, suites []tlswire.CipherSuite) (tlswire.CipherSuite, outcome) {
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return 0, noAnswer
	}
	defer func() { <-e.sem }()
	h := e.hello(v, suites)
	cfg := &handshakeConfig{
		addr: e.addr, dial: e.o.Dial, now: e.o.Now, step: e.o.StepTimeout, maxMsg: e.o.MaxMessage, hello: h,
	}
	if d, ok := ctx.Deadline(); ok {
		cfg.deadline = d
	}
	sh, err := helloExchange(ctx, cfg)
	out := classifyProbe(sh, err, v, suites)
	e.mu.Lock()
	e.done++
	if out == noAnswer && len(e.errors) < maxEnumErrors {
		e.errors = append(e.errors, v.String()+": "+err.Error())
	}
	if e.o.Progress != nil {
		e.o.Progress(e.done, max(e.total, e.done))
	}
	e.mu.Unlock()
	if out != picked {
		return 0, out
	}
	return sh.CipherSuite, out
}

func classifyProbe(sh *tlswire.ServerHello, err error, v tlswire.Version, offered []tlswire.CipherSuite) outcome {
	var alert *tlswire.AlertError
	switch {
	case err == nil:
		if sh.NegotiatedVersion() != v {
			return noVersion
		}
		if !slices.Contains(offered, sh.CipherSuite) {
			return noAnswer
		}
		return picked
	case errors.As(err, &alert):
		if alert.Alert.Description == tlswire.AlertProtocolVersion {
			return noVersion
		}
		return refused
	}
	if classify(err).Reason == failure.TLSClosed {
		// Many servers hang up instead of sending handshake_failure.
		return refused
	}
	return noAnswer
}

// hello builds the ClientHello for a probe at version v.
func (e *enumerator) hello(v tlswire.Version, suites []tlswire.CipherSuite) helloParams {
	h := helloParams{version: v, serverName: e.serverName, suites: suites, groups: defaultGroups}
	switch {
	case v == tlswire.VersionSSL30:
		h.noExtensions = true
	case v == tlswire.VersionTLS13:
		h.version = tlswire.VersionTLS12
		h.schemes = defaultSignatureSchemes
		h.tls13, h.tls13Only = true, true
		h.keyShare, _ = x25519Share()
	case v == tlswire.VersionTLS12:
		h.schemes = defaultSignatureSchemes
	}
	return h
}

// candidates lists the suites worth offering at version v.
func candidates(v tlswire.Version) []tlswire.CipherSuite {
	var out []tlswire.CipherSuite
	for _, s := range tlswire.Suites() {
		if s.TLS13() == (v == tlswire.VersionTLS13) {
			out = append(out, s.ID)
		}
	}
	return out
}

// version finds every suite accepted at v: each chunk of candidates is
// offered until the server refuses it, removing each pick.
func (e *enumerator) version(ctx context.Context, v tlswire.Version) []tlswire.CipherSuite {
	all := candidates(v)
	size := e.o.ChunkSize
	if v == tlswire.VersionSSL30 {
		// No padding without extensions: stay under 256 bytes.
		size = min(size, 100)
	}
	var chunks [][]tlswire.CipherSuite
	for len(all) > 0 {
		n := min(size, len(all))
		chunks = append(chunks, all[:n:n])
		all = all[n:]
	}
	e.expect(len(chunks))
	// The first chunk alone says whether the version is spoken at all,
	// which saves probing the others for versions the server lacks.
	var mu sync.Mutex
	var found []tlswire.CipherSuite
	first, out := e.chunk(ctx, v, chunks[0])
	if out == noVersion {
		return nil
	}
	found = append(found, first...)
	var wg sync.WaitGroup
	for _, c := range chunks[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, _ := e.chunk(ctx, v, c)
			mu.Lock()
			found = append(found, got...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(found)
	return found
}

// chunk drains one chunk: offer, take the pick out, offer the rest again.
func (e *enumerator) chunk(ctx context.Context, v tlswire.Version, offer []tlswire.CipherSuite) ([]tlswire.CipherSuite, outcome) {
	var got []tlswire.CipherSuite
	offer = slices.Clone(offer)
	last := refused
	for len(offer) > 0 && ctx.Err() == nil {
		s, out := e.probe(ctx, v, offer)
		last = out
		if out != picked {
			break
		}
		e.expect(1)
		got = append(got, s)
		offer = slices.DeleteFunc(offer, func(x tlswire.CipherSuite) bool { return x == s })
	}
	return got, last
}

// preference orders the accepted suites of v. A server with its own
// order picks the same suite whether the list comes forwards or reversed;
// one that follows the client picks the first of each. With an order of
// its own, offering the rest again after each pick yields the whole order.
// known is false when the order could not be told.
func (e *enumerator) preference(ctx context.Context, v tlswire.Version, accepted []tlswire.CipherSuite) (order []tlswire.CipherSuite, serverOrder, known bool) {
	if len(accepted) < 2 {
		return accepted, false, false
	}
	e.expect(2)
	reversed := slices.Clone(accepted)
	slices.Reverse(reversed)
	first, out1 := e.probe(ctx, v, accepted)
	firstRev, out2 := e.probe(ctx, v, reversed)
	if out1 != picked || out2 != picked {
		return accepted, false, false
	}
	if first != firstRev {
		return accepted, false, true
	}
	order = []tlswire.CipherSuite{first}
	offer := slices.DeleteFunc(slices.Clone(accepted), func(x tlswire.CipherSuite) bool { return x == first })
	e.expect(len(offer) - 1)
	for len(offer) > 1 && ctx.Err() == nil {
		s, out := e.probe(ctx, v, offer)
		if out != picked {
			break
		}
		order = append(order, s)
		offer = slices.DeleteFunc(offer, func(x tlswire.CipherSuite) bool { return x == s })
	}
	// The last one needs no probe, and suites a failed probe left out
	// keep their place at the end.
	for _, s := range accepted {
		if !slices.Contains(order, s) {
			order = append(order, s)
		}
	}
	return order, true, true
}
