package rotation_test

import (
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/awsconfig"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/shared/secrets"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

// BenchmarkStaleSweep500x20 is the goal: a stale-key sweep over
// 500 projects with 20 keys each (10,000 users) at 20 ms of latency per
// request, in under 5 s. The sweep lists projects, every project's keys
// with ORGWARDEN_MAX_CONCURRENCY workers, the users (alongside, for owners'
// roles) and the admin keys. It runs as a preview, so every iteration sees
// the same organization; a real run sends its deletions after the same
// selection, and above the cap sends none.
//
// The baseline is the same sweep with one worker, measured once in the same
// run. Reported: s/op, the baseline's seconds, x_baseline (how many times
// faster), goal_ratio (s/op over the 5 s goal; below 1 meets it) and the
// API calls per sweep.
func BenchmarkStaleSweep500x20(b *testing.B) {
	seed := adminapi.LargeSeed(1)
	seed.AuditEvents = 0 // not read by the sweep; spares building a million events
	srv := adminapitest.New(b, adminapi.Options{Seed: &seed, Faults: adminapi.Faults{Latency: 20 * time.Millisecond}}, adminapitest.WithoutValidation())
	if n := len(srv.Emulator.Projects()); n != 500 {
		b.Fatalf("%d projects seeded", n)
	}

	sweepWith := func(b *testing.B, concurrency int) (time.Duration, int) {
		common := config.Common{
			BaseURL: srv.URL, MaxConcurrency: concurrency,
			// The default 20 requests/s would make 600 calls take 30 s: the
			// goal needs a limit above the workers' throughput (16 / 20 ms = 800/s).
			RateLimit:   1000,
			HTTPTimeout: 30 * time.Second, MaxRetries: 2, MaxRetryDelay: time.Second, MaxDeletions: 25, DryRun: true,
		}
		deps := &app.Deps{Function: rotation.Function, Common: common, Log: logging.Discard(), Out: discard{},
			AWS: &awsconfig.Clients{}, Keys: secrets.Static{Value: logging.Secret(srv.AdminKey)}}
		h := rotation.New(deps, rotation.Config{StaleUnused: 90 * day, StaleNeverUsed: 30 * day, AdminKeyUnused: 90 * day}, rotation.WithClock(srv.Emulator.Now))
		before := len(srv.Emulator.Requests())
		start := time.Now()
		sum, err := h.Sweep(b.Context(), false)
		elapsed := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if sum.Scanned.Projects != 480 || sum.Scanned.ProjectKeys < 480*20 {
			b.Fatalf("scanned %+v", sum.Scanned)
		}
		return elapsed, len(srv.Emulator.Requests()) - before
	}

	baseline, _ := sweepWith(b, 1)
	var (
		total time.Duration
		calls int
		n     int
	)
	for b.Loop() {
		d, c := sweepWith(b, 16)
		total, calls, n = total+d, c, n+1
	}
	perOp := total / time.Duration(n)
	b.ReportMetric(perOp.Seconds(), "s/op")
	b.ReportMetric(baseline.Seconds(), "baseline_s")
	b.ReportMetric(baseline.Seconds()/perOp.Seconds(), "x_baseline")
	b.ReportMetric(perOp.Seconds()/5, "goal_ratio")
	b.ReportMetric(float64(calls), "calls")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
