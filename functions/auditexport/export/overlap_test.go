package export_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/verify"
)

// pauseTransport holds the n-th S3 write of a run until released: a
// process stalled (GC pause, frozen Lambda sandbox) past its lease, which
// wakes up while another run has taken over.
type pauseTransport struct {
	next    http.RoundTripper
	pauseAt int
	reached chan string
	release chan struct{}

	mu     sync.Mutex
	writes int
}

func (p *pauseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut || req.Method == http.MethodPost {
		p.mu.Lock()
		p.writes++
		n := p.writes
		p.mu.Unlock()
		if n == p.pauseAt {
			p.reached <- req.Method + " " + req.URL.Path
			<-p.release
		}
	}
	return p.next.RoundTrip(req)
}

func (p *pauseTransport) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.writes
}

func historyEnv(t *testing.T, events int) (*env, int64) {
	t.Helper()
	e := newEnv(t, envOptions{noValidate: true, cfg: func(c *export.Config) {
		c.RolloverEvents = 50
		c.SliceConcurrency = 2
	}})
	start := e.clock.Now().Unix()
	for i := range events {
		e.appendEvent(fmt.Sprintf("audit_log-h%04d", i), start-2*86400+int64(i)*(2*86400/int64(events)), "")
	}
	return e, start - 3*86400
}

func (e *env) assertVerifiesCleanly() {
	e.t.Helper()
	rep := e.verify(verify.Options{})
	if !rep.OK() || len(rep.Orgs[0].Findings) > 0 {
		var b strings.Builder
		_ = rep.Write(&b)
		e.t.Fatalf("export does not verify cleanly:\n%s", b.String())
	}
}

// A run stalled past its lease wakes up after another run recovered and
// sealed its generation. Whatever write it was about to make, it cannot add
// an object that no digest lists, nor seal anything, and the export stays
// exactly once.
func TestStalledRunCannotCorruptTheExport(t *testing.T) {
	e0, _ := historyEnv(t, 300)
	tr0 := &crashTransport{next: http.DefaultTransport}
	_, err := e0.exporter(e0.s3.Client(func(o *s3.Options) { o.HTTPClient = &http.Client{Transport: tr0} })).
		Run(context.Background(), e0.api(), export.Request{Since: e0.clock.Now().Unix() - 3*86400})
	if err != nil {
		t.Fatal(err)
	}
	total := tr0.count()

	for n := 2; n < total; n += 3 {
		t.Run(fmt.Sprintf("paused at write %d of %d", n, total), func(t *testing.T) {
			e, since := historyEnv(t, 300)
			pt := &pauseTransport{next: http.DefaultTransport, pauseAt: n, reached: make(chan string, 1), release: make(chan struct{})}
			stalled := e.exporter(e.s3.Client(func(o *s3.Options) {
				o.HTTPClient = &http.Client{Transport: pt}
				o.RetryMaxAttempts = 1
			}))
			type outcome struct {
				res export.Result
				err error
			}
			done := make(chan outcome, 1)
			go func() {
				res, err := stalled.Run(context.Background(), e.api(), export.Request{Since: since})
				done <- outcome{res, err}
			}()
			// The probe run's write count is only a guide: checkpoint saves
			// coalesce by timing, so this run may finish in fewer writes
			// than n and never reach the pause. Waiting on reached alone
			// would then hang the package until go test's timeout.
			var what string
			select {
			case what = <-pt.reached:
			case o := <-done:
				if o.err != nil {
					t.Fatalf("run without a stall: %v", o.err)
				}
				t.Skipf("this run finished in %d writes, before write %d: nothing to stall (the probe run made %d)", pt.count(), n, total)
			}
			e.clock.Advance(export.DefaultLease + time.Second)
			// The stalled run's other workers may still be saving the
			// checkpoint; then the taker loses to it, which is also correct.
			taker, terr := e.exporter(nil).Run(context.Background(), e.api(), export.Request{Since: since})
			if terr != nil && !errors.Is(terr, export.ErrLostCheckpoint) {
				t.Fatalf("taker: %v", terr)
			}
			close(pt.release)
			zombie := <-done
			t.Logf("paused at %s; the taker recovered generation %d, sealed %d, err=%v; the stalled run sealed %d, err=%v",
				what, taker.Recovered, taker.Generation, terr, zombie.res.Generation, zombie.err)
			if terr == nil && zombie.err == nil && zombie.res.Generation == taker.Generation {
				t.Fatalf("both runs sealed generation %d", taker.Generation)
			}
			e.clock.Advance(export.DefaultLease + time.Second)
			e.run(export.Request{})
			e.assertExactlyOnce()
			e.assertVerifiesCleanly()
		})
	}
}

// Two runs at once: at most one of them seals each generation, and the
// export converges.
func TestConcurrentRunsConverge(t *testing.T) {
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			e, since := historyEnv(t, 400)
			var wg sync.WaitGroup
			results := make([]export.Result, 2)
			errs := make([]error, 2)
			for j := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[j], errs[j] = e.exporter(nil).Run(context.Background(), e.api(), export.Request{Since: since})
				}()
			}
			wg.Wait()
			for j, err := range errs {
				if err != nil && !errors.Is(err, export.ErrLostCheckpoint) {
					t.Fatalf("run %d: %v", j, err)
				}
			}
			if errs[0] == nil && errs[1] == nil && results[0].Generation != 0 && results[0].Generation == results[1].Generation {
				t.Fatalf("both runs sealed generation %d", results[0].Generation)
			}
			t.Logf("run 0: gen %d skipped=%q err=%v; run 1: gen %d skipped=%q err=%v",
				results[0].Generation, results[0].Skipped, errs[0], results[1].Generation, results[1].Skipped, errs[1])
			e.clock.Advance(export.DefaultLease + time.Second)
			e.run(export.Request{Since: since})
			e.assertExactlyOnce()
			e.assertVerifiesCleanly()
		})
	}
}

// A run that finds another run's live lease does nothing; with TakeOver it
// recovers the other run's generation at once.
func TestLeaseAndTakeOver(t *testing.T) {
	e, since := historyEnv(t, 200)
	tr := &crashTransport{next: http.DefaultTransport, crashAt: 6}
	dead := e.exporter(e.s3.Client(func(o *s3.Options) {
		o.HTTPClient = &http.Client{Transport: tr}
		o.RetryMaxAttempts = 1
	}))
	if _, err := dead.Run(context.Background(), e.api(), export.Request{Since: since}); err == nil {
		t.Fatal("the crashing run did not fail")
	}
	before := len(e.keys(""))
	skipped := e.run(export.Request{})
	if skipped.Skipped == "" || skipped.Generation != 0 || len(e.keys("")) != before {
		t.Fatalf("run under a live lease: %+v, %d new objects", skipped, len(e.keys(""))-before)
	}
	took := e.run(export.Request{TakeOver: true})
	if took.Recovered != 1 || took.Generation != 2 {
		t.Fatalf("take-over: %+v", took)
	}
	e.assertExactlyOnce()
	e.assertVerifiesCleanly()
}
