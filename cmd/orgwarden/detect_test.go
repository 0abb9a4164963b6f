package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/functions/auditexport/detect"
)

// `orgwarden detect --since` runs the rules over what the export holds:
// an injected burst and owner grant are found, --rule narrows to one rule,
// every output format carries the findings, and nothing is written.
func TestDetectBacktest(t *testing.T) {
	env, emu, s3srv := auditEnv(t)
	now := emu.Now().Unix()
	var burst []string
	for i := range 12 {
		id := fmt.Sprintf("audit_log-cliburst%02d", i)
		burst = append(burst, id)
		raw := fmt.Sprintf(`{"id":%q,"type":"login.failed","effective_at":%d,"actor":{"type":"session","session":{"ip_address":"192.0.2.250","user":{"id":"user-spray%02d","email":"s%02d@example.com"}}},"login.failed":{"error_code":"invalid_credentials"}}`,
			id, now-3600+int64(i)*10, i, i)
		if err := emu.AppendAuditEvent([]byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	since := emu.Now().Add(-40 * 24 * time.Hour).Format(time.DateOnly)
	if code, _, stderr := runCLI(t, env, "run", "auditexport", "--since", since, "--quiet"); code != 0 {
		t.Fatalf("run auditexport: exit %d\n%s", code, stderr)
	}
	before := len(exportedLines(t, s3srv, "cli-audit"))

	code, stdout, stderr := runCLI(t, env, "detect", "--since", since, "--output", "json")
	if code != 0 {
		t.Fatalf("detect: exit %d\n%s", code, stderr)
	}
	var res detect.BacktestResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if res.Events != int64(emu.AuditEventCount()) {
		t.Errorf("evaluated %d events, the export holds %d", res.Events, emu.AuditEventCount())
	}
	rules := map[string]int{}
	var spray *detect.Finding
	for i, f := range res.Findings {
		rules[f.Rule]++
		if f.Rule == "login-failed-ip" && f.IP == "192.0.2.250" {
			spray = &res.Findings[i]
		}
	}
	if spray == nil || len(spray.EventIDs) != 10 || !slices.Equal(spray.EventIDs, burst[:10]) {
		t.Fatalf("the spray from 192.0.2.250 was not found as the first ten attempts: %+v", spray)
	}
	// The seeded history grants owner roles and changes rate limits.
	if rules["raised-to-owner"] == 0 || rules["org-settings-changed"] == 0 {
		t.Errorf("findings by rule %v: the seeded owner grants and settings changes are missing", rules)
	}

	code, stdout, _ = runCLI(t, env, "detect", "--since", since, "--rule", "login-failed-ip", "--output", "csv")
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if code != 0 || err != nil || len(rows) < 2 || rows[0][1] != "rule" {
		t.Fatalf("csv: exit %d, %v\n%s", code, err, stdout)
	}
	for _, r := range rows[1:] {
		if r[1] != "login-failed-ip" {
			t.Errorf("--rule login-failed-ip gave a %s finding", r[1])
		}
	}
	code, stdout, _ = runCLI(t, env, "detect", "--since", since)
	if code != 0 || !strings.Contains(stdout, "SEVERITY") || !strings.Contains(stdout, fmt.Sprintf("%d findings in", len(res.Findings))) {
		t.Errorf("table: exit %d\n%s", code, stdout)
	}
	if after := len(exportedLines(t, s3srv, "cli-audit")); after != before {
		t.Errorf("detect changed the export: %d events before, %d after", before, after)
	}

	for _, args := range [][]string{
		{"detect"},
		{"detect", "--since", since, "--rule", "no-such-rule"},
		{"detect", "--since", since, "--output", "yaml"},
		{"detect", "--since", since, "extra"},
	} {
		if code, _, _ := runCLI(t, env, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
