package tlsprobe

import (
	"context"
	"errors"
	"time"

	"github.com/netdiag/netdiag/pkg/httpprobe"
	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// httpHead sends one HEAD request over the established record layer and
// reads the response head, to show that the application behind TLS
// answers.
func httpHead(ctx context.Context, rc *recordConn, host, path string) *httpprobe.Result {
	return httpprobe.Head(ctx, &appConn{rc: rc}, host, path, rc.step)
}

// appConn is the record layer after the handshake seen as a byte stream:
// each Write is one application data record, Read returns their
// plaintext.
type appConn struct {
	rc      *recordConn
	pending []byte // plaintext of the last record not yet read
}

func (a *appConn) Write(p []byte) (int, error) {
	if err := a.rc.queue(tlswire.ContentApplicationData, p, Event{Type: "ApplicationData", Bytes: len(p)}); err != nil {
		return 0, err
	}
	if err := a.rc.flush(); err != nil {
		return 0, err
	}
	// The wait for the answer begins.
	a.rc.stepStart = a.rc.now()
	return len(p), nil
}

func (a *appConn) Read(p []byte) (int, error) {
	if len(a.pending) == 0 {
		data, err := a.rc.readApplicationData()
		var alert *tlswire.AlertError
		if errors.As(err, &alert) {
			return 0, &alertWords{alert}
		}
		if err != nil {
			return 0, err
		}
		a.pending = data
	}
	n := copy(p, a.pending)
	a.pending = a.pending[n:]
	return n, nil
}

// SetDeadline bounds the reads and writes to t, or to the probe's
// deadline if that comes first. It may be called from another goroutine
// to interrupt them, as a net.Conn's may.
func (a *appConn) SetDeadline(t time.Time) error {
	if t.After(a.rc.deadline) {
		t = a.rc.deadline
	}
	return a.rc.conn.SetDeadline(t)
}

// alertWords says an alert in answer to the request in plain words.
type alertWords struct{ err *tlswire.AlertError }

func (e *alertWords) Error() string { return "the server sent alert " + e.err.Alert.String() }
func (e *alertWords) Unwrap() error { return e.err }
