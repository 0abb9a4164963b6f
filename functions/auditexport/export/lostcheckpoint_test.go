package export_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/verify"
)

// A lost checkpoint (deleted, or the state bucket changed) over an existing
// export is never a fresh start: the run refuses with one line naming the
// recovery command and writes nothing; with RebuildCheckpoint it rebuilds
// the checkpoint from the digest chain and continues exactly once.
func TestLostCheckpointRefusesThenRebuilds(t *testing.T) {
	for _, how := range []string{"deleted", "state bucket changed", "lost while a generation was open"} {
		t.Run(how, func(t *testing.T) {
			e, since := historyEnv(t, 300)
			e.run(export.Request{Since: since})
			e.clock.Advance(15 * time.Minute)
			for i := range 40 {
				e.appendEvent(fmt.Sprintf("audit_log-m%02d", i), e.clock.Now().Unix()-int64(30*i), "")
			}
			e.run(export.Request{})
			e.clock.Advance(15 * time.Minute)
			for i := range 25 {
				e.appendEvent(fmt.Sprintf("audit_log-k%02d", i), e.clock.Now().Unix()-int64(20*i), "")
			}
			var orphans int
			switch how {
			case "deleted":
				e.deleteState()
			case "state bucket changed":
				if err := e.s3.CreateBucket(context.Background(), "new-state"); err != nil {
					t.Fatal(err)
				}
				e.cfg.StateBucket = "new-state"
			case "lost while a generation was open":
				// A run dies after writing its first object, then the
				// checkpoint disappears: that object is in no digest.
				before := len(e.keys(e.exporterLayoutDataPrefix()))
				tr := &crashAfterData{next: http.DefaultTransport}
				_, _ = e.exporter(e.s3.Client(func(o *s3.Options) {
					o.HTTPClient = &http.Client{Transport: tr}
					o.RetryMaxAttempts = 1
				})).Run(context.Background(), e.api(), export.Request{})
				orphans = len(e.keys(e.exporterLayoutDataPrefix())) - before
				if orphans == 0 {
					t.Fatal("the crashed run left no object")
				}
				e.deleteState()
			}

			before := e.keys("")
			_, err := e.exporter(nil).Run(context.Background(), e.api(), export.Request{})
			if !errors.Is(err, export.ErrNoCheckpoint) || !strings.Contains(err.Error(), export.RebuildCommand) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("run without a checkpoint over an existing export: %v", err)
			}
			for _, k := range e.keys("") {
				if !slices.Contains(before, k) && !strings.HasSuffix(k, "/"+export.ProbeName) {
					t.Fatalf("the refused run wrote %s", k)
				}
			}

			res := e.run(export.Request{RebuildCheckpoint: true})
			if !res.Rebuilt || res.Generation != 3 || len(res.Foreign) != orphans {
				t.Fatalf("rebuild: %+v, want generation 3 with %d foreign object(s)", res, orphans)
			}
			e.clock.Advance(15 * time.Minute)
			e.run(export.Request{})
			e.assertExactlyOnceIgnoringForeign()
			rep := e.verify(verify.Options{StateBucket: e.cfg.StateBucket})
			for _, f := range rep.Orgs[0].Findings {
				if f.Kind != verify.ForeignObject {
					t.Errorf("verify after the rebuild: %s", f)
				}
			}
		})
	}
}

func (e *env) deleteState() {
	e.t.Helper()
	key := e.exporter(nil).Layout().StateKey()
	bucket := e.cfg.StateBucket
	if bucket == "" {
		bucket = testBucket
	}
	if _, err := e.client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		e.t.Fatal(err)
	}
}

// assertExactlyOnceIgnoringForeign checks the objects the digests list
// (foreign ones aside) against the emulator.
func (e *env) assertExactlyOnceIgnoringForeign() {
	e.t.Helper()
	rep := e.verify(verify.Options{StateBucket: e.cfg.StateBucket})
	foreign := map[string]bool{}
	for _, f := range rep.Orgs[0].Findings {
		if f.Kind == verify.ForeignObject {
			foreign[f.Key] = true
		}
	}
	var ids []string
	for _, key := range e.keys(e.exporterLayoutDataPrefix()) {
		if !foreign[key] {
			ids = append(ids, e.readIDs(key)...)
		}
	}
	assertSameSet(e.t, ids, e.emu.Emulator.AuditEventIDs())
}

// crashAfterData plays a process that dies just after its first data
// object lands.
type crashAfterData struct {
	next http.RoundTripper
	mu   sync.Mutex
	dead bool
}

func (c *crashAfterData) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	dead := c.dead
	c.mu.Unlock()
	if dead {
		return nil, errCrashed
	}
	res, err := c.next.RoundTrip(req)
	if req.Method == http.MethodPut && strings.HasSuffix(req.URL.Path, ".jsonl.gz") && err == nil && res.StatusCode == http.StatusOK {
		c.mu.Lock()
		c.dead = true
		c.mu.Unlock()
		res.Body.Close()
		return nil, errCrashed
	}
	return res, err
}
