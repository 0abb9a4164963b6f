package secretdoc

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

const plantedKey = "sk-admin-PLANTEDplantedPLANTEDplanted0123456789"

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Doc
		wantErr string
	}{
		{
			name: "admin key",
			in:   `{"type":"admin_key","api_key":"` + plantedKey + `","key_id":"key_1"}`,
			want: Doc{Type: TypeAdminKey, APIKey: plantedKey, KeyID: "key_1"},
		},
		{
			name: "service account key",
			in:   `{"type":"service_account_key","project_id":"proj_1","service_account_id":"svc_acct_1","service_account_name":"billing-app","api_key":"sk-svcacct-x","key_id":"key_2"}`,
			want: Doc{Type: TypeServiceAccountKey, APIKey: "sk-svcacct-x", KeyID: "key_2", ProjectID: "proj_1", ServiceAccountID: "svc_acct_1", ServiceAccountName: "billing-app"},
		},
		{name: "admin key without key id is accepted", in: `{"type":"admin_key","api_key":"sk-admin-x"}`, want: Doc{Type: TypeAdminKey, APIKey: "sk-admin-x"}},
		{name: "not json", in: plantedKey, wantErr: "not a JSON object"},
		{name: "json array", in: `[]`, wantErr: "not a JSON object"},
		{name: "json null", in: `null`, wantErr: "not a JSON object"},
		{name: "no type", in: `{"api_key":"` + plantedKey + `"}`, wantErr: `no "type"`},
		{name: "unknown type", in: `{"type":"password","api_key":"x"}`, wantErr: `type "password" is not rotated`},
		{name: "admin key without api key", in: `{"type":"admin_key","key_id":"key_1"}`, wantErr: "admin_key secret lacks api_key"},
		{name: "service account without ids", in: `{"type":"service_account_key","api_key":"` + plantedKey + `"}`, wantErr: "lacks project_id, service_account_id"},
		{name: "field of the wrong type", in: `{"type":"admin_key","api_key":12}`, wantErr: `"api_key" is not a string`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "PLANTED") {
					t.Fatalf("error echoes the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.extra = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMarshalKeepsUnknownFieldsAndRoundTrips(t *testing.T) {
	in := `{"type":"service_account_key","project_id":"proj_1","service_account_id":"svc_acct_1","service_account_name":"billing-app","api_key":"sk-svcacct-old","key_id":"key_old","base_url":"https://example.test/v1","team":{"slack":"#billing"}}`
	d, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	d.APIKey, d.KeyID, d.ServiceAccountID = "sk-svcacct-new", "key_new", "svc_acct_2"
	s, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	if m["api_key"] != "sk-svcacct-new" || m["key_id"] != "key_new" || m["service_account_id"] != "svc_acct_2" || m["base_url"] != "https://example.test/v1" {
		t.Errorf("marshalled %s", s)
	}
	if team, _ := m["team"].(map[string]any); team["slack"] != "#billing" {
		t.Errorf("nested unknown field lost: %s", s)
	}
	again, err := Parse(s)
	if err != nil || again.APIKey != d.APIKey || again.CredentialID() != "svc_acct_2" {
		t.Errorf("round trip: %+v, %v", again, err)
	}
}

func TestDocNeverPrintsItsKey(t *testing.T) {
	d, err := Parse(`{"type":"admin_key","api_key":"` + plantedKey + `","key_id":"key_1"}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmtAll(d)} {
		if strings.Contains(s, "PLANTED") {
			t.Fatalf("doc printed its key: %s", s)
		}
	}
}

func fmtAll(d Doc) string {
	b, _ := json.Marshal(d)
	return string(b) + " " + strings.Join([]string{fmt.Sprintf("%v", d), fmt.Sprintf("%+v", d), fmt.Sprintf("%#v", d)}, " ")
}

func TestRetirements(t *testing.T) {
	due := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	tags := []types.Tag{
		{Key: aws.String("team"), Value: aws.String("billing")},
		Retirement{CredentialID: "svc_acct_b", Due: due.Add(time.Hour)}.Tag(),
		Retirement{CredentialID: "key_a", Due: due.In(time.FixedZone("CET", 3600))}.Tag(),
		{Key: aws.String(RetireTagPrefix + "key_bad"), Value: aws.String("tomorrow " + plantedKey)},
		{Key: aws.String(RetireTagPrefix), Value: aws.String("2026-11-24T10:00:00Z")},
	}
	got, errs := Retirements(tags)
	want := []Retirement{{"key_a", due}, {"svc_acct_b", due.Add(time.Hour)}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if len(errs) != 2 {
		t.Fatalf("want 2 errors for the malformed tags, got %v", errs)
	}
	for _, err := range errs {
		if strings.Contains(err.Error(), "PLANTED") {
			t.Errorf("error echoes key material: %v", err)
		}
	}
	if v := aws.ToString(want[0].Tag().Value); v != "2026-11-24T10:00:00Z" {
		t.Errorf("tag value %q, want UTC RFC 3339", v)
	}
}

func TestValidCredentialID(t *testing.T) {
	for id, want := range map[string]bool{
		"key_abc": true, "svc_acct_abc123": true, "key-1.2": true,
		"": false, "key abc;rm": false, "key\n": false, strings.Repeat("k", 120): false,
	} {
		if got := ValidCredentialID(id); got != want {
			t.Errorf("ValidCredentialID(%q) = %v, want %v", id, got, want)
		}
	}
}

// FuzzParse: any secret string parses into a valid document or fails with
// an error that does not echo it; a parsed document survives Marshal and
// Parse unchanged.
func FuzzParse(f *testing.F) {
	f.Add(`{"type":"admin_key","api_key":"sk-admin-x","key_id":"key_1"}`)
	f.Add(`{"type":"service_account_key","project_id":"p","service_account_id":"s","api_key":"k","x":[1]}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			if len(s) > 24 && strings.Contains(err.Error(), s) {
				t.Fatalf("error echoes the input: %v", err)
			}
			return
		}
		out, err := d.Marshal()
		if err != nil {
			t.Fatalf("valid doc does not marshal: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		again.extra, d.extra = nil, nil
		if !reflect.DeepEqual(again, d) {
			t.Fatalf("round trip changed the doc: %+v != %+v", again, d)
		}
	})
}

// FuzzRetirements: tags never panic the reader, and every retirement read
// back encodes to the same tag.
func FuzzRetirements(f *testing.F) {
	f.Add("orgwarden:retire:key_1", "2026-11-24T10:00:00Z")
	f.Add("orgwarden:retire:", "x")
	f.Fuzz(func(t *testing.T, k, v string) {
		got, _ := Retirements([]types.Tag{{Key: aws.String(k), Value: aws.String(v)}})
		for _, r := range got {
			again, errs := Retirements([]types.Tag{r.Tag()})
			if len(errs) > 0 || len(again) != 1 || !again[0].Due.Equal(r.Due) || again[0].CredentialID != r.CredentialID {
				t.Fatalf("retirement %+v does not survive its tag: %+v %v", r, again, errs)
			}
		}
	})
}
