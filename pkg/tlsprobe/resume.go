package tlsprobe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/netdiag/netdiag/pkg/layers/tlswire"
)

// resumption tests both resumption mechanisms by reconnecting, each with
// the other one out of the hello.
func (p *prober) resumption(ctx context.Context, st *handshakeState) *Resumption {
	r := &Resumption{}
	first := st.sessionForResumption()
	if st.ticket != nil {
		r.TicketIssued = true
		r.TicketLifetime = time.Duration(st.ticket.LifetimeHint) * time.Second
	}
	if first.ticket != nil {
		r.Ticket = p.resume(ctx, first, "ticket")
	} else {
		r.Ticket = ResumeResult{Detail: "the server issued no session ticket"}
		if !st.serverHello.TicketSupported {
			r.Ticket.Detail = "the server does not support session tickets"
		}
	}
	// A server that issued a ticket may not have kept the session in its
	// cache, so the session-ID test gets its own full handshake without
	// the session_ticket extension.
	idSession := first
	if first.ticket != nil || len(first.id) == 0 {
		h := p.mainHello()
		h.offerTicket, h.statusRequest = false, false
		st2, err := runHandshake(ctx, p.config(h))
		if err != nil {
			r.SessionID = ResumeResult{Detail: "the handshake to obtain a session ID failed: " + err.Error()}
			return r
		}
		st2.rc.closeGracefully()
		idSession = st2.sessionForResumption()
	}
	if len(idSession.id) == 0 {
		r.SessionID = ResumeResult{Detail: "the server assigned no session ID"}
		return r
	}
	idOnly := *idSession
	idOnly.ticket = nil
	r.SessionID = p.resume(ctx, &idOnly, "session ID")
	return r
}

// resume reconnects offering s and completes the abbreviated handshake if
// the server accepts it.
func (p *prober) resume(ctx context.Context, s *session, how string) ResumeResult {
	h := p.mainHello()
	h.offerTicket, h.statusRequest = false, false
	cfg := p.config(h)
	cfg.resume = s
	cfg.stopUnlessResumed = true
	st, err := runHandshake(ctx, cfg)
	if st.rc != nil {
		st.rc.closeGracefully()
	}
	switch {
	case err != nil:
		return ResumeResult{Tried: true, Detail: "the reconnection failed: " + err.Error()}
	case st.resumed && st.complete:
		d := "abbreviated handshake: session ID echoed, no Certificate"
		if how == "ticket" {
			d = "abbreviated handshake: ticket accepted, no Certificate"
		}
		return ResumeResult{Tried: true, Resumed: true, Detail: d}
	}
	return ResumeResult{Tried: true, Detail: "the server ignored the " + how + " and started a full handshake"}
}

// sniCheck fetches the certificate without SNI and compares it with the
// one sent for our SNI.
func (p *prober) sniCheck(ctx context.Context, st *handshakeState) *SNIResult {
	r := &SNIResult{}
	for _, ev := range st.rc.events {
		if ev.Alert != nil && ev.Alert.Description == tlswire.AlertUnrecognizedName {
			r.UnrecognizedName = true
		}
	}
	h := p.mainHello()
	h.serverName, h.offerTicket, h.statusRequest = "", false, false
	cfg := p.config(h)
	cfg.stopAfter = tlswire.TypeCertificate
	st2, err := runHandshake(ctx, cfg)
	if st2.rc != nil {
		_ = st2.rc.conn.Close()
	}
	if err != nil || len(st2.rawCerts) == 0 {
		if err == nil {
			err = protocolErrorf("no certificate")
		}
		r.WithoutSNIError = classify(err).Explain()
		return r
	}
	r.WithoutSNI = fingerprint(st2.rawCerts[0])
	r.SameCertificate = r.WithoutSNI == fingerprint(st.rawCerts[0])
	return r
}

func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}
