package cli

import (
	"context"
	"io"
	"os"
)

// ctxReader reads a pipe or terminal so that an interrupt ends the read:
// a capture piped in from a quiet source may send nothing for minutes,
// and a read from a pipe cannot be cancelled. Each Read waits in a
// goroutine of its own on a buffer of its own; when the context ends
// first, Read returns the context's error and leaves that goroutine to
// the exiting process.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
	buf []byte
	res chan readResult
}

type readResult struct {
	n   int
	err error
}

func newCtxReader(ctx context.Context, r io.Reader) *ctxReader {
	return &ctxReader{ctx: ctx, r: r, res: make(chan readResult, 1)}
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if cap(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	buf := c.buf[:len(p)]
	go func() {
		n, err := c.r.Read(buf)
		c.res <- readResult{n, err}
	}()
	select {
	case r := <-c.res:
		return copy(p, buf[:r.n]), r.err
	case <-c.ctx.Done():
		// The goroutine still owns buf; the next Read must not reuse it.
		c.buf = nil
		return 0, c.ctx.Err()
	}
}

// liveFile reports whether r is a pipe, terminal or socket rather than a
// regular file: reads from it may wait for ever, and what is decoded
// should be shown as it comes.
func liveFile(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && !fi.Mode().IsRegular()
}
