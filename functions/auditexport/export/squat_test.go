package export_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/verify"
)

func gzipLines(t testing.TB, lines ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	for _, l := range lines {
		fmt.Fprintln(z, l)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (e *env) put(key string, body []byte) {
	e.t.Helper()
	if _, err := e.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		e.t.Fatal(err)
	}
}

// Objects placed first at the keys a run is about to write (a forged
// event; a real event with the rest of its slice missing; bytes that are
// not an export object at all) are never adopted nor sealed: the run writes
// its own objects elsewhere, reports the foreign keys, and verify names
// them. Every event of the emulator is exported exactly once.
func TestSquattedKeysAreFlaggedNotAdopted(t *testing.T) {
	// Two exports of the same history: the first tells which keys the
	// second generation writes; in the second, they are taken first.
	twoRuns := func(before func(*env)) (*env, export.Result) {
		e, since := historyEnv(t, 300)
		e.run(export.Request{Since: since})
		e.clock.Advance(15 * time.Minute)
		for i := range 120 {
			e.appendEvent(fmt.Sprintf("audit_log-q%03d", i), e.clock.Now().Unix()-int64(20*i), "")
		}
		before(e)
		return e, e.run(export.Request{})
	}
	probe, _ := twoRuns(func(*env) {})
	var keys []string
	for _, k := range probe.keys(probe.exporterLayoutDataPrefix()) {
		if strings.Contains(k, "/g0000000002-") {
			keys = append(keys, k)
		}
	}
	if len(keys) < 3 {
		t.Fatalf("reference run wrote %d objects in generation 2", len(keys))
	}
	_, real := probe.exported()
	oneReal := string(real["audit_log-q005"])
	squat := map[string][]byte{
		keys[0]:           gzipLines(t, `{"id":"audit_log-forged","type":"api_key.created","effective_at":1}`),
		keys[len(keys)/2]: gzipLines(t, oneReal),
		keys[len(keys)-1]: []byte("not gzip"),
	}

	e, res := twoRuns(func(e *env) {
		for k, b := range squat {
			e.put(k, b)
		}
	})
	if len(res.Foreign) != len(squat) {
		t.Fatalf("foreign objects reported %v, want the %d squatted keys", res.Foreign, len(squat))
	}
	for _, k := range res.Foreign {
		if _, ok := squat[k]; !ok {
			t.Errorf("reported %s as foreign, which was not squatted", k)
		}
	}
	if !strings.Contains(e.logs.String(), "foreign object at a key") {
		t.Error("no log line for the foreign objects")
	}
	// The export, foreign objects aside, is exactly the emulator's events.
	var ids []string
	for _, key := range e.keys(e.exporterLayoutDataPrefix()) {
		if _, ok := squat[key]; ok {
			continue
		}
		ids = append(ids, e.readIDs(key)...)
	}
	assertSameSet(t, ids, e.emu.Emulator.AuditEventIDs())

	rep := e.verify(verify.Options{})
	var foreign []string
	for _, f := range rep.Orgs[0].Findings {
		if f.Kind != verify.ForeignObject {
			t.Errorf("unexpected finding %s", f)
			continue
		}
		foreign = append(foreign, f.Key)
	}
	if len(foreign) != len(squat) || rep.OK() {
		t.Fatalf("verify: foreign %v (ok=%v), want the %d squatted keys as problems", foreign, rep.OK(), len(squat))
	}

	// Later runs go on normally.
	e.clock.Advance(15 * time.Minute)
	e.appendEvent("audit_log-after", e.clock.Now().Unix()-5, "")
	if r := e.run(export.Request{}); r.Events != 1 || len(r.Foreign) != 0 {
		t.Fatalf("next run: %+v", r)
	}
}

// readIDs reads the event ids of one data object.
func (e *env) readIDs(key string) []string {
	e.t.Helper()
	var ids []string
	store := objects.NewStore(e.client, testBucket, objects.Options{})
	if _, err := store.Read(context.Background(), key, func(l objects.Line) error {
		ids = append(ids, l.ID)
		return nil
	}); err != nil {
		e.t.Fatalf("read %s: %v", key, err)
	}
	return ids
}
