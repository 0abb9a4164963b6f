package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// runTerminal runs the CLI as a person at a terminal would, answering
// prompts from stdin.
func runTerminal(t *testing.T, env map[string]string, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := newCLI(&out, &errOut, config.MapEnv(env))
	c.stdin, c.terminal = stdin, true
	code = c.run(context.Background(), args)
	return code, out.String(), errOut.String()
}

func with(env map[string]string, kv ...string) map[string]string {
	m := maps.Clone(env)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// TestDeletingJobsNeverDeleteUnlessApplied: every way of asking short of
// a confirmed --apply deletes nothing, and the ones that are mistakes say
// so with a usage error.
func TestDeletingJobsNeverDeleteUnlessApplied(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		args     []string
		terminal bool
		stdin    string
		code     int
		stderr   string
	}{
		{name: "default is a preview", args: []string{"run", "invitecleanup"}, code: 0},
		{name: "keyrotation default is a preview", args: []string{"run", "keyrotation"}, code: 0},
		{name: "--dry-run still accepted", args: []string{"run", "invitecleanup", "--dry-run"}, code: 0},
		{name: "stray word (dashes dropped)", args: []string{"run", "invitecleanup", "dry-run"}, code: 2, stderr: `unexpected argument "dry-run" (did you mean --dry-run?)`},
		{name: "stray word after --apply --yes", args: []string{"run", "invitecleanup", "--apply", "--yes", "now"}, code: 2, stderr: `unexpected argument "now"`},
		{name: "stray word keyrotation", args: []string{"run", "keyrotation", "apply"}, code: 2, stderr: `did you mean --apply?`},
		{name: "stray word offboarding", args: []string{"run", "offboarding", "--email", "dev@example.com", "x"}, code: 2, stderr: `unexpected argument "x"`},
		{name: "offboarding apply off a terminal", args: []string{"run", "offboarding", "--email", "dev@example.com", "--apply"}, code: 2, stderr: "--apply without --yes is refused"},
		{name: "apply and dry-run", args: []string{"run", "invitecleanup", "--apply", "--dry-run", "--yes"}, code: 2, stderr: "contradict"},
		{name: "apply without yes off a terminal", args: []string{"run", "invitecleanup", "--apply"}, code: 2, stderr: "--apply without --yes is refused when not on a terminal"},
		{name: "yes without apply", args: []string{"run", "invitecleanup", "--yes"}, code: 2, stderr: "--yes only makes sense with --apply"},
		{name: "apply with ORGWARDEN_DRY_RUN", env: []string{"ORGWARDEN_DRY_RUN", "true"}, args: []string{"run", "invitecleanup", "--apply", "--yes"}, code: 2, stderr: "conflicts with ORGWARDEN_DRY_RUN=true"},
		{name: "mistyped variable", env: []string{"ORGWARDEN_DRYRUN", "true"}, args: []string{"run", "invitecleanup", "--apply", "--yes"}, code: 2, stderr: "ORGWARDEN_DRYRUN: no orgwarden function reads this variable; did you mean ORGWARDEN_DRY_RUN?"},
		{name: "declined at the prompt", args: []string{"run", "invitecleanup", "--apply"}, terminal: true, stdin: "n\n", code: 4, stderr: "nothing was deleted"},
		{name: "no answer at the prompt", args: []string{"run", "invitecleanup", "--apply"}, terminal: true, stdin: "", code: 4, stderr: "nothing was deleted"},
		{name: "bad output", args: []string{"run", "invitecleanup", "--output", "yaml"}, code: 2, stderr: "want text, table, json or csv"},
		{name: "cap exceeded", env: []string{"ORGWARDEN_MAX_DELETIONS", "0"}, args: []string{"run", "invitecleanup", "--apply", "--yes"}, code: 3, stderr: "deletion cap exceeded"},
		{name: "cap exceeded in a preview", env: []string{"ORGWARDEN_MAX_DELETIONS", "0"}, args: []string{"run", "keyrotation"}, code: 3, stderr: "ORGWARDEN_MAX_DELETIONS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, emu := hygieneEnv(t)
			env = with(env, tt.env...)
			var code int
			var stderr string
			if tt.terminal {
				code, _, stderr = runTerminal(t, env, strings.NewReader(tt.stdin), tt.args...)
			} else {
				code, _, stderr = runCLI(t, env, tt.args...)
			}
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			last := lastLine(stderr)
			if !strings.Contains(last, tt.stderr) {
				t.Errorf("last stderr line %q lacks %q", last, tt.stderr)
			}
			if n := len(emu.MutatingRequests()); n != 0 {
				t.Errorf("%d mutating requests; nothing may be deleted", n)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestApplyOnTerminalShowsPlanAndAsks: the prompt names the organization
// and the base URL and shows the plan as a table; "yes" deletes exactly it.
func TestApplyOnTerminalShowsPlanAndAsks(t *testing.T) {
	env, emu := hygieneEnv(t)
	env["ORGWARDEN_ORG_ID"] = "org-acme"
	code, stdout, stderr := runTerminal(t, env, strings.NewReader("yes\n"), "run", "invitecleanup", "--apply")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"organization org-acme (" + env["OPENAI_BASE_URL"] + ")", "ACTION", "KIND", "ID", "NAME", "WHY",
		"would delete", "late@example.com", "Delete these 1? Type yes"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("prompt lacks %q:\n%s", want, stderr)
		}
	}
	if n := emu.CountRequests("DELETE", "/organization/invites/*"); n != 1 {
		t.Errorf("%d invite deletions, want 1", n)
	}
	if len(emu.Invites()) != 0 {
		t.Errorf("invite left: %+v", emu.Invites())
	}
	if !strings.Contains(stdout, "invitecleanup on organization org-acme") || !strings.Contains(stdout, "applied") ||
		!strings.Contains(stdout, "Found 1: 1 deleted.") {
		t.Errorf("report:\n%s", stdout)
	}
}

// stdinThen runs do when the prompt is answered: the organization changes
// between the preview and the real run.
type stdinThen struct {
	answer string
	do     func()
	done   bool
}

func (s *stdinThen) Read(p []byte) (int, error) {
	if s.done {
		return 0, io.EOF
	}
	s.do()
	s.done = true
	return copy(p, s.answer), nil
}

// TestApplyDeletesOnlyWhatWasConfirmed: an invite that goes stale after the
// preview was shown is not deleted by the confirmed run; it is skipped and
// the report says why.
func TestApplyDeletesOnlyWhatWasConfirmed(t *testing.T) {
	env, emu := hygieneEnv(t)
	var late string
	stdin := &stdinThen{answer: "yes\n", do: func() {
		id, err := emu.AddInvite(adminapi.NewInvite{Email: "newly-stale@example.com", CreatedAt: emu.Now().Add(-30 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		late = id
	}}
	code, stdout, stderr := runTerminal(t, env, stdin, "run", "invitecleanup", "--apply", "--output", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := emu.CountRequests("DELETE", "/organization/invites/*"); n != 1 {
		t.Errorf("%d invite deletions, want only the confirmed one", n)
	}
	left := emu.Invites()
	if len(left) != 1 || left[0].ID != late {
		t.Fatalf("invites left %+v, want only %s", left, late)
	}
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var sawSkip bool
	for _, r := range rows[1:] {
		if r[2] == late {
			sawSkip = r[0] == "skipped" && strings.Contains(r[4], "not in the plan confirmed")
		}
	}
	if !sawSkip {
		t.Errorf("the unconfirmed invite is not reported as skipped:\n%s", stdout)
	}
}

func TestApplyWithYesOffTerminal(t *testing.T) {
	env, emu := hygieneEnv(t)
	code, stdout, stderr := runCLI(t, env, "run", "keyrotation", "--apply", "--yes")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := emu.CountRequests("DELETE", "/organization/projects/*/api_keys/*"); n != 1 {
		t.Errorf("%d key deletions, want 1", n)
	}
	var s struct {
		Organization string `json:"organization"`
		DryRun       bool   `json:"dry_run"`
		Counts       struct{ Revoked int }
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || s.DryRun || s.Counts.Revoked != 1 || s.Organization == "" {
		t.Errorf("summary %s (%v)", stdout, err)
	}
}

// TestReportOutputs: every format names the organization where it has a
// header, counts add up, and empty lists are [] in JSON.
func TestReportOutputs(t *testing.T) {
	env, _ := hygieneEnv(t)
	env["ORGWARDEN_ORG_ID"] = "org-acme"
	// One stale key to revoke, one invite-less job for the empty case.
	code, stdout, stderr := runCLI(t, env, "run", "keyrotation", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stdout, "null") {
		t.Errorf("JSON has null lists:\n%s", stdout)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || s["organization"] != "org-acme" || s["base_url"] != env["OPENAI_BASE_URL"] {
		t.Fatalf("json %s (%v)", stdout, err)
	}
	if _, ok := s["keys"].(map[string]any)["skipped"].([]any); !ok {
		t.Errorf("empty skipped list is not []: %s", stdout)
	}

	code, stdout, _ = runTerminal(t, env, strings.NewReader(""), "run", "keyrotation")
	if code != 0 || !strings.Contains(stdout, "keyrotation on organization org-acme") || !strings.Contains(stdout, "preview, nothing changed") ||
		!strings.Contains(stdout, "Found 1: 1 would delete.") || !strings.Contains(stdout, "orgwarden run keyrotation --apply") {
		t.Errorf("text report (exit %d):\n%s", code, stdout)
	}

	code, stdout, _ = runCLI(t, env, "run", "invitecleanup", "--output", "table")
	if code != 0 || !strings.HasPrefix(stdout, "ACTION") || !strings.Contains(stdout, "would delete") {
		t.Errorf("table (exit %d):\n%s", code, stdout)
	}
}

func TestTextCountsAddUp(t *testing.T) {
	r := &report{Job: "keyrotation", Target: target{Organization: "org-x", BaseURL: "u"}, DryRun: true, Items: []item{
		{Action: actWouldDelete}, {Action: actWouldDelete}, {Action: actReportOnly}, {Action: actSkipped},
	}}
	var b bytes.Buffer
	r.writeText(&b)
	if !strings.Contains(b.String(), "Found 4: 2 would delete, 1 report only, 1 skipped.") {
		t.Errorf("counts:\n%s", b.String())
	}
}

// TestStrayWordsRefusedEverywhere: no command takes a positional argument
// after its flags.
func TestStrayWordsRefusedEverywhere(t *testing.T) {
	for _, args := range [][]string{
		{"emulator", "--admin-key", "k", "extra"},
		{"demo", "extra"},
		{"invoke", "invitecleanup", "--event", "x.json", "extra"},
		{"restore", "--record", "r.json", "extra"},
		{"verify", "extra"},
		{"run", "auditexport", "extra"},
	} {
		code, _, stderr := runCLI(t, map[string]string{"OPENAI_ADMIN_KEY": "k"}, args...)
		if code != 2 || !strings.Contains(stderr, `unexpected argument "extra"`) {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

func TestRunOffboardingPreviewsByDefault(t *testing.T) {
	env, emu, _ := offboardingEnv(t)
	code, stdout, stderr := runCLI(t, env, "run", "offboarding", "--email", "bob.leaver@example.com")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := len(emu.MutatingRequests()); n != 0 {
		t.Errorf("%d mutating requests without --apply", n)
	}
	if !strings.Contains(stdout, `"outcome": "dry_run"`) {
		t.Errorf("summary %s", stdout)
	}
	code, stdout, stderr = runTerminal(t, env, strings.NewReader("yes\n"), "run", "offboarding", "--email", "bob.leaver@example.com", "--apply")
	if code != 0 {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
	if len(emu.MutatingRequests()) == 0 || !strings.Contains(stderr, "offboarding will delete") || !strings.Contains(stdout, "deleted") {
		t.Errorf("apply did not offboard:\nstderr %s\nstdout %s", stderr, stdout)
	}
}

// TestErrorsNameTheFix: a refused key is reported once, with the server's
// message and what to check; a retry on a terminal says what it waits for.
func TestErrorsNameTheFix(t *testing.T) {
	env, emu := hygieneEnv(t)
	bad := with(env, "OPENAI_ADMIN_KEY", "not-the-admin-key")
	code, _, stderr := runCLI(t, bad, "run", "invitecleanup")
	last := lastLine(stderr)
	if code != 1 || strings.Contains(last, "list invites: list invites") || !strings.Contains(last, "HTTP 401 Unauthorized: ") ||
		!strings.Contains(last, "the admin key was refused: check that OPENAI_ADMIN_KEY") {
		t.Errorf("exit %d, last line %q", code, last)
	}

	emu.InjectFault(adminapi.Rule{Method: "GET", PathPattern: "/organization/invites", Status: 429, RetryAfter: time.Millisecond, Count: 1})
	code, _, stderr = runTerminal(t, with(env, "ORGWARDEN_MAX_RETRY_DELAY", "1s"), strings.NewReader(""), "run", "invitecleanup")
	if code != 0 || !strings.Contains(stderr, "waiting 0s: 429 Too Many Requests on GET /organization/invites, retry 1/6") {
		t.Errorf("exit %d, no retry notice:\n%s", code, stderr)
	}
}

func TestSinceInTheFutureIsAUsageError(t *testing.T) {
	code, _, stderr := runCLI(t, nil, "run", "auditexport", "--since", "2999-01-01")
	if code != 2 || !strings.Contains(lastLine(stderr), "since 2999-01-01 is in the future") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestAuditExportEventWithUnknownFieldFails(t *testing.T) {
	env, emu, _ := auditEnv(t)
	file := t.TempDir() + "/ev.json"
	if err := os.WriteFile(file, []byte(`{"sinse": "2025-01-01"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, env, "invoke", "auditexport", "--event", file)
	if code == 0 || !strings.Contains(lastLine(stderr), `unknown field(s) "sinse"`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if n := emu.CountRequests("GET", "/organization/audit_logs"); n != 0 {
		t.Errorf("the export ran (%d audit log requests)", n)
	}
}
