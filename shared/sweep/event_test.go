package sweep

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseScheduleEvent(t *testing.T) {
	scheduled := `{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",
		"source":"aws.events","account":"123456789012","time":"2026-11-23T10:00:00Z","region":"us-east-1",
		"resources":["arn:aws:events:us-east-1:123456789012:rule/orgwarden-keyrotation"],"detail":{}}`
	tests := []struct {
		name      string
		payload   string
		dryRun    bool
		fromRule  bool
		wantError string
	}{
		{name: "empty payload", payload: ``},
		{name: "null", payload: `null`},
		{name: "empty object", payload: `{}`},
		{name: "dry run", payload: `{"dry_run": true}`, dryRun: true},
		{name: "explicit real run", payload: `{"dry_run": false}`},
		{name: "scheduled rule", payload: scheduled, fromRule: true},
		{name: "scheduled rule asking for a preview", payload: strings.Replace(scheduled, `"detail":{}`, `"detail":{"dry_run":true}`, 1), dryRun: true, fromRule: true},
		{name: "unknown field", payload: `{"dryrun": true}`, wantError: `unexpected field(s) "dryrun"`},
		{name: "dry run not a boolean", payload: `{"dry_run": "yes"}`, wantError: "dry_run must be true or false"},
		{name: "not an object", payload: `[1,2]`, wantError: "not a JSON object"},
		{name: "rule event without source", payload: `{"detail-type":"Scheduled Event","detail":{}}`, wantError: "without a source"},
		{name: "rule event with an unknown detail", payload: strings.Replace(scheduled, `"detail":{}`, `"detail":{"email":"a@b.c"}`, 1), wantError: `detail: unexpected field(s) "email"`},
		{name: "key material is not echoed", payload: `{"sk-admin-abcdefghijklmnopqrstuvwxyz012345": 1}`, wantError: "sk-admin-[REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Decode the way aws-lambda-go does: json.Unmarshal into the
			// handler's argument type.
			var ev ScheduleEvent
			err := json.Unmarshal([]byte(tt.payload), &ev)
			if tt.payload == "" {
				ev, err = ParseScheduleEvent(nil)
			}
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantError)
				}
				if strings.Contains(err.Error(), "abcdefghijklmnop") {
					t.Fatalf("error echoes key material: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.DryRun != tt.dryRun || (ev.EventBridge != nil) != tt.fromRule {
				t.Errorf("got %+v, want dry run %v, from rule %v", ev, tt.dryRun, tt.fromRule)
			}
		})
	}
}

// FuzzParseScheduleEvent: any payload either parses or is refused with an
// error, never a panic; what parses is empty or a JSON object, and parses
// the same way twice.
func FuzzParseScheduleEvent(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"dry_run":true}`, `{"detail-type":"Scheduled Event","source":"aws.events","detail":{"dry_run":true}}`, `{"x":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseScheduleEvent(b)
		if err != nil {
			return
		}
		trimmed := strings.TrimSpace(string(b))
		if trimmed != "" && trimmed != "null" && !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		again, err := ParseScheduleEvent(b)
		if err != nil || again.DryRun != ev.DryRun || (again.EventBridge == nil) != (ev.EventBridge == nil) {
			t.Fatalf("parse is not deterministic for %q", b)
		}
	})
}
