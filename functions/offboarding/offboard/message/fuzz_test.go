package message

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzParse checks the parser's promises on arbitrary bodies: it never
// panics; it either accepts or returns a *Error whose reason carries no key
// material; and what it accepts is a well-formed request that survives a
// round trip through orgwarden's own raw format unchanged.
//
//	go test ./functions/offboarding/offboard/message -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"email":"jane@example.com"}`))
	f.Add([]byte(eventBridgeWrap(`{"email":"jane@example.com","dry_run":true}`)))
	f.Add([]byte(oktaDeactivate))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Parse(body)
		if err != nil {
			if !IsBadInput(err) {
				t.Fatalf("error %T is not a *Error: %v", err, err)
			}
			if strings.Contains(err.Error(), "sk-") && keyLike(err.Error()) {
				t.Fatalf("reason carries key material: %q", err)
			}
			return
		}
		if _, err := validEmail(req.Email); err != nil || req.Email != strings.TrimSpace(req.Email) {
			t.Fatalf("accepted a bad email %q: %v", req.Email, err)
		}
		if req.Kind != KindRaw && req.Kind != KindOkta {
			t.Fatalf("kind %q", req.Kind)
		}
		if k := req.RequestKey(); k == "" || strings.ContainsAny(k, "/ \\") {
			t.Fatalf("request key %q", k)
		}

		again, err := Parse(rawForm(t, req))
		if err != nil {
			t.Fatalf("raw form of an accepted request is rejected: %v", err)
		}
		again.Kind, again.Via, again.EventID = req.Kind, req.Via, req.EventID
		if !sameRequest(req, again) {
			t.Fatalf("round trip changed the request:\n %+v\n %+v", req, again)
		}
	})
}

func rawForm(t *testing.T, r Request) []byte {
	m := map[string]any{"email": r.Email}
	if r.UserID != "" {
		m["user_id"] = r.UserID
	}
	if r.Reason != "" {
		m["reason"] = r.Reason
	}
	if r.Ticket != "" {
		m["ticket"] = r.Ticket
	}
	if !r.RequestedAt.IsZero() {
		m["requested_at"] = r.RequestedAt.Format(time.RFC3339Nano)
	}
	if r.DryRun {
		m["dry_run"] = true
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func keyLike(s string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], "sk-")
		if j < 0 {
			return false
		}
		i += j + 3
		n := 0
		for i+n < len(s) && strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", rune(s[i+n])) {
			n++
		}
		if n >= 16 {
			return true
		}
	}
}
