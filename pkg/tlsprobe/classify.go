package tlsprobe

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/netdiag/netdiag/pkg/failure"
	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// classify places a handshake error in the failure vocabulary. The
// detail is the error's own text, which names the step ("read
// ServerHello: ...").
func classify(err error) *failure.Failure {
	detail := err.Error()
	var (
		dial    *dialError
		notTLS  *notTLSError
		alert   *tlswire.AlertError
		version *versionError
		rh      *tlswire.RecordHeaderError
		tooBig  *tlswire.MessageTooLargeError
		proto   *protocolError
		ne      net.Error
	)
	switch {
	case errors.As(err, &dial):
		return dialFailure(dial)
	case errors.As(err, &notTLS):
		return failure.New(failure.NotTLS, notTLS.Error())
	case errors.As(err, &alert):
		if alert.Alert.Description == tlswire.AlertProtocolVersion {
			return failure.New(failure.TLSProtocolVersion, "the server answered with alert "+alert.Alert.String())
		}
		if alert.Alert.Description == tlswire.AlertUnrecognizedName {
			detail += ": the server does not serve the name sent as SNI"
		}
		return failure.New(failure.TLSAlert, detail)
	case errors.As(err, &version):
		return failure.New(failure.TLSProtocolVersion, version.Error())
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return failure.New(failure.Timeout, detail).At(failure.LayerTLS)
	case errors.Is(err, context.Canceled):
		return failure.New(failure.Timeout, detail).At(failure.LayerTLS)
	case errors.As(err, &rh), errors.As(err, &tooBig), errors.Is(err, tlswire.ErrMalformed),
		errors.As(err, &proto), errors.Is(err, errBadRecordMAC), errors.Is(err, errRecordTooLong),
		errors.Is(err, errBadSignature), errors.Is(err, errBadFinished):
		return failure.New(failure.TLSMalformed, detail)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return failure.New(failure.TLSClosed, detail)
	}
	return failure.New(failure.TLSMalformed, detail)
}

// dialFailure classifies a TCP connect error at the transport layer.
func dialFailure(err error) *failure.Failure {
	var de *dialError
	if !errors.As(err, &de) {
		de = &dialError{err: err}
	}
	detail, err := de.Error(), de.err
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return failure.New(failure.Refused, detail)
	case errors.Is(err, syscall.ECONNRESET):
		return failure.New(failure.Reset, detail)
	case errors.Is(err, syscall.EHOSTUNREACH):
		return failure.New(failure.HostUnreachable, detail).At(failure.LayerTransport)
	case errors.Is(err, syscall.ENETUNREACH):
		return failure.New(failure.NetUnreachable, detail).At(failure.LayerTransport)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return failure.New(failure.Timeout, detail)
	}
	return failure.New(failure.Refused, detail)
}
