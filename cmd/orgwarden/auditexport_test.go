package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	"github.com/orgwarden/orgwarden/testenv/awslocal"
	locals3 "github.com/orgwarden/orgwarden/testenv/awslocal/s3"
	"github.com/orgwarden/orgwarden/testenv/awslocal/s3/s3test"
)

// auditEnv serves a small organization and an empty audit bucket, and
// returns the environment the export and verify read.
func auditEnv(t *testing.T) (map[string]string, *adminapi.Emulator, *locals3.Server) {
	t.Helper()
	seed := adminapi.SmallSeed(4)
	srv := adminapitest.New(t, adminapi.Options{Seed: &seed})
	s3srv := s3test.New(t)
	if err := s3srv.CreateBucket(context.Background(), "cli-audit"); err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"OPENAI_BASE_URL":        srv.URL,
		"OPENAI_ADMIN_KEY":       srv.AdminKey,
		"ORGWARDEN_RATE_LIMIT":   "0",
		"ORGWARDEN_ORG_ID":       "org-cli",
		"ORGWARDEN_AUDIT_BUCKET": "cli-audit",
		"AWS_ENDPOINT_URL_S3":    s3srv.URL,
		"AWS_REGION":             awslocal.Region,
		"AWS_ACCESS_KEY_ID":      awslocal.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":  awslocal.SecretAccessKey,
	}, srv.Emulator, s3srv
}

func TestRunAuditExportThenVerify(t *testing.T) {
	env, emu, s3srv := auditEnv(t)
	since := emu.Now().Add(-30 * 24 * time.Hour).Format(time.DateOnly)

	code, stdout, stderr := runCLI(t, env, "run", "auditexport", "--since", since)
	if code != 0 {
		t.Fatalf("run auditexport: exit %d\n%s", code, stderr)
	}
	var res export.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not the run's JSON summary: %v\n%s", err, stdout)
	}
	if res.Generation != 1 || res.Events != int64(emu.AuditEventCount()) {
		t.Fatalf("result %+v, want all %d events in generation 1", res, emu.AuditEventCount())
	}
	if !strings.Contains(stderr, "backfill: ") || !strings.Contains(stderr, "events/s") || !strings.Contains(stderr, "ETA done") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
	for _, s := range emu.IssuedSecrets() {
		if strings.Contains(stdout+stderr, s) {
			t.Fatal("key material in the CLI's output")
		}
	}

	code, stdout, stderr = runCLI(t, env, "verify", "--bucket", "cli-audit")
	if code != 0 || !strings.Contains(stdout, "OK: the digest chain and every object verify") {
		t.Fatalf("verify on a clean export: exit %d\n%s%s", code, stdout, stderr)
	}

	// One object gone: verify says which, and exits 1.
	client := s3srv.Client()
	list, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("cli-audit"), Prefix: aws.String("openai-audit-logs/org_id=org-cli/")})
	if err != nil || len(list.Contents) == 0 {
		t.Fatalf("list: %v", err)
	}
	gone := aws.ToString(list.Contents[0].Key)
	if _, err := client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("cli-audit"), Key: aws.String(gone)}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, env, "verify", "--bucket", "cli-audit", "--prefix", "openai-audit-logs")
	if code != 1 || !strings.Contains(stdout, "missing object") || !strings.Contains(stdout, gone) || !strings.Contains(stderr, "does not verify") {
		t.Fatalf("verify after a deletion: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

func TestAuditExportCommandUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"run help", []string{"run", "auditexport", "--help"}, 0, "--since", ""},
		{"until before since", []string{"run", "auditexport", "--since", "2025-02-01", "--until", "2025-01-01"}, 2, "", "is not after"},
		{"bad date", []string{"run", "auditexport", "--since", "last tuesday"}, 2, "", "want a date"},
		{"verify help", []string{"verify", "--help"}, 0, "--bucket", ""},
		{"verify without bucket", []string{"verify"}, 2, "", "--bucket is required"},
		{"invoke knows it", []string{"invoke", "auditexport", "--help"}, 0, "--event", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
		})
	}
}

// The progress printer rewrites its line on a terminal and prints one line
// per update elsewhere.
func TestProgressPrinter(t *testing.T) {
	var b bytes.Buffer
	p := newProgressPrinter(&b)
	p.print(export.Progress{Job: "backfill", Events: 10, Rate: 5, Fraction: 0.5, ETA: 2 * time.Second})
	p.print(export.Progress{Job: "backfill", Events: 20, Rate: 5, Fraction: 1, Done: true})
	p.end()
	want := "backfill: 10 events (0 already exported), 5 events/s, 50.0% of the range, ETA ~2s\n" +
		"backfill: 20 events (0 already exported), 5 events/s, 100.0% of the range, ETA done\n"
	if b.String() != want {
		t.Fatalf("got %q\nwant %q", b.String(), want)
	}
	tty := &progressPrinter{w: &b, tty: true}
	b.Reset()
	tty.print(export.Progress{Job: "incremental", Events: 1})
	tty.end()
	if got := b.String(); !strings.HasPrefix(got, "\r\033[K") || !strings.HasSuffix(got, "\n") {
		t.Fatalf("terminal output %q", got)
	}
}

// exportedLines counts the event lines of every data object in the bucket.
func exportedLines(t *testing.T, s3srv *locals3.Server, bucket string) map[string]int {
	t.Helper()
	client := s3srv.Client()
	store := objects.NewStore(client, bucket, objects.Options{})
	count := map[string]int{}
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("openai-audit-logs/org_id=")})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			if _, err := store.Read(context.Background(), aws.ToString(o.Key), func(l objects.Line) error {
				count[l.ID]++
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return count
}

// `run auditexport --since X --until Y` backfills [X, Y) and then exports
// from Y-lookback to now in the same run: every event reaches the bucket
// once, the backfill's last window included.
func TestRunAuditExportUntilIsExactlyOnce(t *testing.T) {
	env, emu, s3srv := auditEnv(t)
	now := emu.Now().Unix()
	for i := range 2 * 24 * 12 {
		raw := fmt.Sprintf(`{"id":"audit_log-cli%04d","type":"project.updated","effective_at":%d}`, i, now-2*86400+int64(i)*300)
		if err := emu.AppendAuditEvent([]byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	since, until := fmt.Sprint(now-60*86400), fmt.Sprint(now-86400)
	code, stdout, stderr := runCLI(t, env, "run", "auditexport", "--since", since, "--until", until, "--quiet")
	if code != 0 {
		t.Fatalf("run auditexport: exit %d\n%s", code, stderr)
	}
	var res export.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("summary: %v\n%s", err, stdout)
	}
	lines := exportedLines(t, s3srv, "cli-audit")
	total := 0
	for id, n := range lines {
		total += n
		if n > 1 {
			t.Errorf("%s exported %d times", id, n)
		}
	}
	if want := emu.AuditEventCount(); total != want || len(lines) != want {
		t.Fatalf("%d lines (%d distinct events) in S3, %d events in the emulator; summary %+v", total, len(lines), want, res)
	}
	if res.Duplicates == 0 {
		t.Errorf("the incremental job re-read the backfill's last window and reports no duplicate skipped: %+v", res)
	}
}

// A deleted checkpoint: the next run refuses in one line that names the
// recovery command, writes nothing, and the command rebuilds the checkpoint
// from the digest chain; the export stays exactly once and verifies.
func TestRunAuditExportLostCheckpoint(t *testing.T) {
	env, emu, s3srv := auditEnv(t)
	since := emu.Now().Add(-30 * 24 * time.Hour).Format(time.DateOnly)
	if code, _, stderr := runCLI(t, env, "run", "auditexport", "--since", since, "--quiet"); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	client := s3srv.Client()
	if _, err := client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("cli-audit"), Key: aws.String("openai-audit-logs/_state/org_id=org-cli/checkpoint.json")}); err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		raw := fmt.Sprintf(`{"id":"audit_log-lost%02d","type":"project.updated","effective_at":%d}`, i, emu.Now().Unix()-int64(i))
		if err := emu.AppendAuditEvent([]byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	code, _, stderr := runCLI(t, env, "run", "auditexport", "--quiet")
	errLine := ""
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if strings.Contains(l, "checkpoint missing") {
			errLine = l
		}
	}
	if code == 0 || !strings.Contains(errLine, "--rebuild-checkpoint") {
		t.Fatalf("run without its checkpoint: exit %d, want a refusal naming --rebuild-checkpoint\n%s", code, stderr)
	}
	code, stdout, stderr := runCLI(t, env, "run", "auditexport", "--rebuild-checkpoint", "--quiet")
	if code != 0 || !strings.Contains(stdout, `"checkpoint_rebuilt": true`) {
		t.Fatalf("rebuild: exit %d\n%s\n%s", code, stdout, stderr)
	}
	lines := exportedLines(t, s3srv, "cli-audit")
	total := 0
	for _, n := range lines {
		total += n
	}
	if want := emu.AuditEventCount(); total != want || len(lines) != want {
		t.Fatalf("%d lines (%d distinct) in S3, %d events in the emulator", total, len(lines), want)
	}
	if code, stdout, stderr := runCLI(t, env, "verify", "--bucket", "cli-audit"); code != 0 {
		t.Fatalf("verify after the rebuild: exit %d\n%s%s", code, stdout, stderr)
	}
}

// Behind a server (or proxy) that drops If-None-Match and If-Match, the
// export refuses with one clear line instead of silently losing its
// exactly-once guarantee.
func TestRunAuditExportRefusesServerIgnoringConditions(t *testing.T) {
	env, emu, s3srv := auditEnv(t)
	s3srv.IgnoreConditions(true)
	since := emu.Now().Add(-30 * 24 * time.Hour).Format(time.DateOnly)
	code, _, stderr := runCLI(t, env, "run", "auditexport", "--since", since, "--quiet")
	if code == 0 || !strings.Contains(stderr, "does not honour conditional writes") {
		t.Fatalf("run against a server ignoring conditions: exit %d\n%s", code, stderr)
	}
	if n := len(exportedLines(t, s3srv, "cli-audit")); n != 0 {
		t.Fatalf("%d events exported against a server ignoring conditions", n)
	}
}
