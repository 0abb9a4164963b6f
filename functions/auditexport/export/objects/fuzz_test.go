package objects_test

import (
	"bytes"
	"testing"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
)

// FuzzScan feeds arbitrary bytes to the reader verify uses on objects an
// attacker may have replaced: it must fail cleanly, never panic, and when it
// succeeds its counts must match what it passed to the callback.
func FuzzScan(f *testing.F) {
	f.Add([]byte{})
	f.Add(gz(f, `{"id":"audit_log-1","type":"login.succeeded","effective_at":1700000000}`+"\n"))
	f.Add(gz(f, `{"id":"a","effective_at":2}`+"\n"+`{"id":"b","effective_at":1}`+"\n"))
	f.Add(gz(f, "\n"))
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var n int64
		var oldest, newest int64
		info, err := objects.Scan(bytes.NewReader(data), func(l objects.Line) error {
			if l.ID == "" {
				t.Fatal("line without id passed to the callback")
			}
			if n == 0 || l.EffectiveAt < oldest {
				oldest = l.EffectiveAt
			}
			if n == 0 || l.EffectiveAt > newest {
				newest = l.EffectiveAt
			}
			n++
			return nil
		})
		if err != nil {
			return
		}
		if info.Events != n || info.Bytes != int64(len(data)) || (n > 0 && (info.Oldest != oldest || info.Newest != newest)) {
			t.Fatalf("info %+v after %d lines (%d..%d) of %d bytes", info, n, oldest, newest, len(data))
		}
	})
}

// FuzzParseHead: any bytes, no panic; an accepted event has an id.
func FuzzParseHead(f *testing.F) {
	f.Add([]byte(`{"id":"audit_log-1","type":"x","effective_at":1}`))
	f.Add([]byte(`{"id":"","effective_at":1}`))
	f.Add([]byte(`{"id":"a","effective_at":1.5}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		l, err := objects.ParseHead(raw)
		if err == nil && l.ID == "" {
			t.Fatal("accepted an event without id")
		}
	})
}
