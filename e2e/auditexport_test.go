package e2e_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/e2e"
	"github.com/orgwarden/orgwarden/e2e/harness"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/checkpoint"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/verify"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// exportResult is the part of the auditexport response the tests read.
type exportResult struct {
	RunID      string `json:"run_id"`
	Skipped    string `json:"skipped"`
	Recovered  int64  `json:"recovered_generation"`
	Generation int64  `json:"generation"`
	Events     int64  `json:"events_exported"`
	Duplicates int64  `json:"duplicates_skipped"`
	Objects    int    `json:"objects_written"`
	Pending    bool   `json:"pending"`
	ListCalls  int64  `json:"list_calls"`
	Jobs       []struct {
		Kind     string `json:"kind"`
		Complete bool   `json:"complete"`
	} `json:"jobs"`
}

// scheduledRuleEvent is what an EventBridge scheduled rule delivers.
func scheduledRuleEvent(rule string) string {
	return fmt.Sprintf(`{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events",`+
		`"account":"000000000000","time":%q,"region":"us-east-1","resources":["arn:aws:events:us-east-1:000000000000:rule/%s"],"detail":{}}`,
		time.Now().UTC().Format(time.RFC3339), rule)
}

// TestAuditExport: the schedule's first run, a backfill of the whole
// history, new and late events, a run with nothing new; after each run the
// bucket holds every event of the organization exactly once, and the
// export verifies.
func TestAuditExport(t *testing.T) {
	d := deploy(t, deployOptions{})
	fn := d.function("auditexport", harness.FunctionOptions{})
	emu := d.Emulator
	dataPrefix := fmt.Sprintf("%s/org_id=%s/", d.Config.AuditExport.Prefix, harness.OrgID)

	assertExported := func(when string) []e2e.ExportedEvent {
		t.Helper()
		got, _, err := e2e.ReadExport(t.Context(), d.AWS.S3.Client(), d.Res.AuditBucket, dataPrefix)
		if err != nil {
			t.Fatal(err)
		}
		if dups, missing, extra := e2e.Diff(got, emu.AuditEventIDs()); len(dups)+len(missing)+len(extra) > 0 {
			t.Fatalf("%s: %d exported lines for %d events: %d duplicated %v, %d missing %v, %d not in the organization %v",
				when, len(got), emu.AuditEventCount(), len(dups), head(dups), len(missing), head(missing), len(extra), head(extra))
		}
		return got
	}

	// 1. EventBridge Scheduler's input: the schedule's first run exports
	// the lookback window.
	var first exportResult
	fn.ok(`{}`, &first)
	if first.Generation != 1 || first.Pending || first.Skipped != "" {
		t.Fatalf("first scheduled run: %+v", first)
	}

	// 2. A backfill, as an operator invokes it, reaches back over the
	// whole seeded history (28 days).
	var backfill exportResult
	fn.ok(fmt.Sprintf(`{"since":%q}`, time.Now().AddDate(0, 0, -40).UTC().Format(time.DateOnly)), &backfill)
	if backfill.Generation != 2 || backfill.Pending || backfill.Events == 0 {
		t.Fatalf("backfill: %+v", backfill)
	}
	if total := first.Events + backfill.Events; total != int64(emu.AuditEventCount()) {
		t.Errorf("first run %d + backfill %d events, the organization has %d", first.Events, backfill.Events, emu.AuditEventCount())
	}
	assertExported("after the backfill")

	// 3. New events, and one that becomes visible late (inside the lookback
	// window), delivered by a scheduled rule.
	now := time.Now().Unix()
	for i := range 120 {
		appendEvent(t, emu, fmt.Sprintf("audit_log-e2e-new%03d", i), now-int64(i))
	}
	appendEvent(t, emu, "audit_log-e2e-late", now-40*60)
	var third exportResult
	fn.ok(scheduledRuleEvent("orgwarden-auditexport"), &third)
	if third.Events != 121 || third.Generation != 3 {
		t.Fatalf("run after 121 new events: %+v", third)
	}
	assertExported("after new and late events")

	// 4. Nothing new: every event read again in the lookback window is a
	// duplicate, nothing is written but the generation's digest.
	var idle exportResult
	fn.ok(`{}`, &idle)
	if idle.Events != 0 || idle.Objects != 0 || idle.Generation != 4 || idle.Duplicates == 0 {
		t.Fatalf("run with nothing new: %+v", idle)
	}
	exported := assertExported("after a run with nothing new")
	t.Logf("%d events in the bucket; the idle run made %d list calls", len(exported), idle.ListCalls)

	// The export verifies: digest chain, objects, checkpoint.
	rep, err := verify.Verify(t.Context(), d.AWS.S3.Client(), verify.Options{Bucket: d.Res.AuditBucket, StateBucket: d.Res.AuditStateBucket, Prefix: d.Config.AuditExport.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		var b strings.Builder
		_ = rep.Write(&b)
		t.Fatalf("the export does not verify:\n%s", b.String())
	}

	// One summary per run on the bus; nothing was ever sent but reads.
	if n := busSummaries(d, "auditexport"); n != 4 {
		t.Errorf("%d summaries on the bus for 4 runs", n)
	}
	if m := emu.MutatingRequests(); len(m) != 0 {
		t.Errorf("the export sent %d mutating requests to the Admin API, e.g. %s %s", len(m), m[0].Method, m[0].Path)
	}
	_ = fn.Close()
	got := fn.assertMetrics("EventsExported", "ObjectsWritten", "ExportLagSeconds", "RunDurationMs")
	if got["EventsExported"] != float64(len(exported)) {
		t.Errorf("EventsExported metrics sum to %v, the bucket holds %d events", got["EventsExported"], len(exported))
	}
	if fn.ColdStarts() != 1 {
		t.Errorf("%d cold starts for 4 warm invocations", fn.ColdStarts())
	}
}

// TestAuditExportStopsBeforeTheDeadline: a backfill longer than the
// function's timeout stops cleanly before Lambda would kill it (a success
// with the job pending), and the next scheduled runs finish it, exactly
// once.
func TestAuditExportStopsBeforeTheDeadline(t *testing.T) {
	d := deploy(t, deployOptions{faults: adminapi.Faults{Latency: 120 * time.Millisecond}})
	fn := d.function("auditexport", harness.FunctionOptions{Timeout: 4 * time.Second})
	dataPrefix := fmt.Sprintf("%s/org_id=%s/", d.Config.AuditExport.Prefix, harness.OrgID)

	var first exportResult
	res := fn.ok(fmt.Sprintf(`{"since":%q}`, time.Now().AddDate(0, 0, -30).UTC().Format(time.DateOnly)), &first)
	if !first.Pending || res.TimedOut {
		t.Fatalf("backfill under a 4 s timeout: pending=%v timed out=%v (%+v): the test needs a run that cannot finish in time", first.Pending, res.TimedOut, first)
	}
	if res.Duration >= 4*time.Second {
		t.Errorf("the run answered after %v, at or past its 4 s deadline", res.Duration)
	}
	runs := 1
	for last := first; last.Pending; runs++ {
		if runs > 40 {
			t.Fatalf("still pending after %d runs", runs)
		}
		last = exportResult{}
		r := fn.ok(`{}`, &last)
		if r.TimedOut {
			t.Fatalf("run %d timed out", runs+1)
		}
	}
	got, _, err := e2e.ReadExport(t.Context(), d.AWS.S3.Client(), d.Res.AuditBucket, dataPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if dups, missing, extra := e2e.Diff(got, d.Emulator.AuditEventIDs()); len(dups)+len(missing)+len(extra) > 0 {
		t.Fatalf("after %d deadline-bounded runs: %d duplicated, %d missing, %d extra", runs, len(dups), len(missing), len(extra))
	}
	t.Logf("a 30-day backfill at 120 ms per call finished in %d runs of at most 4 s", runs)
}

func appendEvent(t *testing.T, emu *adminapi.Emulator, id string, at int64) {
	t.Helper()
	raw := fmt.Sprintf(`{"id":%q,"type":"project.updated","effective_at":%d,"actor":{"type":"session"},"project.updated":{"id":"proj_e2e"}}`, id, at)
	if err := emu.AppendAuditEvent([]byte(raw)); err != nil {
		t.Fatal(err)
	}
}

// busSummaries counts the summaries function published on the bus.
func busSummaries(d *deployment, function string) int {
	n := 0
	for _, e := range d.AWS.EventBridge.Events() {
		if e.DetailType == "orgwarden."+function+".summary" && e.Source == "orgwarden" {
			n++
		}
	}
	return n
}

func head(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

// TestAuditExportOperatorAndBucketFaults: under the soak's API faults, what
// an operator or a bucket does wrong. A lost checkpoint is refused (one
// line naming the recovery) and rebuilt from the digest chain; objects
// squatting the keys the next run writes are flagged, never adopted; a
// server that ignores conditional writes is refused by a new container.
// Every event ends in the bucket exactly once, foreign objects aside, and
// verify reports only those.
func TestAuditExportOperatorAndBucketFaults(t *testing.T) {
	_, seed := soakSettings(t)
	d := deploy(t, deployOptions{faults: soakFaults(seed), unvalidated: true})
	emu := d.Emulator
	fn := d.function("auditexport", harness.FunctionOptions{})
	client := d.AWS.S3.Client()
	prefix := d.Config.AuditExport.Prefix
	dataPrefix := fmt.Sprintf("%s/org_id=%s/", prefix, harness.OrgID)
	stateKey := fmt.Sprintf("%s/_state/org_id=%s/checkpoint.json", prefix, harness.OrgID)

	var first exportResult
	fn.ok(fmt.Sprintf(`{"since":%q}`, time.Now().AddDate(0, 0, -30).UTC().Format(time.DateOnly)), &first)

	// 1. Lost checkpoint.
	if _, err := client.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(d.Res.AuditStateBucket), Key: aws.String(stateKey)}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	for i := range 50 {
		appendEvent(t, emu, fmt.Sprintf("audit_log-e2e-lost%03d", i), now-int64(i))
	}
	res := fn.invoke(`{}`, runtimeapi.InvokeOptions{})
	if !res.Failed() || !strings.Contains(res.ErrorMessage, "rebuild-checkpoint") {
		t.Fatalf("run without a checkpoint: %s %s", res.ErrorType, res.ErrorMessage)
	}
	var rebuilt struct {
		exportResult
		Rebuilt bool `json:"checkpoint_rebuilt"`
	}
	fn.ok(`{"rebuild_checkpoint":true}`, &rebuilt)
	if !rebuilt.Rebuilt || rebuilt.Generation != first.Generation+1 {
		t.Fatalf("rebuild: %+v", rebuilt)
	}

	// 2. Squatted keys: the next generation's first slices, in today's
	// partition, taken before it runs.
	st := readCheckpoint(t, client, d.Res.AuditStateBucket, stateKey)
	day := time.Now().UTC()
	var squatted []string
	for s := st.NextSlice; s < st.NextSlice+2; s++ {
		key := fmt.Sprintf("%syear=%04d/month=%02d/day=%02d/g%010d-s%06d-0000.jsonl.gz", dataPrefix, day.Year(), int(day.Month()), day.Day(), st.Generation+1, s)
		if _, err := client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(d.Res.AuditBucket), Key: aws.String(key), Body: bytes.NewReader(forged(t))}); err != nil {
			t.Fatal(err)
		}
		squatted = append(squatted, key)
	}
	for i := range 50 {
		appendEvent(t, emu, fmt.Sprintf("audit_log-e2e-squat%03d", i), time.Now().Unix()-int64(i))
	}
	var squat struct {
		exportResult
		Foreign []string `json:"foreign_objects"`
	}
	fn.ok(`{}`, &squat)
	if len(squat.Foreign) == 0 {
		t.Fatalf("run over squatted keys %v reported no foreign object: %+v", squatted, squat)
	}

	// 3. A server that drops conditions: a new container refuses.
	d.AWS.S3.IgnoreConditions(true)
	cold := d.function("auditexport", harness.FunctionOptions{})
	res = cold.invoke(`{}`, runtimeapi.InvokeOptions{})
	if !res.Failed() || !strings.Contains(res.ErrorMessage, "does not honour conditional writes") {
		t.Fatalf("run against a server ignoring conditions: %s %s", res.ErrorType, res.ErrorMessage)
	}
	d.AWS.S3.IgnoreConditions(false)
	fn.ok(`{}`, nil)

	rep, err := verify.Verify(t.Context(), client, verify.Options{Bucket: d.Res.AuditBucket, StateBucket: d.Res.AuditStateBucket, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	foreign := map[string]bool{}
	for _, f := range rep.Orgs[0].Findings {
		switch {
		case f.Kind == verify.ForeignObject:
			foreign[f.Key] = true
		case f.Kind == verify.InsertedObject && slices.Contains(squatted, f.Key):
			// A squatted key the run never reached (its slice wrote
			// nothing) is simply an object no digest lists.
			foreign[f.Key] = true
		default:
			t.Errorf("verify: %s", f)
		}
	}
	for _, k := range squat.Foreign {
		if !foreign[k] {
			t.Errorf("verify does not report the foreign object %s", k)
		}
	}
	all, _, err := e2e.ReadExport(t.Context(), client, d.Res.AuditBucket, dataPrefix)
	if err != nil {
		t.Fatal(err)
	}
	got := slices.DeleteFunc(all, func(ev e2e.ExportedEvent) bool { return foreign[ev.Key] })
	if dups, missing, extra := e2e.Diff(got, emu.AuditEventIDs()); len(dups)+len(missing)+len(extra) > 0 {
		t.Fatalf("%d duplicated %v, %d missing %v, %d extra %v", len(dups), head(dups), len(missing), head(missing), len(extra), head(extra))
	}
}

func readCheckpoint(t *testing.T, client *s3.Client, bucket, key string) *checkpoint.State {
	t.Helper()
	st, err := checkpoint.NewStore(client, bucket, key, "").Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// forged is an export-shaped object holding an event the organization
// never had.
func forged(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	_, _ = io.WriteString(z, `{"id":"audit_log-forged","type":"api_key.deleted","effective_at":1}`+"\n")
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
