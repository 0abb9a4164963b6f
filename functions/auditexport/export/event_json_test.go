package export

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEventRefusesUnknownFields(t *testing.T) {
	tests := []struct {
		name, payload, wantErr string
	}{
		{"typo at the top", `{"sinse": "2025-01-01"}`, `unknown field(s) "sinse"`},
		{"typo in a detail", `{"detail-type":"Scheduled Event","source":"aws.events","detail":{"dryrun":true}}`, `detail: unknown field(s) "dryrun"`},
		{"not an object", `[1]`, "want a JSON object"},
		{"empty", `{}`, ""},
		{"backfill", `{"since": "2025-01-01", "until": "2025-02-01", "dry_run": true}`, ""},
		{"rebuild a lost checkpoint", `{"rebuild_checkpoint": true}`, ""},
		{"rebuild in a detail", `{"detail-type":"Scheduled Event","source":"aws.events","detail":{"rebuild_checkpoint":true}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev Event
			err := json.Unmarshal([]byte(tt.payload), &ev)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	// Every shipped example still decodes.
	files, _ := filepath.Glob(filepath.Join("..", "examples", "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev Event
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestSinceInTheFutureRefused(t *testing.T) {
	_, err := EventOptions{Since: "2999-01-01"}.Request()
	if err == nil || !strings.Contains(err.Error(), "is in the future") {
		t.Fatalf("err = %v", err)
	}
}
