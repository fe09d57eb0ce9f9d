package ping

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/netdiag/netdiag/pkg/failure"
)

func TestOpenSocketFallsBack(t *testing.T) {
	eperm := os.NewSyscallError("socket", syscall.EPERM)
	eacces := os.NewSyscallError("socket", syscall.EACCES)
	ok := &fakeConn{k: SocketDatagram}
	cases := []struct {
		name      string
		want      SocketKind
		raw, dgrm error
		tried     []SocketKind
		kind      SocketKind // of the socket returned; 0 when an error is expected
		errHas    []string
		errHasnt  []string
		errorKind failure.Kind
	}{
		{name: "raw allowed", want: SocketAuto, tried: []SocketKind{SocketRaw}, kind: SocketRaw},
		{name: "raw refused, datagram allowed", want: SocketAuto, raw: eperm, tried: []SocketKind{SocketRaw, SocketDatagram}, kind: SocketDatagram},
		{name: "neither", want: SocketAuto, raw: eperm, dgrm: eacces, tried: []SocketKind{SocketRaw, SocketDatagram},
			errHas: []string{"setcap cap_net_raw+ep", "net.ipv4.ping_group_range"}, errorKind: failure.KindLocal},
		{name: "privileged only", want: SocketRaw, raw: eperm, tried: []SocketKind{SocketRaw},
			errHas: []string{"setcap cap_net_raw+ep"}, errHasnt: []string{"ping_group_range"}, errorKind: failure.KindLocal},
		{name: "unprivileged only", want: SocketDatagram, dgrm: eacces, tried: []SocketKind{SocketDatagram},
			errHas: []string{"ping_group_range"}, errHasnt: []string{"setcap"}, errorKind: failure.KindLocal},
		{name: "no such interface", want: SocketAuto, raw: failure.Localf(nil, "ping: no such interface %q", "eth9"), tried: []SocketKind{SocketRaw},
			errHas: []string{`no such interface "eth9"`}, errorKind: failure.KindLocal},
		{name: "other error", want: SocketAuto, raw: errors.New("protocol not supported"), tried: []SocketKind{SocketRaw},
			errHas: []string{"protocol not supported"}, errorKind: failure.KindLocal},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var tried []SocketKind
			listen := func(fam int, o socketOptions) (conn, error) {
				tried = append(tried, o.kind)
				switch o.kind {
				case SocketRaw:
					if c.raw != nil {
						return nil, c.raw
					}
					return &fakeConn{k: SocketRaw}, nil
				default:
					if c.dgrm != nil {
						return nil, c.dgrm
					}
					return ok, nil
				}
			}
			got, err := openSocket(listen, 4, c.want, socketOptions{})
			if !equalKinds(tried, c.tried) {
				t.Fatalf("tried %v, want %v", tried, c.tried)
			}
			if c.kind != 0 {
				if err != nil || got.kind() != c.kind {
					t.Fatalf("got %v, %v", got, err)
				}
				return
			}
			var fe *failure.Error
			if !errors.As(err, &fe) || fe.Kind != c.errorKind {
				t.Fatalf("error %v", err)
			}
			msg := fe.Error()
			if strings.Contains(msg, "\n") || strings.Contains(msg, "operation not permitted") {
				t.Fatalf("the message must be one line without Go error text: %q", msg)
			}
			for _, s := range c.errHas {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q lacks %q", msg, s)
				}
			}
			for _, s := range c.errHasnt {
				if strings.Contains(msg, s) {
					t.Errorf("message %q has %q", msg, s)
				}
			}
		})
	}
}

func equalKinds(a, b []SocketKind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
