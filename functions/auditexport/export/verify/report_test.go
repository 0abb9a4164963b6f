package verify

import (
	"strings"
	"testing"
)

// The end-to-end checks (every kind of tampering against real exports)
// are in package export's verify_test.go; these pin the report's verdicts.
func TestReportVerdicts(t *testing.T) {
	warn := Finding{Kind: Unsealed, Key: "k1", Detail: "not sealed yet", Warning: true}
	bad := Finding{Kind: MissingObject, Key: "k2", Detail: "gone"}
	tests := []struct {
		name  string
		rep   Report
		ok    bool
		lines []string
	}{
		{"nothing found", Report{Bucket: "b", Prefix: "p"}, false, []string{"no export found", "FAILED"}},
		{"clean", Report{Bucket: "b", Prefix: "p", Orgs: []OrgReport{{OrgID: "o", Digests: 2, Newest: 2}}}, true,
			[]string{"s3://b/p org o: 2 digests (newest generation 2, sealed -)", "OK: the digest chain and every object verify"}},
		{"warnings only", Report{Bucket: "b", Orgs: []OrgReport{{OrgID: "o", Findings: []Finding{warn}}}}, true,
			[]string{"  warning unsealed object", "OK:"}},
		{"a problem in one of two orgs", Report{Bucket: "b", Orgs: []OrgReport{{OrgID: "a"}, {OrgID: "o", Findings: []Finding{warn, bad}}}}, false,
			[]string{"  PROBLEM missing object     k2: gone", "FAILED: 1 problem(s)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rep.OK() != tt.ok {
				t.Fatalf("OK() = %v, want %v", tt.rep.OK(), tt.ok)
			}
			var b strings.Builder
			if err := tt.rep.Write(&b); err != nil {
				t.Fatal(err)
			}
			for _, l := range tt.lines {
				if !strings.Contains(b.String(), l) {
					t.Errorf("report lacks %q:\n%s", l, b.String())
				}
			}
		})
	}
}
