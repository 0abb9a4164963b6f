package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/inventory/snapshot"
	"github.com/orgwarden/orgwarden/functions/inventory/tables"
)

func TestRunInventoryVerifyAndReportAccess(t *testing.T) {
	env, emu, s3srv := auditEnv(t)
	code, stdout, stderr := runCLI(t, env, "run", "inventory")
	if code != 0 {
		t.Fatalf("run inventory: exit %d\n%s", code, stderr)
	}
	var res snapshot.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not the run's JSON summary: %v\n%s", err, stdout)
	}
	if res.Outcome != snapshot.Written || len(res.Tables) != len(tables.All) || res.APICalls == 0 {
		t.Fatalf("result %+v", res)
	}
	for _, s := range emu.IssuedSecrets() {
		if strings.Contains(stdout+stderr, s) {
			t.Fatal("key material in the CLI's output")
		}
	}
	// The same day again writes nothing.
	if code, stdout, _ = runCLI(t, env, "run", "inventory"); code != 0 || !strings.Contains(stdout, `"outcome": "already_complete"`) {
		t.Fatalf("second run: exit %d\n%s", code, stdout)
	}

	code, stdout, stderr = runCLI(t, env, "verify", "--bucket", "cli-audit", "--inventory")
	if code != 0 || !strings.Contains(stdout, "inventory: OK") {
		t.Fatalf("verify --inventory: exit %d\n%s%s", code, stdout, stderr)
	}

	// The access review of today, printed as a table and written as CSV and Markdown.
	dir := t.TempDir()
	today := time.Now().UTC().Format(time.DateOnly)
	code, stdout, stderr = runCLI(t, env, "report", "access", "--as-of", today, "--out", dir)
	if code != 0 {
		t.Fatalf("report access: exit %d\n%s", code, stderr)
	}
	owner := ""
	for _, u := range emu.Users() {
		if u.Role == "owner" {
			owner = u.Email
		}
	}
	for _, want := range []string{"Access review of org-cli as of " + today, "Roles (", "API keys (", "Service accounts (", "Pending invites (", owner} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	for _, ext := range []string{".csv", ".md"} {
		b, err := os.ReadFile(filepath.Join(dir, "access-review-org-cli-"+today+ext))
		if err != nil || !strings.Contains(string(b), owner) {
			t.Errorf("%s file: %v", ext, err)
		}
	}
	if code, _, _ = runCLI(t, env, "report", "access", "--as-of", "2001-01-01", "--out", ""); code != 1 {
		t.Errorf("a review before any snapshot: exit %d, want 1", code)
	}
	if code, _, _ = runCLI(t, env, "report", "access", "--as-of", "yesterday"); code != 2 {
		t.Errorf("a bad date: exit %d, want 2", code)
	}

	// One object changed: verify says so and exits 1.
	l := snapshot.Layout{Prefix: snapshot.DefaultPrefix, OrgID: "org-cli"}
	key := l.ObjectKey("users", today)
	if _, err := s3srv.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("cli-audit"), Key: aws.String(key),
		Body: strings.NewReader("changed")}); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runCLI(t, env, "verify", "--bucket", "cli-audit", "--inventory")
	if code != 1 || !strings.Contains(stdout, key) {
		t.Fatalf("verify after a change: exit %d\n%s", code, stdout)
	}
}
