package offboard

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/testenv/logtest"
)

// sentNow is an SQS message sent now (the emulator's users were added
// just before, so a replay's rejoin check lets them through).
func sentNow(id, body string, receiveCount int) events.SQSMessage {
	m := sqsMessage(id, body, receiveCount)
	m.Attributes["SentTimestamp"] = strconv.FormatInt(time.Now().Add(time.Second).UnixMilli(), 10)
	return m
}

func (s *stack) handler(t *testing.T, env map[string]string) *Handler {
	t.Helper()
	merged := map[string]string{}
	for k, v := range s.env {
		merged[k] = v
	}
	for k, v := range env {
		merged[k] = v
	}
	h, err := FromEnv(context.Background(), config.MapEnv(merged), app.Options{Out: s.logs})
	must(t, err)
	return h
}

func replayed(t *testing.T, results []ReplayResult) map[string]ReplayResult {
	t.Helper()
	out := map[string]ReplayResult{}
	for _, r := range results {
		out[r.Email] = r
	}
	return out
}

// TestDryRunRequestsAreReplayedOnceLive: requests the function receives
// while configured for dry run are journaled as previews, not lost; replay
// runs them through the same handler path once live, exactly once.
func TestDryRunRequestsAreReplayedOnceLive(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t, 2, 1)
	s := newStack(t, o)
	dry := map[string]string{"ORGWARDEN_DRY_RUN": "true"}
	jane := `{"email":"jane.leaver@example.com","ticket":"HR-5","reason":"left"}`
	resp := s.invoke(t, dry,
		sentNow("m-jane", jane, 1),
		sentNow("m-bob-asked-preview", `{"email":"bob.stays@example.com","dry_run":true}`, 1),
		sentNow("m-ghost", `{"email":"ghost@example.com"}`, 1))
	o.logs = &logtest.Buffer{}
	resp2 := s.invoke(t, dry, sentNow("m-jane", jane, 2)) // redelivered
	if len(resp.BatchItemFailures)+len(resp2.BatchItemFailures) != 0 {
		t.Fatalf("failures %v %v", failedIDs(resp), failedIDs(resp2))
	}
	if n := len(o.emu.MutatingRequests()); n != 0 {
		t.Fatalf("dry run sent %d changes", n)
	}
	if sum := summaries(t, o.logs.String())["m-jane"]; !strings.Contains(sum.Preview, journal.PreviewDir) {
		t.Errorf("summary does not say where the preview is: %+v", sum)
	}
	previews, err := o.store.Previews(ctx, journal.DefaultPrefix)
	must(t, err)
	deliveries := map[string]int{}
	for _, e := range previews {
		must(t, e.Err)
		deliveries[e.Preview.Email] = e.Preview.Deliveries
	}
	if len(deliveries) != 2 || deliveries["jane.leaver@example.com"] != 2 || deliveries["ghost@example.com"] != 1 {
		t.Errorf("previews by email and deliveries %v; want jane (twice) and ghost, not bob who asked for a preview", deliveries)
	}

	// Still in dry run: applying is refused; previewing changes nothing.
	if _, err := s.handler(t, dry).Replay(ctx, true); !errors.Is(err, ErrStillDryRun) {
		t.Fatalf("replay --apply under dry run: %v", err)
	}
	res, err := s.handler(t, nil).Replay(ctx, false)
	must(t, err)
	got := replayed(t, res)
	if len(res) != 2 || got["jane.leaver@example.com"].Summary == nil || got["jane.leaver@example.com"].Summary.Outcome != DryRun ||
		got["ghost@example.com"].State != journal.PreviewPending {
		t.Fatalf("replay preview: %+v", res)
	}
	if n := len(o.emu.MutatingRequests()); n != 0 {
		t.Fatalf("replay preview sent %d changes", n)
	}

	// Live: jane is offboarded through the handler, journaled, and the
	// preview is marked; bob, who only asked for a preview, is untouched.
	res, err = s.handler(t, nil).Replay(ctx, true)
	must(t, err)
	got = replayed(t, res)
	if sum := got["jane.leaver@example.com"].Summary; sum == nil || sum.Outcome != Offboarded || sum.Journal == "" {
		t.Fatalf("replay: %+v", got["jane.leaver@example.com"])
	}
	if got["ghost@example.com"].Summary.Outcome != NotFound {
		t.Errorf("ghost: %+v", got["ghost@example.com"].Summary)
	}
	if m, k, i, u := o.remaining(o.person); m+k+i > 0 || u {
		t.Errorf("jane left behind: %d memberships, %d keys, %d invites, user %v", m, k, i, u)
	}
	if _, _, _, u := o.remaining(o.bystander); !u {
		t.Errorf("bob, whose message asked only for a preview, was offboarded")
	}

	// Again: nothing to do, nothing sent.
	before := len(o.emu.MutatingRequests())
	res, err = s.handler(t, nil).Replay(ctx, true)
	must(t, err)
	for _, r := range res {
		if r.State != journal.PreviewReplayed || r.Summary != nil {
			t.Errorf("second replay: %+v", r)
		}
	}
	if n := len(o.emu.MutatingRequests()) - before; n != 0 {
		t.Errorf("second replay sent %d changes", n)
	}
}

// TestReplayRefusesTamperedPreviewsAndRejoinedPeople: a preview edited in
// the bucket is reported, never replayed; a person who joined after the
// request was sent is not the person it was about.
func TestReplayRefusesTamperedPreviewsAndRejoinedPeople(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t, 1, 0)
	s := newStack(t, o)
	dry := map[string]string{"ORGWARDEN_DRY_RUN": "true"}
	// Sent before bob and jane joined (sqsMessage's fixed send time).
	old := sqsMessage("m-jane", `{"email":"jane.leaver@example.com"}`, 1)
	old.Attributes["SentTimestamp"] = strconv.FormatInt(time.Now().Add(-time.Hour).UnixMilli(), 10)
	resp := s.invoke(t, dry, old, sentNow("m-bob", `{"email":"bob.stays@example.com"}`, 1))
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", failedIDs(resp))
	}
	// Someone points bob's preview at the organization's owner.
	var bobKey string
	for _, k := range listJournal(t, o) {
		if strings.Contains(k, "bob.stays") {
			bobKey = k
		}
	}
	obj, err := o.store.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(journalBucket), Key: aws.String(bobKey)})
	must(t, err)
	body, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	must(t, err)
	owner := o.emu.Users()[0].Email
	tampered := strings.ReplaceAll(string(body), "bob.stays@example.com", owner)
	_, err = o.store.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(journalBucket), Key: aws.String(bobKey),
		Body: strings.NewReader(tampered), Metadata: obj.Metadata})
	must(t, err)

	res, err := s.handler(t, nil).Replay(ctx, true)
	if err == nil {
		t.Fatal("replay reported no problem")
	}
	if n := len(o.emu.MutatingRequests()); n != 0 {
		t.Errorf("replay sent %d changes", n)
	}
	for _, r := range res {
		switch {
		case strings.Contains(r.Preview, "bob.stays"):
			if !strings.Contains(r.Error, "checksum") || r.Summary != nil {
				t.Errorf("tampered preview: %+v", r)
			}
		case r.Email == "jane.leaver@example.com":
			if r.Summary == nil || r.Summary.Outcome != Refused || !strings.Contains(r.Error, "joined after the request") {
				t.Errorf("rejoined jane: %+v", r)
			}
		}
	}
}

// TestPreviewKeepsKeyMaterialOut: a key pasted into a request received in
// dry run is masked in the preview, as in the journal and the logs.
func TestPreviewKeepsKeyMaterialOut(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t, 1, 1)
	s := newStack(t, o)
	planted := "sk-proj-" + strings.Repeat("Zq9", 12)
	resp := s.invoke(t, map[string]string{"ORGWARDEN_DRY_RUN": "true"},
		sentNow("m-1", `{"email":"jane.leaver@example.com","reason":"old key was `+planted+`"}`, 1))
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", failedIDs(resp))
	}
	keys := listJournal(t, o)
	if len(keys) != 1 {
		t.Fatalf("journal %v, want one preview", keys)
	}
	obj, err := o.store.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(journalBucket), Key: aws.String(keys[0])})
	must(t, err)
	body, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	must(t, err)
	if strings.Contains(string(body), planted) || strings.Contains(o.logs.String(), planted) {
		t.Error("the planted key reached the preview or the logs")
	}
	if !strings.Contains(string(body), "old key was sk-proj-") {
		t.Error("the preview lost the request's reason")
	}
}
