package export_test

import (
	"encoding/json"
	"testing"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
)

// FuzzEvent: the Lambda's payload is outside input. Decoding it the way
// aws-lambda-go does and turning it into a request must never panic, and an
// accepted backfill range is ordered.
func FuzzEvent(f *testing.F) {
	f.Add([]byte(`{"version":"0","id":"x","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`))
	f.Add([]byte(`{"since":"2025-01-01"}`))
	f.Add([]byte(`{"since":"2025-01-01","until":"2025-02-01T00:00:00Z"}`))
	f.Add([]byte(`{"detail":{"since":"1735689600","dry_run":true}}`))
	f.Add([]byte(`{"detail":"not an object"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var ev export.Event
		if err := json.Unmarshal(payload, &ev); err != nil {
			return
		}
		req, err := ev.Request()
		if err != nil {
			return
		}
		if req.Until != 0 && (req.Since == 0 || req.Until <= req.Since) {
			t.Fatalf("accepted since %d until %d", req.Since, req.Until)
		}
	})
}
