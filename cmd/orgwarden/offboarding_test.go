package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	"github.com/orgwarden/orgwarden/testenv/awslocal"
	locals3 "github.com/orgwarden/orgwarden/testenv/awslocal/s3"
	"github.com/orgwarden/orgwarden/testenv/awslocal/s3/s3test"
	"github.com/orgwarden/orgwarden/testenv/awslocal/sqs/sqstest"
)

// offboardingEnv serves an organization with the three people of
// functions/offboarding/examples/sqs-event.json, a journal bucket and a
// dead-letter queue, and returns the environment the function reads.
func offboardingEnv(t *testing.T) (map[string]string, *adminapi.Emulator, *locals3.Server) {
	t.Helper()
	ctx := context.Background()
	srv := adminapitest.New(t, adminapi.Options{})
	emu := srv.Emulator
	proj, err := emu.AddProject(adminapi.NewProject{Name: "research"})
	if err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"alice.leaver@example.com", "bob.leaver@example.com"} {
		id, err := emu.AddUser(adminapi.NewUser{Email: email})
		if err != nil {
			t.Fatal(err)
		}
		if err := emu.AddProjectUser(proj, id, "owner"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := emu.AddProjectAPIKey(proj, adminapi.NewProjectAPIKey{Name: "notebook", OwnerUserID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := emu.AddInvite(adminapi.NewInvite{Email: "carol.leaver@example.com"}); err != nil {
		t.Fatal(err)
	}
	s3srv := s3test.New(t)
	if err := s3srv.CreateBucket(ctx, "journal"); err != nil {
		t.Fatal(err)
	}
	sqsSrv := sqstest.New(t)
	dlq, err := sqsSrv.CreateQueue(ctx, "offboarding-dlq", nil)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"OPENAI_BASE_URL":          srv.URL,
		"OPENAI_ADMIN_KEY":         srv.AdminKey,
		"ORGWARDEN_DLQ_URL":        dlq,
		"ORGWARDEN_JOURNAL_BUCKET": "journal",
		"AWS_ENDPOINT_URL_S3":      s3srv.URL,
		"AWS_ENDPOINT_URL_SQS":     sqsSrv.URL,
		"AWS_REGION":               awslocal.Region,
		"AWS_ACCESS_KEY_ID":        awslocal.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":    awslocal.SecretAccessKey,
	}, emu, s3srv
}

func TestInvokeOffboardingThenRestore(t *testing.T) {
	env, emu, s3srv := offboardingEnv(t)
	event := filepath.Join("..", "..", "functions", "offboarding", "examples", "sqs-event.json")

	code, stdout, stderr := runCLI(t, env, "invoke", "offboarding", "--event", event)
	if code != 0 {
		t.Fatalf("invoke exit %d: %s", code, stderr)
	}
	var resp struct {
		BatchItemFailures []any `json:"batchItemFailures"`
	}
	if err := json.Unmarshal([]byte(stdout), &resp); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("invoke printed %q (%v)", stdout, err)
	}
	if n := len(emu.Users()); n != 1 {
		t.Errorf("%d users left, want only the organization's owner", n)
	}
	if n := len(emu.Invites()); n != 0 {
		t.Errorf("%d invites left", n)
	}
	for _, s := range emu.IssuedSecrets() {
		if strings.Contains(stdout+stderr, s) {
			t.Fatal("a key value appears in the CLI's output")
		}
	}

	list, err := s3srv.Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("journal")})
	if err != nil {
		t.Fatal(err)
	}
	var aliceKey string
	for _, o := range list.Contents {
		if strings.Contains(*o.Key, "alice.leaver@example.com-") && strings.HasSuffix(*o.Key, "-hr-4711.json") {
			aliceKey = *o.Key
		}
	}
	if len(list.Contents) != 3 || !strings.HasPrefix(aliceKey, "offboarding/2026/11/23/alice.leaver@example.com-") {
		t.Fatalf("journal objects %d, alice's %q", len(list.Contents), aliceKey)
	}

	mutations := len(emu.MutatingRequests())
	// A preview, asked for or by default: without --apply nothing changes.
	for _, preview := range [][]string{{"--dry-run"}, {}} {
		code, stdout, stderr = runCLI(t, env, append([]string{"restore", "--record", "s3://journal/" + aliceKey}, preview...)...)
		if code != 0 || !strings.Contains(stdout, "would_do: invite") || !strings.Contains(stdout, `"notebook"`) {
			t.Fatalf("restore %v exit %d\nstdout %s\nstderr %s", preview, code, stdout, stderr)
		}
		if n := len(emu.MutatingRequests()); n != mutations {
			t.Fatalf("restore %v (a preview) sent %d mutating requests", preview, n-mutations)
		}
	}
	if code, _, stderr := runCLI(t, env, "restore", "--record", "s3://journal/"+aliceKey, "--apply", "--dry-run"); code != exitUsage || !strings.Contains(stderr, "contradict") {
		t.Fatalf("restore --apply --dry-run: exit %d, %s", code, stderr)
	}

	code, stdout, stderr = runCLI(t, env, "restore", "--record", "s3://journal/"+aliceKey, "--apply", "--output", "json")
	if code != 0 {
		t.Fatalf("restore exit %d: %s", code, stderr)
	}
	var rep struct {
		Actions []struct{ What, Outcome string }
		Next    string
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Actions) != 1 || rep.Actions[0].Outcome != "created" || rep.Next == "" {
		t.Fatalf("restore report %s (%v)", stdout, err)
	}
	invites := emu.Invites()
	if len(invites) != 1 || invites[0].Email != "alice.leaver@example.com" || len(invites[0].Projects) != 1 || invites[0].Projects[0].Role != "owner" {
		t.Errorf("restore invite %+v", invites)
	}
}

func TestRunOffboardingDryRun(t *testing.T) {
	env, emu, _ := offboardingEnv(t)
	code, stdout, stderr := runCLI(t, env, "run", "offboarding", "--email", "bob.leaver@example.com", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s struct {
		Outcome string
		Done    struct {
			Projects int `json:"projects"`
			APIKeys  int `json:"api_keys"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil || s.Outcome != "dry_run" || s.Done.Projects != 1 || s.Done.APIKeys != 1 {
		t.Fatalf("summary %s (%v)", stdout, err)
	}
	if n := len(emu.MutatingRequests()); n != 0 {
		t.Errorf("dry run sent %d mutating requests", n)
	}
	code, _, stderr = runCLI(t, env, "run", "offboarding", "--email", "not-an-email")
	if code != 1 || !strings.Contains(stderr, "exactly one @") {
		t.Errorf("bad email: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, env, "restore")
	if code != 2 || !strings.Contains(stderr, "--record is required") {
		t.Errorf("restore without --record: exit %d, stderr %q", code, stderr)
	}
}

// TestRestoreTrustsOnlyOrgwardensRecords: restore reads records only from
// the journal bucket and prefix, intact, and gives back an owner role only
// with --allow-owner. Every refusal changes nothing.
func TestRestoreTrustsOnlyOrgwardensRecords(t *testing.T) {
	ctx := context.Background()
	env, emu, s3srv := offboardingEnv(t)
	if _, err := emu.AddUser(adminapi.NewUser{Email: "olivia.owner@example.com", Role: "owner"}); err != nil {
		t.Fatal(err)
	}
	env["ORGWARDEN_ALLOW_OWNERS"] = "true"
	code, stdout, stderr := runCLI(t, env, "run", "offboarding", "--email", "olivia.owner@example.com", "--ticket", "HR-9", "--apply", "--yes")
	if code != 0 {
		t.Fatalf("offboard the owner: exit %d: %s", code, stderr)
	}
	var sum struct{ Outcome, Journal string }
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum.Outcome != "offboarded" || sum.Journal == "" {
		t.Fatalf("summary %s (%v)", stdout, err)
	}
	key := strings.TrimPrefix(sum.Journal, "s3://journal/")
	s3c := s3srv.Client()
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("journal"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	meta := obj.Metadata

	// A forged record: an outsider, as owner, from a local file.
	forged := strings.ReplaceAll(string(body), "olivia.owner@example.com", "mallory@evil.example")
	file := filepath.Join(t.TempDir(), "forged.json")
	if err := os.WriteFile(file, []byte(forged), 0o600); err != nil {
		t.Fatal(err)
	}
	put := func(k, b string) string {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("journal"), Key: aws.String(k), Body: strings.NewReader(b), Metadata: meta}); err != nil {
			t.Fatal(err)
		}
		return "s3://journal/" + k
	}
	tampered := strings.Replace(string(body), `"org_role": "owner"`, `"org_role": "owner", "name": "x"`, 1)
	tests := []struct {
		name string
		args func() []string
		want string
		exit int
	}{
		{"forged local file", func() []string { return []string{"--record", file, "--allow-owner"} }, "never from a local file", 1},
		{"another prefix", func() []string {
			return []string{"--record", put("uploads/2026/11/23/x.json", string(body)), "--allow-owner"}
		}, "not a record under the journal prefix", 1},
		{"tampered", func() []string { return []string{"--record", put(key, tampered), "--allow-owner"} }, "does not match its checksum", 1},
		{"forged in the bucket", func() []string {
			return []string{"--record", put("offboarding/2026/11/23/mallory.json", forged), "--allow-owner"}
		}, "checksum", 1},
		{"owner without --allow-owner", func() []string { return []string{"--record", put(key, string(body))} }, "--allow-owner", 1},
		{"owner with --allow-owner", func() []string { return []string{"--record", "s3://journal/" + key, "--allow-owner"} }, "", 0},
	}
	for _, tt := range tests {
		before := len(emu.MutatingRequests())
		code, stdout, stderr := runCLI(t, env, append([]string{"restore", "--apply"}, tt.args()...)...)
		if code != tt.exit || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q (stdout %s)", tt.name, code, stderr, tt.exit, tt.want, stdout)
		}
		if tt.exit != 0 {
			if n := len(emu.MutatingRequests()) - before; n != 0 {
				t.Errorf("%s: refused restore sent %d changes", tt.name, n)
			}
		}
	}
	owners := 0
	for _, in := range emu.Invites() {
		if strings.Contains(in.Email, "evil") {
			t.Errorf("an outsider was invited: %+v", in)
		}
		if in.Email == "olivia.owner@example.com" && in.Role == "owner" {
			owners++
		}
	}
	if owners != 1 {
		t.Errorf("owner re-invites %d, want 1 (invites %+v)", owners, emu.Invites())
	}
}

// TestRunOffboardingPreviewNeedsOnlyTheAdminAPI: a local preview needs no
// dead-letter queue, no bucket, no AWS at all; a real run still needs the
// journal it writes ahead.
func TestRunOffboardingPreviewNeedsOnlyTheAdminAPI(t *testing.T) {
	full, emu, _ := offboardingEnv(t)
	env := map[string]string{"OPENAI_BASE_URL": full["OPENAI_BASE_URL"], "OPENAI_ADMIN_KEY": full["OPENAI_ADMIN_KEY"]}
	for _, args := range [][]string{
		{"run", "offboarding", "--email", "bob.leaver@example.com", "--dry-run"},
	} {
		code, stdout, stderr := runCLI(t, env, args...)
		var s struct{ Outcome string }
		if code != 0 || json.Unmarshal([]byte(stdout), &s) != nil || s.Outcome != "dry_run" {
			t.Errorf("%v: exit %d, stdout %s, stderr %s", args, code, stdout, stderr)
		}
	}
	env["ORGWARDEN_DRY_RUN"] = "true"
	if code, stdout, stderr := runCLI(t, env, "run", "offboarding", "--email", "bob.leaver@example.com"); code != 0 || !strings.Contains(stdout, `"dry_run"`) {
		t.Errorf("ORGWARDEN_DRY_RUN=true: exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	delete(env, "ORGWARDEN_DRY_RUN")
	code, _, stderr := runCLI(t, env, "run", "offboarding", "--email", "bob.leaver@example.com", "--apply", "--yes")
	if code == 0 || !strings.Contains(stderr, "ORGWARDEN_JOURNAL_BUCKET") {
		t.Errorf("real run without a journal: exit %d, stderr %q", code, stderr)
	}
	if n := len(emu.MutatingRequests()); n != 0 {
		t.Errorf("%d changes sent", n)
	}
}

// TestReplayAppliesDryRunRequestsOnceLive: the example event, received by
// the function in dry run, is journaled as previews; orgwarden replay
// previews them, refuses --apply while dry run is still configured, then
// offboards the three people once, and a second replay changes nothing.
func TestReplayAppliesDryRunRequestsOnceLive(t *testing.T) {
	env, emu, _ := offboardingEnv(t)
	example, err := os.ReadFile(filepath.Join("..", "..", "functions", "offboarding", "examples", "sqs-event.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Sent after the people joined: a replay refuses people newer than the request.
	now := strconv.FormatInt(time.Now().Add(time.Second).UnixMilli(), 10)
	event := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(event, []byte(strings.ReplaceAll(string(example), "1795428000000", now)), 0o600); err != nil {
		t.Fatal(err)
	}
	env["ORGWARDEN_DRY_RUN"] = "true"
	if code, _, stderr := runCLI(t, env, "invoke", "offboarding", "--event", event); code != 0 {
		t.Fatalf("invoke in dry run: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, env, "replay", "--apply"); code == 0 || !strings.Contains(stderr, "ORGWARDEN_DRY_RUN") {
		t.Errorf("replay --apply in dry run: exit %d, stderr %q", code, stderr)
	}
	delete(env, "ORGWARDEN_DRY_RUN")
	code, stdout, stderr := runCLI(t, env, "replay")
	if code != 0 || strings.Count(stdout, " dry_run") != 3 {
		t.Errorf("replay preview: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if n := len(emu.MutatingRequests()); n != 0 {
		t.Fatalf("%d changes before --apply", n)
	}
	code, stdout, stderr = runCLI(t, env, "replay", "--apply")
	if code != 0 || strings.Count(stdout, " offboarded") != 3 {
		t.Fatalf("replay --apply: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if n := len(emu.Users()); n != 1 {
		t.Errorf("%d users left, want only the organization's owner", n)
	}
	before := len(emu.MutatingRequests())
	code, stdout, _ = runCLI(t, env, "replay", "--apply")
	if code != 0 || strings.Count(stdout, "already replayed") != 3 || len(emu.MutatingRequests()) != before {
		t.Errorf("second replay: exit %d, %d changes\n%s", code, len(emu.MutatingRequests())-before, stdout)
	}
}
