package export_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/verify"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// crashTransport plays a process that dies at its n-th S3 write: either
// just before sending it (the write never lands) or just after (it lands,
// and the process dies before it sees the answer, e.g. between a data
// object's upload and the checkpoint that records it). After that every
// request fails, as nothing of a dead process reaches S3.
type crashTransport struct {
	next    http.RoundTripper
	crashAt int  // 1-based write number; 0 never crashes
	after   bool // the crashing write lands

	mu     sync.Mutex
	writes int
	dead   bool
	what   string
}

var errCrashed = errors.New("process crashed")

func (c *crashTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return nil, errCrashed
	}
	write := req.Method == http.MethodPut || req.Method == http.MethodPost
	if write {
		c.writes++
	}
	if !write || c.writes != c.crashAt {
		c.mu.Unlock()
		return c.next.RoundTrip(req)
	}
	c.dead = true
	c.what = req.Method + " " + req.URL.Path
	c.mu.Unlock()
	if c.after {
		if res, err := c.next.RoundTrip(req); err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}
	return nil, errCrashed
}

func (c *crashTransport) crashed() (bool, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dead, c.what
}

func (c *crashTransport) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// crashScenario is a backfill, then new and late events, then an
// incremental run, with the process dying at S3 write number crashAt.
// Every run the crash interrupts is run again (after the dead run's lease
// has expired) with a healthy process, and a last run follows. The export
// must hold every event exactly once and verify cleanly.
func crashScenario(t *testing.T, crashAt int, after bool, faults adminapi.Faults) (writes int, what string, recovered bool) {
	t.Helper()
	e := newEnv(t, envOptions{faults: faults, noValidate: crashAt > 0, cfg: func(c *export.Config) {
		c.RolloverEvents = 60
		c.SliceConcurrency = 2
	}})
	start := e.clock.Now().Unix()
	for i := range 400 {
		e.appendEvent(fmt.Sprintf("audit_log-h%03d", i), start-3*86400+int64(i)*640, "")
	}
	tr := &crashTransport{next: http.DefaultTransport, crashAt: crashAt, after: after}
	crashing := e.s3.Client(func(o *s3.Options) {
		o.HTTPClient = &http.Client{Transport: tr}
		o.RetryMaxAttempts = 1
	})

	step := func(req export.Request) {
		t.Helper()
		dead, _ := tr.crashed()
		if !dead {
			_, err := e.exporter(crashing).Run(context.Background(), e.api(), req)
			if dead, _ = tr.crashed(); !dead {
				if err != nil {
					t.Fatalf("run failed without a crash: %v", err)
				}
				return
			}
			// The dead run's lease must expire before another run recovers.
			e.clock.Advance(export.DefaultLease + time.Second)
		}
		if res := e.run(req); res.Recovered > 0 {
			recovered = true
		}
	}

	step(export.Request{Since: start - 4*86400})
	e.clock.Advance(15 * time.Minute)
	now := e.clock.Now().Unix()
	for i := range 90 {
		e.appendEvent(fmt.Sprintf("audit_log-n%03d", i), now-1-int64(i)*7, "")
	}
	e.appendEvent("audit_log-late", now-40*60, "")
	step(export.Request{})
	e.clock.Advance(15 * time.Minute)
	e.run(export.Request{})

	e.assertExactlyOnce()
	rep := e.verify(verify.Options{})
	if !rep.OK() || len(rep.Orgs[0].Findings) > 0 {
		var b strings.Builder
		_ = rep.Write(&b)
		t.Fatalf("export does not verify cleanly:\n%s", b.String())
	}
	_, what = tr.crashed()
	return tr.count(), what, recovered
}

func TestCrashAtEveryStepConverges(t *testing.T) {
	faults := map[string]adminapi.Faults{
		"no faults": {},
		// 10% 429, 5% 5xx, 2% resets on the Admin API.
		"api faults": {RateLimited: 0.10, ServerError: 0.03, Unavailable: 0.02, Reset: 0.02, RetryAfter: 5 * time.Millisecond, Seed: 42},
	}
	for name, f := range faults {
		t.Run(name, func(t *testing.T) {
			total, _, _ := crashScenario(t, 0, false, f)
			if total < 20 {
				t.Fatalf("scenario makes only %d S3 writes", total)
			}
			stride := 1
			if testing.Short() {
				stride = 7
			}
			scenarios, recoveries := 0, 0
			for n := 1; n <= total; n += stride {
				for _, after := range []bool{false, true} {
					t.Run(fmt.Sprintf("write %d of %d, lands=%v", n, total, after), func(t *testing.T) {
						_, what, recovered := crashScenario(t, n, after, f)
						t.Logf("crashed at %s; recovered an open generation: %v", what, recovered)
						scenarios++
						if recovered {
							recoveries++
						}
					})
				}
			}
			// Most crash points leave an open generation behind; if none did,
			// the scenario would not be testing recovery at all.
			if recoveries < scenarios/2 {
				t.Fatalf("only %d of %d crash scenarios exercised recovery", recoveries, scenarios)
			}
		})
	}
}
