package digest_test

import (
	"bytes"
	"testing"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/digest"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
)

// FuzzParse: verify parses digests from a bucket it does not trust. Any
// input must be rejected or accepted without panic, and an accepted digest
// must survive Encode and Parse unchanged.
func FuzzParse(f *testing.F) {
	first, _ := digest.Encode(digest.Digest{OrgID: "org", Generation: 1, RunID: "r", StartedAt: digest.Time(1), SealedAt: digest.Time(2)})
	second, _ := digest.Encode(digest.Digest{OrgID: "org", Generation: 2, RunID: "r", Previous: &digest.Link{Generation: 1, Key: "k", SHA256: digest.Sum(first)},
		Objects: []objects.Info{{Key: "a", SHA256: digest.Sum(nil), Bytes: 20, Events: 3, Oldest: 1, Newest: 2, FirstID: "x", LastID: "y"}},
		Covered: []digest.Range{{From: 1, To: 3}}})
	f.Add(first)
	f.Add(second)
	f.Add([]byte(`{"format":"orgwarden.auditexport.digest/1","generation":1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := digest.Parse(b)
		if err != nil {
			return
		}
		enc, err := digest.Encode(d)
		if err != nil {
			t.Fatalf("accepted digest does not encode: %v", err)
		}
		again, err := digest.Parse(enc)
		if err != nil {
			t.Fatalf("re-encoded digest does not parse: %v\n%s", err, enc)
		}
		enc2, _ := digest.Encode(again)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
	})
}
