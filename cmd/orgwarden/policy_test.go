package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicyInitPlanApply is the policy guard from a terminal: init
// describes the organization as it is, so a plan against it finds nothing;
// a stricter policy is drift that plan shows and changes nothing for, apply
// previews, apply --apply fixes, and a plan after that finds nothing.
func TestPolicyInitPlanApply(t *testing.T) {
	full, emu := hygieneEnv(t)
	env := map[string]string{"OPENAI_BASE_URL": full["OPENAI_BASE_URL"], "OPENAI_ADMIN_KEY": full["OPENAI_ADMIN_KEY"]}

	out := filepath.Join(t.TempDir(), "policy.json")
	if code, _, stderr := runCLI(t, env, "policy", "init", "--out", out); code != 0 {
		t.Fatalf("policy init: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, env, "policy", "init", "--out", out); code == 0 || !strings.Contains(stderr, "exists") {
		t.Fatalf("policy init over an existing file: exit %d, %s", code, stderr)
	}
	described, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	env["ORGWARDEN_POLICY"] = string(described)
	code, stdout, stderr := runCLI(t, env, "policy", "plan")
	if code != 0 || !strings.Contains(stdout, "No drift") {
		t.Fatalf("plan against init's policy: exit %d\n%s\n%s", code, stdout, stderr)
	}

	env["ORGWARDEN_POLICY"] = `{"version": 1, "rules": [{"name": "zdr", "enforce": true, "select": {"all": true},
		"assert": {"data_retention": "zero_data_retention"}}]}`
	before := len(emu.MutatingRequests())
	code, stdout, stderr = runCLI(t, env, "policy", "plan", "--output", "json")
	var plan struct {
		Findings []struct{ Rule, Kind, Expected, Actual string }
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &plan) != nil || len(plan.Findings) == 0 {
		t.Fatalf("plan of a stricter policy: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, f := range plan.Findings {
		if f.Rule != "zdr" || f.Expected != "zero_data_retention" || f.Actual == f.Expected {
			t.Errorf("finding %+v", f)
		}
	}
	if code, stdout, _ := runCLI(t, env, "policy", "plan"); code != 0 || !strings.Contains(stdout, "zero_data_retention") || !strings.Contains(stdout, "remediate") {
		t.Errorf("plan table: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := runCLI(t, env, "policy", "apply"); code != 0 {
		t.Fatalf("policy apply (a preview): exit %d, %s", code, stderr)
	}
	if n := len(emu.MutatingRequests()) - before; n != 0 {
		t.Fatalf("plan and a preview apply sent %d changes", n)
	}
	if code, _, stderr := runCLI(t, env, "policy", "apply", "--apply", "--yes"); code != 0 {
		t.Fatalf("policy apply --apply: exit %d, %s", code, stderr)
	}
	if n := len(emu.MutatingRequests()) - before; n != len(plan.Findings) {
		t.Errorf("apply sent %d changes for %d findings", n, len(plan.Findings))
	}
	if code, stdout, _ := runCLI(t, env, "policy", "plan"); code != 0 || !strings.Contains(stdout, "No drift") {
		t.Errorf("plan after apply: exit %d\n%s", code, stdout)
	}
	if code, _, _ := runCLI(t, env, "policy", "plna"); code != exitUsage {
		t.Errorf("a mistyped subcommand: exit %d, want %d", code, exitUsage)
	}
}
