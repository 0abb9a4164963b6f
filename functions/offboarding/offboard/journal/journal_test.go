package journal

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/testenv/memobjects"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func TestKey(t *testing.T) {
	tests := []struct {
		prefix string
		at     time.Time
		email  string
		reqKey string
		want   string
	}{
		{"offboarding/", t0, "Jane.Doe@Example.com", "hr-1234", "offboarding/2026/11/23/jane.doe@example.com-" + EmailDigest("jane.doe@example.com") + "-hr-1234.json"},
		{"offboarding/", time.Date(2026, 1, 2, 23, 30, 0, 0, time.FixedZone("", -5*3600)), "a@example.com", "k",
			"offboarding/2026/01/03/a@example.com-" + EmailDigest("a@example.com") + "-k.json"}, // UTC date
		{"x/", t0, "o'brien/x@example.com", "k", "x/2026/11/23/o_brien_x@example.com-" + EmailDigest("o'brien/x@example.com") + "-k.json"},
	}
	for _, tt := range tests {
		if got := Key(tt.prefix, tt.at, tt.email, tt.reqKey); got != tt.want {
			t.Errorf("Key(%q, %v, %q, %q) = %q, want %q", tt.prefix, tt.at, tt.email, tt.reqKey, got, tt.want)
		}
	}
	// Distinct people, distinct keys, although their readable parts agree;
	// the same person in another case, the same key.
	if Key("p/", t0, "o'brien@x.example", "k") == Key("p/", t0, "o_brien@x.example", "k") {
		t.Error("o'brien and o_brien share a key")
	}
	if Key("p/", t0, "O'Brien@X.example", "k") != Key("p/", t0, " o'brien@x.example", "k") {
		t.Error("case or spaces changed the key of one person")
	}
	if EmailDigest("a@example.com") != "" && len(EmailDigest("a@example.com")) != 16 {
		t.Errorf("digest %q", EmailDigest("a@example.com"))
	}
}

func TestMergeKeepsTheMostFinalOutcome(t *testing.T) {
	mine := New("k", "jane@example.com", "r", t0)
	mine.User = &User{ID: "user-1", Email: "jane@example.com", OrgRole: "reader"}
	mine.Membership(Membership{ProjectID: "proj_a", Role: "owner", Step: Step{Outcome: Removed}})
	mine.Membership(Membership{ProjectID: "proj_b", Role: "member", Step: Step{Outcome: Failed, Error: "boom"}})
	mine.APIKey(APIKey{ID: "key_1", ProjectID: "proj_a", Name: "laptop", Step: Step{Outcome: Planned}})
	mine.Attempts = []Attempt{{RunID: "run-2", StartedAt: t0.Add(time.Minute)}}

	theirs := New("k", "jane@example.com", "r", t0.Add(-time.Minute))
	theirs.User = &User{ID: "user-1", Email: "jane@example.com", OrgRole: "owner"} // later fact: ignored
	theirs.Membership(Membership{ProjectID: "proj_a", Role: "member", Step: Step{Outcome: Planned}})
	theirs.Membership(Membership{ProjectID: "proj_b", Role: "member", Step: Step{Outcome: Removed}})
	theirs.Membership(Membership{ProjectID: "proj_c", Role: "member", Step: Step{Outcome: AlreadyGone}})
	theirs.APIKey(APIKey{ID: "key_1", ProjectID: "proj_a", Name: "laptop", Step: Step{Outcome: Removed}})
	theirs.Invite(Invite{ID: "invite-1", Email: "jane@example.com", Role: "reader", Step: Step{Outcome: Removed}})
	theirs.Organization = &Step{Outcome: Failed}
	theirs.Attempts = []Attempt{{RunID: "run-1", StartedAt: t0}}

	mine.Merge(theirs)
	mine.Finish(t0.Add(time.Hour))

	want := map[string]Outcome{"proj_a": Removed, "proj_b": Removed, "proj_c": AlreadyGone}
	for _, m := range mine.Projects {
		if m.Outcome != want[m.ProjectID] {
			t.Errorf("project %s: %s, want %s", m.ProjectID, m.Outcome, want[m.ProjectID])
		}
	}
	if mine.Projects[0].Role != "owner" {
		t.Errorf("role as first seen lost: %s", mine.Projects[0].Role)
	}
	if mine.User.OrgRole != "reader" {
		t.Errorf("user as first seen lost: %+v", mine.User)
	}
	if len(mine.APIKeys) != 1 || mine.APIKeys[0].Outcome != Removed {
		t.Errorf("keys %+v", mine.APIKeys)
	}
	if len(mine.Invites) != 1 || len(mine.Attempts) != 2 || mine.Attempts[0].RunID != "run-1" {
		t.Errorf("invites %+v attempts %+v", mine.Invites, mine.Attempts)
	}
	if !mine.CreatedAt.Equal(t0.Add(-time.Minute)) {
		t.Errorf("created_at %v", mine.CreatedAt)
	}
	if mine.Status != InProgress {
		t.Errorf("status %s, want in_progress: the organization removal failed", mine.Status)
	}
	if len(mine.NotRestorable) == 0 || !strings.Contains(mine.NotRestorable[0], "laptop") {
		t.Errorf("not restorable %q should name the revoked key", mine.NotRestorable)
	}
}

func TestFinish(t *testing.T) {
	tests := []struct {
		name string
		edit func(r *Record)
		want Status
	}{
		{"nothing to do", func(r *Record) {}, Completed},
		{"invites only, revoked", func(r *Record) { r.Invite(Invite{ID: "i", Step: Step{Outcome: Removed}}) }, Completed},
		{"invite planned", func(r *Record) { r.Invite(Invite{ID: "i", Step: Step{Outcome: Planned}}) }, InProgress},
		{"user not yet removed", func(r *Record) { r.User = &User{ID: "u"} }, InProgress},
		{"user removed, skipped key", func(r *Record) {
			r.User = &User{ID: "u"}
			r.Organization = &Step{Outcome: Removed}
			r.APIKey(APIKey{ID: "k", Step: Step{Outcome: Skipped}})
		}, Completed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New("k", "a@example.com", "r", t0)
			tt.edit(r)
			r.Finish(t0)
			if r.Status != tt.want {
				t.Errorf("status %s, want %s", r.Status, tt.want)
			}
		})
	}
}

// newStore keeps the journal in memory: the store's logic needs no S3
// server (testenv/memobjects answers as the local S3 does, and the
// offboarding tests run the journal against that server).
func newStore(t *testing.T) *Store {
	t.Helper()
	return &Store{S3: memobjects.New(), Bucket: "journal"}
}

func TestStoreWritesAheadAndMergesConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	key := Key(DefaultPrefix, t0, "jane@example.com", "hr-1")
	fresh := func() *Record { return New(key, "jane@example.com", "hr-1", t0) }

	a, err := st.Open(ctx, key, fresh)
	if err != nil {
		t.Fatal(err)
	}
	a.Record.Membership(Membership{ProjectID: "proj_a", Role: "member", Step: Step{Outcome: Planned}})
	if err := a.Save(ctx); err != nil {
		t.Fatalf("first save: %v", err)
	}

	// Two attempts open the same version, then both write.
	b, err := st.Open(ctx, key, fresh)
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.Open(ctx, key, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Record.Projects) != 1 {
		t.Fatalf("reopened record lost the plan: %+v", b.Record)
	}
	Set(&b.Record.Projects[0].Step, Removed, "", "", t0)
	c.Record.Invite(Invite{ID: "invite-1", Email: "jane@example.com", Role: "reader", Step: Step{Outcome: Removed}})
	if err := b.Save(ctx); err != nil {
		t.Fatalf("b: %v", err)
	}
	if err := c.Save(ctx); err != nil {
		t.Fatalf("c after a conflict: %v", err)
	}

	got, err := Read(ctx, st.S3, st.Bucket, DefaultPrefix, st.Location(key))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Projects) != 1 || got.Projects[0].Outcome != Removed || len(got.Invites) != 1 {
		t.Fatalf("merged record lost a writer's outcome: projects %+v invites %+v", got.Projects, got.Invites)
	}

	// A new record must not overwrite one that appeared meanwhile.
	d := &Entry{Record: fresh(), store: st}
	d.Record.APIKey(APIKey{ID: "key_9", ProjectID: "proj_a", Step: Step{Outcome: Removed}})
	if err := d.Save(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ = Read(ctx, st.S3, st.Bucket, DefaultPrefix, st.Location(key))
	if len(got.Projects) != 1 || len(got.Invites) != 1 || len(got.APIKeys) != 1 {
		t.Fatalf("create-only write clobbered the record: %+v", got)
	}
}

func TestReadTrustsOnlyIntactRecordsInTheJournal(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	key := Key(DefaultPrefix, t0, "jane@example.com", "hr-1")
	e, err := st.Open(ctx, key, func() *Record { return New(key, "jane@example.com", "hr-1", t0) })
	if err != nil {
		t.Fatal(err)
	}
	e.Record.User = &User{ID: "user-1", Email: "jane@example.com", OrgRole: "reader"}
	if err := e.Save(ctx); err != nil {
		t.Fatal(err)
	}
	obj, err := st.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("journal"), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	good, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	sum := obj.Metadata[MetaChecksum]
	if sum == "" || !strings.Contains(string(good), sum) {
		t.Fatalf("Save wrote no checksum: metadata %v", obj.Metadata)
	}

	put := func(k, body string, meta map[string]string) string {
		t.Helper()
		if _, err := st.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("journal"), Key: aws.String(k),
			Body: strings.NewReader(body), Metadata: meta}); err != nil {
			t.Fatal(err)
		}
		return "s3://journal/" + k
	}
	// An outsider as owner, by hand: the checksum no longer matches.
	forged := strings.Replace(string(good), `"org_role": "reader"`, `"org_role": "owner"`, 1)
	// Same, with the in-record checksum recomputed: the metadata still disagrees.
	var r Record
	if err := json.Unmarshal([]byte(forged), &r); err != nil {
		t.Fatal(err)
	}
	r.Checksum, _ = Sum(&r)
	resummed, _ := json.Marshal(&r)
	var legacy Record
	_ = json.Unmarshal(good, &legacy)
	legacy.Checksum = ""
	unsummed, _ := json.Marshal(&legacy)
	dir := t.TempDir()
	file := filepath.Join(dir, "good.json")
	if err := os.WriteFile(file, good, 0o600); err != nil {
		t.Fatal(err)
	}
	day := DefaultPrefix + "2026/11/23/"
	tests := []struct {
		name, loc, wantErr string
	}{
		{"written by orgwarden", "s3://journal/" + key, ""},
		{"local file", file, "never from a local file"},
		{"another bucket", "s3://elsewhere/" + key, "not the journal bucket"},
		{"another prefix", put("uploads/2026/11/23/jane.json", string(good), map[string]string{MetaChecksum: sum}), "not a record under the journal prefix"},
		{"a preview", put(DefaultPrefix+"previews/2026/11/23/jane.json", string(good), map[string]string{MetaChecksum: sum}), "not a record under"},
		{"tampered", put(day+"tampered.json", forged, map[string]string{MetaChecksum: sum}), "does not match its checksum"},
		{"tampered, checksum recomputed", put(day+"resummed.json", string(resummed), map[string]string{MetaChecksum: sum}), "metadata"},
		{"intact copy under another key", put(day+"copy.json", string(good), map[string]string{MetaChecksum: sum}), "is the record of"},
		{"no checksum", put(day+"legacy.json", string(unsummed), nil), "no checksum"},
		{"missing", "s3://journal/" + day + "missing.json", "does not exist"},
		{"not a key", "s3://journal", "not s3://bucket/key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := Read(ctx, st.S3, "journal", DefaultPrefix, tt.loc)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Read(%s): %v", tt.loc, err)
			case tt.wantErr == "" && (rec.Email != "jane@example.com" || rec.User.OrgRole != "reader"):
				t.Errorf("Read(%s) = %+v", tt.loc, rec)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Read(%s) error %v, want %q", tt.loc, err, tt.wantErr)
			}
		})
	}
}
