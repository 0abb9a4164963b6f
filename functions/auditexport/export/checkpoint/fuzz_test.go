package checkpoint_test

import (
	"encoding/json"
	"testing"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/checkpoint"
)

// FuzzParse: a checkpoint read from S3 is outside input. No input may
// panic, and an accepted one keeps its invariants.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(`{"format":1,"org_id":"o","generation":2,"covered":[{"from":1,"to":5}],"open":{"generation":3,"writing":[{"key":"k","slice":1,"seq":0}]},"job":{"kind":"backfill","slices":[{"id":1,"from":1,"to":2}]}}`))
	f.Add([]byte(`{"format":1,"generation":1,"open":{"generation":1}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := checkpoint.Parse(b)
		if err != nil {
			return
		}
		if st.Format != checkpoint.Format || st.Generation < 0 || (st.Open != nil && st.Open.Generation != st.Generation+1) {
			t.Fatalf("accepted an invalid state: %+v", st)
		}
		if _, err := json.Marshal(st); err != nil {
			t.Fatalf("accepted state does not encode: %v", err)
		}
	})
}
