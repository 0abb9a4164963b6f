package message

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// oktaDeactivate is an Okta System Log event as an EventBridge partner
// event source delivers it (fields as in Okta's LogEvent reference).
const oktaDeactivate = `{
  "version": "0",
  "id": "5f3c1a9e-8d1b-4c7e-9a0f-1b2c3d4e5f60",
  "detail-type": "SystemLog",
  "source": "aws.partner/okta.com/example-org/orgwarden-offboarding",
  "account": "000000000000",
  "time": "2026-11-23T10:15:02Z",
  "region": "us-east-1",
  "resources": [],
  "detail": {
    "uuid": "a1b2c3d4-0f0f-11ef-9c3c-2f5f6d4e7a81",
    "published": "2026-11-23T10:15:01.234Z",
    "eventType": "user.lifecycle.deactivate",
    "version": "0",
    "severity": "INFO",
    "displayMessage": "Deactivate Okta user",
    "actor": {"id": "00u1admin", "type": "User", "alternateId": "it-admin@example.com", "displayName": "IT Admin"},
    "client": {"ipAddress": "203.0.113.5"},
    "outcome": {"result": "SUCCESS"},
    "target": [
      {"id": "00u9leaver", "type": "User", "alternateId": "Jane.Leaver@Example.com", "displayName": "Jane Leaver", "detailEntry": null}
    ],
    "transaction": {"type": "WEB", "id": "Y9x"},
    "debugContext": {"debugData": {"requestUri": "/api/v1/users/00u9leaver/lifecycle/deactivate"}}
  }
}`

func snsWrap(t *testing.T, inner string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"Type":      "Notification",
		"MessageId": "0f4e6a2c-1111-2222-3333-444455556666",
		"TopicArn":  "arn:aws:sns:us-east-1:000000000000:hr-events",
		"Message":   inner,
		"Timestamp": "2026-11-23T10:15:03.000Z",
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func eventBridgeWrap(detail string) string {
	return `{"version":"0","id":"ev-1","detail-type":"Offboarding Requested","source":"com.example.workday","account":"000000000000","time":"2026-11-23T10:00:00Z","region":"us-east-1","resources":[],"detail":` + detail + `}`
}

func TestParseAccepts(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	raw := `{"email":" jane@example.com ","user_id":"user-abc","reason":"left the company","ticket":"HR-1234","requested_at":"2026-11-23T09:30:00Z","dry_run":true,"metadata":{"hris":"workday"}}`
	tests := []struct {
		name string
		body string
		want Request
	}{
		{"raw, every field", raw, Request{Email: "jane@example.com", UserID: "user-abc", Reason: "left the company",
			Ticket: "HR-1234", RequestedAt: at, DryRun: true, Kind: KindRaw}},
		{"raw, email only", `{"email":"a.b+c@sub.example.co.uk"}`, Request{Email: "a.b+c@sub.example.co.uk", Kind: KindRaw}},
		{"raw, nulls are absent", `{"email":"x@example.com","user_id":null,"dry_run":null,"ticket":null}`,
			Request{Email: "x@example.com", Kind: KindRaw}},
		{"eventbridge", eventBridgeWrap(raw), Request{Email: "jane@example.com", UserID: "user-abc", Reason: "left the company",
			Ticket: "HR-1234", RequestedAt: at, DryRun: true, Kind: KindRaw, Via: []string{"eventbridge"}}},
		{"sns", snsWrap(t, raw), Request{Email: "jane@example.com", UserID: "user-abc", Reason: "left the company",
			Ticket: "HR-1234", RequestedAt: at, DryRun: true, Kind: KindRaw, Via: []string{"sns"}}},
		{"sns around eventbridge", snsWrap(t, eventBridgeWrap(`{"email":"bob@example.com"}`)),
			Request{Email: "bob@example.com", Kind: KindRaw, Via: []string{"sns", "eventbridge"}}},
		{"okta partner event", oktaDeactivate, Request{Email: "Jane.Leaver@Example.com", Kind: KindOkta,
			Reason: "Okta user.lifecycle.deactivate: Deactivate Okta user", EventID: "a1b2c3d4-0f0f-11ef-9c3c-2f5f6d4e7a81",
			RequestedAt: time.Date(2026, 11, 23, 10, 15, 1, 234_000_000, time.UTC), Via: []string{"eventbridge"}}},
		{"okta through sns", snsWrap(t, oktaDeactivate), Request{Email: "Jane.Leaver@Example.com", Kind: KindOkta,
			Reason: "Okta user.lifecycle.deactivate: Deactivate Okta user", EventID: "a1b2c3d4-0f0f-11ef-9c3c-2f5f6d4e7a81",
			RequestedAt: time.Date(2026, 11, 23, 10, 15, 1, 234_000_000, time.UTC), Via: []string{"sns", "eventbridge"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !sameRequest(got, tt.want) {
				t.Errorf("Parse =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func sameRequest(a, b Request) bool {
	return a.Email == b.Email && a.UserID == b.UserID && a.Reason == b.Reason && a.Ticket == b.Ticket &&
		a.RequestedAt.Equal(b.RequestedAt) && a.DryRun == b.DryRun && a.Kind == b.Kind &&
		strings.Join(a.Via, ">") == strings.Join(b.Via, ">") && a.EventID == b.EventID
}

func TestParseRejects(t *testing.T) {
	okta := func(edit func(m map[string]any)) string {
		var ev map[string]any
		if err := json.Unmarshal([]byte(oktaDeactivate), &ev); err != nil {
			t.Fatal(err)
		}
		edit(ev["detail"].(map[string]any))
		b, _ := json.Marshal(ev)
		return string(b)
	}
	tests := []struct {
		name   string
		body   string
		reason string // substring of the error's reason
	}{
		{"empty", ``, "not JSON"},
		{"not json", `email=jane@example.com`, "not JSON"},
		{"array", `[{"email":"jane@example.com"}]`, "not a JSON object"},
		{"trailing data", `{"email":"jane@example.com"} {}`, "trailing data"},
		{"truncated", `{"email":"jane@example.com"`, "not JSON"},
		{"no email", `{"reason":"left"}`, "email is required"},
		{"null email", `{"email":null}`, "email is required"},
		{"email not a string", `{"email":42}`, "email must be a string"},
		{"empty email", `{"email":"  "}`, "email is empty"},
		{"no at", `{"email":"jane.example.com"}`, "exactly one @"},
		{"two ats", `{"email":"jane@x@example.com"}`, "exactly one @"},
		{"display name", `{"email":"Jane <jane@example.com>"}`, "invalid character"},
		{"space inside", `{"email":"jane doe@example.com"}`, "invalid character"},
		{"dotless domain", `{"email":"jane@localhost"}`, "domain with a dot"},
		{"double dot", `{"email":"jane..doe@example.com"}`, "invalid local part"},
		{"bad domain label", `{"email":"jane@-example.com"}`, "invalid domain"},
		{"ip literal", `{"email":"jane@[192.0.2.1]"}`, "invalid character"},
		{"numeric tld", `{"email":"jane@192.0.2.1"}`, "numeric top-level domain"},
		{"unknown field (typo of dry_run)", `{"email":"jane@example.com","dryrun":true}`, `unknown field "dryrun"`},
		{"duplicate field", `{"email":"jane@example.com","dry_run":true,"dry_run":false}`, `"dry_run" appears twice`},
		{"dry_run as string", `{"email":"jane@example.com","dry_run":"true"}`, "dry_run must be true or false"},
		{"requested_at not rfc3339", `{"email":"jane@example.com","requested_at":"23/11/2026"}`, "not an RFC 3339 time"},
		{"requested_at a number", `{"email":"jane@example.com","requested_at":1764000000}`, "requested_at must be a string"},
		{"user_id with slash", `{"email":"jane@example.com","user_id":"user-1/../x"}`, "spaces or slashes"},
		{"ticket too long", `{"email":"jane@example.com","ticket":"` + strings.Repeat("x", 200) + `"}`, "ticket is longer"},
		{"control char in reason", `{"email":"jane@example.com","reason":"a\u0007b"}`, "control characters"},
		{"metadata not object", `{"email":"jane@example.com","metadata":"x"}`, "metadata must be an object"},
		{"eventbridge detail not object", eventBridgeWrap(`"jane@example.com"`), "EventBridge detail"},
		{"eventbridge unknown field", eventBridgeWrap(`{"email":"jane@example.com","mail":"x"}`), `EventBridge detail: unknown field "mail"`},
		{"sns subscription confirmation", `{"Type":"SubscriptionConfirmation","MessageId":"m","TopicArn":"arn","Message":"You have chosen to subscribe"}`, "not an offboarding request"},
		{"sns message not a string", `{"Type":"Notification","MessageId":"m","TopicArn":"arn","Message":{"email":"jane@example.com"}}`, "Message must be a string"},
		{"sns with bad inner", snsWrap(t, `{"email":"nope"}`), "exactly one @"},
		{"okta other event type", okta(func(d map[string]any) { d["eventType"] = "user.session.start" }), `"user.session.start" is not an offboarding signal`},
		{"okta failed outcome", okta(func(d map[string]any) { d["outcome"] = map[string]any{"result": "FAILURE"} }), `outcome as "FAILURE"`},
		{"okta no user target", okta(func(d map[string]any) {
			d["target"] = []any{map[string]any{"type": "AppInstance", "alternateId": "app"}}
		}), "0 targets of type User"},
		{"okta two user targets", okta(func(d map[string]any) {
			u := map[string]any{"type": "User", "alternateId": "a@example.com"}
			d["target"] = []any{u, u}
		}), "2 targets of type User"},
		{"okta login not an email", okta(func(d map[string]any) {
			d["target"] = []any{map[string]any{"type": "User", "alternateId": "jleaver"}}
		}), "Okta target alternateId"},
		{"okta target wrong type", okta(func(d map[string]any) { d["target"] = "x" }), "Okta event"},
		{"okta no uuid", okta(func(d map[string]any) { delete(d, "uuid") }), "no uuid"},
		{"too deep", snsWrap(t, snsWrap(t, snsWrap(t, snsWrap(t, `{"email":"jane@example.com"}`)))), "nested more than"},
		{"invalid utf-8", "{\"email\":\"j\xffane@example.com\"}", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.body))
			if err == nil {
				t.Fatalf("Parse accepted %s", tt.body)
			}
			if !IsBadInput(err) {
				t.Fatalf("error %v is not a *Error", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q lacks %q", err, tt.reason)
			}
		})
	}
}

func TestReasonsNeverCarryKeyMaterial(t *testing.T) {
	key := "sk-proj-" + strings.Repeat("A1b2", 10)
	for _, body := range []string{
		`{"email":"` + key + `"}`,
		`{"email":"` + key + `@localhost"}`,
		`{"email":"jane@example.com","requested_at":"` + key + `"}`,
	} {
		_, err := Parse([]byte(body))
		if err == nil {
			t.Fatalf("Parse accepted %s", body)
		}
		if strings.Contains(err.Error(), key) {
			t.Errorf("reason leaks the planted key")
		}
	}
}

func TestRequestKey(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	base := Request{Email: "Jane@Example.com", RequestedAt: at}
	tests := []struct {
		name      string
		a, b      Request
		wantEqual bool
	}{
		{"same request, email case differs", base, Request{Email: "jane@example.com", RequestedAt: at}, true},
		{"different time", base, Request{Email: "jane@example.com", RequestedAt: at.Add(time.Hour)}, false},
		{"different person", base, Request{Email: "john@example.com", RequestedAt: at}, false},
		{"ticket wins over time", Request{Email: "a@example.com", Ticket: "HR-1", RequestedAt: at},
			Request{Email: "a@example.com", Ticket: "HR-1", RequestedAt: at.Add(time.Hour)}, true},
		{"tickets differing only by case of unsafe chars stay apart", Request{Email: "a@example.com", Ticket: "HR/1"},
			Request{Email: "a@example.com", Ticket: "HR 1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := tt.a.RequestKey(), tt.b.RequestKey()
			if (ka == kb) != tt.wantEqual {
				t.Errorf("keys %q and %q: equal=%v, want %v", ka, kb, ka == kb, tt.wantEqual)
			}
			for _, k := range []string{ka, kb} {
				if strings.Trim(k, "abcdefghijklmnopqrstuvwxyz0123456789._-") != "" || len(k) > 80 {
					t.Errorf("key %q is not S3-friendly", k)
				}
			}
		})
	}
	if got := (Request{Email: "a@example.com", Ticket: "HR-1234"}).RequestKey(); got != "hr-1234" {
		t.Errorf("ticket key = %q, want hr-1234", got)
	}
}

// TestSeedCorpusIsValidFuzzInput keeps the fuzz seeds loadable: a broken
// file would make `go test -fuzz` refuse to start.
func TestSeedCorpusIsValidFuzzInput(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
	if err != nil || len(files) < 5 {
		t.Fatalf("want a seed corpus in testdata/fuzz/FuzzParse, found %d files (%v)", len(files), err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "go test fuzz v1\n") {
			t.Errorf("%s is not a fuzz corpus file", f)
		}
	}
}
