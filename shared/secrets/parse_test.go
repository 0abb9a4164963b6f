package secrets

import (
	"strings"
	"testing"
)

func TestParseAdminKey(t *testing.T) {
	key := "sk-admin-" + strings.Repeat("k", 32)
	tests := []struct {
		name    string
		in      string
		wantID  string
		wantErr string
	}{
		{"json", `{"type":"admin_key","api_key":"` + key + `","key_id":"key_1"}`, "key_1", ""},
		{"json without type", `{"api_key":"` + key + `"}`, "", ""},
		{"bare key", "  " + key + "\n", "", ""},
		{"wrong type", `{"type":"service_account_key","api_key":"` + key + `"}`, "", "has type"},
		{"no key", `{"type":"admin_key"}`, "", "no api_key"},
		{"broken json", `{"api_key":"` + key, "", "not valid JSON"},
		{"empty", "  ", "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAdminKey(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), key) {
					t.Fatal("error contains key material")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Value.Reveal() != key || got.KeyID != tt.wantID {
				t.Errorf("got id %q, value matches=%v", got.KeyID, got.Value.Reveal() == key)
			}
		})
	}
}
