package tlsprobe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// maxHTTPHead bounds the response head read after the HEAD request.
const maxHTTPHead = 64 << 10

// httpHead sends one HEAD request over the established record layer and
// reads the response head, to show that the application behind TLS
// answers.
func httpHead(rc *recordConn, host, path string, now func() time.Time) *HTTPResult {
	req := "HEAD " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: netdiag\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	res := &HTTPResult{}
	if err := rc.queue(tlswire.ContentApplicationData, []byte(req), Event{Type: "ApplicationData", Bytes: len(req)}); err != nil {
		res.Error = err.Error()
		return res
	}
	sent := now()
	if err := rc.flush(); err != nil {
		res.Error = "send request: " + httpFailure(err, rc.step)
		return res
	}
	if err := rc.beginStep(); err != nil {
		res.Error = err.Error()
		return res
	}
	var head []byte
	for !bytes.Contains(head, []byte("\r\n\r\n")) {
		data, err := rc.readApplicationData()
		if err != nil {
			if errors.Is(err, io.EOF) && len(head) > 0 {
				break
			}
			res.Error = "read response: " + httpFailure(err, rc.step)
			return res
		}
		if res.Elapsed == 0 {
			res.Elapsed = now().Sub(sent)
		}
		head = append(head, data...)
		if len(head) > maxHTTPHead {
			res.Error = fmt.Sprintf("response head longer than %d bytes", maxHTTPHead)
			return res
		}
	}
	rc.sendAlert(tlswire.AlertCloseNotify)
	parseHTTPHead(res, head)
	return res
}

// httpFailure says in words why the request or its answer failed.
func httpFailure(err error, step time.Duration) string {
	var ne net.Error
	var alert *tlswire.AlertError
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "no answer within " + step.String()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "the server closed the connection without answering"
	case errors.As(err, &alert):
		return "the server sent alert " + alert.Alert.String()
	}
	return err.Error()
}

func parseHTTPHead(res *HTTPResult, head []byte) {
	lines := strings.Split(string(head), "\r\n")
	res.StatusLine = lines[0]
	f := strings.Fields(lines[0])
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		res.Error = fmt.Sprintf("not an HTTP status line: %q", truncate(lines[0], 80))
		return
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 999 {
		res.Error = fmt.Sprintf("bad status code in %q", truncate(lines[0], 80))
		return
	}
	res.StatusCode = code
	for _, l := range lines[1:] {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "server") {
			res.Server = strings.TrimSpace(v)
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
