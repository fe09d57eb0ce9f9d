package tlswire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/netdiag/netdiag/internal/golden"
)

// render writes what a Conversation saw in a form stable enough for golden
// files: one line per record and per message, with the message's JSON view.
func render(t *testing.T, obs []observed) []byte {
	var b bytes.Buffer
	conn := -1
	for _, o := range obs {
		if o.conn != conn {
			conn = o.conn
			fmt.Fprintf(&b, "# connection %d\n", conn)
		}
		dir := "<"
		if o.fromClient {
			dir = ">"
		}
		for _, r := range o.records {
			fmt.Fprintf(&b, "%s record %v %v length=%d offset=%d", dir, r.Type, r.Version, r.Length, r.Offset)
			if r.Encrypted {
				b.WriteString(" encrypted")
			}
			if r.Alert != nil {
				fmt.Fprintf(&b, " alert=%q", r.Alert.String())
			}
			b.WriteByte('\n')
		}
		for i := range o.messages {
			j, err := json.Marshal(o.messages[i].View())
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s message %s\n", dir, j)
		}
		if o.err != nil {
			fmt.Fprintf(&b, "%s error %v\n", dir, o.err)
		}
	}
	return b.Bytes()
}

// TestTranscriptsGolden replays every capture through a Conversation and
// compares the records and message views with the golden file.
func TestTranscriptsGolden(t *testing.T) {
	for _, name := range transcriptNames(t) {
		t.Run(name, func(t *testing.T) {
			got := render(t, replay(t, loadTranscript(t, name)))
			golden.Check(t, filepath.Join(captureDir, name+".golden"), got)
		})
	}
}

// TestConversationByteByByte checks that the split of the stream into TCP
// segments does not matter: feeding one byte at a time yields the same
// records and messages as feeding whole segments.
func TestConversationByteByByte(t *testing.T) {
	for _, name := range transcriptNames(t) {
		t.Run(name, func(t *testing.T) {
			segs := loadTranscript(t, name)
			var bytewise []segment
			for _, s := range segs {
				for i := range s.Data {
					bytewise = append(bytewise, segment{Conn: s.Conn, FromClient: s.FromClient, Data: s.Data[i : i+1]})
				}
			}
			whole, split := flatten(replay(t, segs)), flatten(replay(t, bytewise))
			if !reflect.DeepEqual(whole.records, split.records) {
				t.Errorf("records differ:\nwhole %+v\nsplit %+v", whole.records, split.records)
			}
			if len(whole.messages) != len(split.messages) {
				t.Fatalf("%d messages whole, %d split", len(whole.messages), len(split.messages))
			}
			for i := range whole.messages {
				if !bytes.Equal(whole.messages[i].Raw, split.messages[i].Raw) {
					t.Errorf("message %d differs", i)
				}
			}
		})
	}
}

func flatten(obs []observed) observed {
	var out observed
	for _, o := range obs {
		out.records = append(out.records, o.records...)
		out.messages = append(out.messages, o.messages...)
	}
	return out
}

func TestConversationRejectsGarbage(t *testing.T) {
	var c Conversation
	_, _, err := c.Feed(1, []byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	var rh *RecordHeaderError
	if !errors.As(err, &rh) || !errors.Is(err, ErrUnknownContentType) {
		t.Fatalf("err = %v, want RecordHeaderError for an unknown content type", err)
	}
	if string(rh.Header[:]) != "HTTP/" {
		t.Errorf("header bytes %q, want the peer's first five bytes", rh.Header[:])
	}
	if _, _, err := c.Feed(1, []byte{22, 3, 3, 0, 0}); !errors.Is(err, ErrStreamBroken) {
		t.Errorf("second feed: err = %v, want ErrStreamBroken", err)
	}
	if _, _, err := c.Feed(0, []byte{22, 3, 1, 0, 4, 14, 0, 0, 0}); err != nil {
		t.Errorf("other direction should be unaffected: %v", err)
	}
}

// TestConversationHugeMessageClaim sends a handshake record whose message
// header claims 16 MB: the error must come with the header, before any of
// the claimed body exists.
func TestConversationHugeMessageClaim(t *testing.T) {
	var c Conversation
	rec := []byte{22, 3, 3, 0, 4, byte(TypeCertificate), 0xFF, 0xFF, 0xFF}
	_, _, err := c.Feed(1, rec)
	var tl *MessageTooLargeError
	if !errors.As(err, &tl) {
		t.Fatalf("err = %v, want MessageTooLargeError", err)
	}
	if tl.Length != 1<<24-1 || tl.Limit != DefaultMaxMessage || tl.Type != TypeCertificate {
		t.Errorf("got %+v", tl)
	}
}

func TestConversationRecordOverflow(t *testing.T) {
	var c Conversation
	_, _, err := c.Feed(1, []byte{23, 3, 3, 0xFF, 0xFF})
	if !errors.Is(err, ErrRecordOverflow) {
		t.Fatalf("err = %v, want ErrRecordOverflow", err)
	}
}

func TestConversationMarksEncryptedAfterCCS(t *testing.T) {
	var c Conversation
	data := []byte{20, 3, 3, 0, 1, 1, 22, 3, 3, 0, 3, 0xAA, 0xBB, 0xCC, 21, 3, 3, 0, 2, 0x11, 0x22}
	recs, msgs, err := c.Feed(1, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 0 {
		t.Errorf("encrypted handshake record parsed as %d messages", len(msgs))
	}
	if len(recs) != 3 || recs[0].Encrypted || !recs[1].Encrypted || !recs[2].Encrypted || recs[2].Alert != nil {
		t.Errorf("records %+v: want CCS in clear, then encrypted handshake and alert", recs)
	}
	if recs[1].Offset != 6 || recs[2].Offset != 14 {
		t.Errorf("offsets %d, %d; want 6, 14", recs[1].Offset, recs[2].Offset)
	}
}

// TestConversationSkipsEncryptedBodies feeds a long stream of application
// data one byte at a time: only the record header is ever buffered, and
// the records come out as they would from whole segments.
func TestConversationSkipsEncryptedBodies(t *testing.T) {
	var stream []byte
	for i := range 20 {
		stream = AppendRecords(stream, ContentApplicationData, VersionTLS12, bytes.Repeat([]byte{byte(i)}, 10000+i))
	}
	var whole Conversation
	want, _, err := whole.Feed(0, stream)
	if err != nil {
		t.Fatal(err)
	}
	var c Conversation
	var got []Record
	for i := range stream {
		got, _, err = c.AppendFeed(got, nil, 0, stream[i:i+1])
		if err != nil {
			t.Fatal(err)
		}
		if n := c.Buffered(); n > RecordHeaderLen {
			t.Fatalf("byte %d: %d bytes buffered for an encrypted record", i, n)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("byte by byte %+v\nwhole %+v", got, want)
	}
}

// TestConversationAppendFeed: AppendFeed appends to the slices it is given
// and, reusing them, allocates nothing for a stream of records.
func TestConversationAppendFeed(t *testing.T) {
	ccs := []byte{20, 3, 3, 0, 1, 1}
	var c Conversation
	recs, _, err := c.AppendFeed(nil, nil, 0, ccs)
	if err != nil || len(recs) != 1 {
		t.Fatalf("%+v %v", recs, err)
	}
	prev := []Record{{Offset: -1}}
	recs, _, _ = c.AppendFeed(prev, nil, 0, AppendRecords(nil, ContentApplicationData, VersionTLS12, []byte("x")))
	if len(recs) != 2 || recs[0].Offset != -1 || !recs[1].Encrypted || recs[1].Offset != 6 {
		t.Errorf("AppendFeed did not append: %+v", recs)
	}
	seg := AppendRecords(nil, ContentApplicationData, VersionTLS12, make([]byte, 3000))
	recs = recs[:0]
	allocs := testing.AllocsPerRun(100, func() {
		recs, _, _ = c.AppendFeed(recs[:0], nil, 0, seg[:1000])
		recs, _, _ = c.AppendFeed(recs[:0], nil, 0, seg[1000:])
	})
	if allocs > 0 {
		t.Errorf("%.1f allocations per record", allocs)
	}
}

// TestConversationBuffered counts what an incomplete handshake record and
// message hold.
func TestConversationBuffered(t *testing.T) {
	var c Conversation
	msg := AppendHandshake(nil, TypeCertificate, make([]byte, 300))
	recs := AppendRecords(nil, ContentHandshake, VersionTLS12, msg)
	c.Feed(1, recs[:100])
	c.Feed(0, []byte{22, 3})
	if n := c.Buffered(); n != 102 {
		t.Errorf("Buffered %d after 100 and 2 bytes of incomplete records", n)
	}
	c.Feed(1, recs[100:])
	if n := c.Buffered(); n != 2 {
		t.Errorf("Buffered %d once the message is complete, want the other direction's 2", n)
	}
}
