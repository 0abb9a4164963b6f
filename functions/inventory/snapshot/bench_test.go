package snapshot_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/functions/inventory/snapshot"
	"github.com/orgwarden/orgwarden/functions/inventory/tables"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

const benchWorkers = 16

// rawPaging is the baseline: the same lists the snapshot reads (every
// source, every project's part), paged with the same client and workers,
// each item dropped: no line, no gzip, no object. It returns the items read.
func rawPaging(ctx context.Context, b *testing.B, api *adminclient.Client) int64 {
	var projects []snapshot.Project
	for _, src := range snapshot.Sources {
		if src.Table != "projects" {
			continue
		}
		for raw, err := range src.List(ctx, api, nil) {
			if err != nil {
				b.Fatal(err)
			}
			p, _ := parseProject(raw)
			projects = append(projects, p)
		}
	}
	type job struct {
		src snapshot.Source
		p   *snapshot.Project
	}
	var jobs []job
	for _, src := range snapshot.Sources {
		t, _ := tables.ByName(src.Table)
		switch {
		case src.Table == "projects":
		case t.Scope == tables.Organization:
			jobs = append(jobs, job{src: src})
		default:
			for i := range projects {
				if !src.ActiveOnly || !projects[i].Archived {
					jobs = append(jobs, job{src: src, p: &projects[i]})
				}
			}
		}
	}
	var items atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, benchWorkers)
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			for _, err := range j.src.List(ctx, api, j.p) {
				if err != nil {
					b.Error(err)
					return
				}
				items.Add(1)
			}
		}()
	}
	wg.Wait()
	return items.Load() + int64(len(projects))
}

func parseProject(raw []byte) (snapshot.Project, error) {
	// The snapshot's own rule, through its one exported door: a line.
	line, err := snapshot.Line(raw, nil)
	if err != nil {
		return snapshot.Project{}, err
	}
	var p struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := jsonUnmarshal(line, &p); err != nil {
		return snapshot.Project{}, err
	}
	return snapshot.Project{ID: p.ID, Archived: p.Status == "archived"}, nil
}

// minPages is the fewest list calls the organization allows: each list's
// items in pages of 100 (one page for an empty list), one call per object.
func minPages(emu *adminapi.Emulator) int64 {
	pages := func(n int) int64 { return int64(max(1, (n+99)/100)) }
	var n int64
	projects := emu.Projects()
	n += pages(len(emu.Users())) + pages(len(emu.Invites())) + pages(len(projects)) + pages(len(emu.AdminAPIKeys()))
	n += 2 // organization data retention (object), spend alerts (none seeded: one page)
	for _, p := range projects {
		if p.Status != "archived" {
			n += pages(len(emu.ProjectUsers(p.ID))) + pages(len(emu.ServiceAccounts(p.ID)))
		}
		n += pages(len(emu.ProjectAPIKeys(p.ID)))
		n += 1 + 2 + 1 // rate limits (under 100 per project), model permissions and data retention (objects), spend alerts
	}
	return n
}

// BenchmarkSnapshotLargeSeed is the goal: a snapshot of the large
// seed (10,000 users, 500 projects with their settings) at 20 ms of latency
// per request, against the baseline of raw concurrent paging of the same
// lists in the same run (rawPaging), with the same 16 workers. Reported:
// s/op, raw_s, share_of_raw (raw_s / s/op; the goal is ≥ 0.9), calls per
// snapshot, min_pages and calls_over_min (the goal is ≤ 1.05), peak heap.
func BenchmarkSnapshotLargeSeed(b *testing.B) {
	seed := adminapi.LargeSeed(1)
	seed.AuditEvents = 0 // not read by the snapshot
	srv := adminapitest.New(b, adminapi.Options{Seed: &seed, Faults: adminapi.Faults{Latency: 20 * time.Millisecond}}, adminapitest.WithoutValidation())
	api, err := adminclient.New(adminclient.Options{BaseURL: srv.URL, AdminKey: logging.Secret(srv.AdminKey), Concurrency: benchWorkers, MaxRetries: 2})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	start := time.Now()
	items := rawPaging(ctx, b, api)
	raw := time.Since(start)

	var (
		total time.Duration
		calls int64
		n     int
		peak  uint64
	)
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() { // peak heap while snapshots run
		defer sampler.Done()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}()
	for b.Loop() {
		s := &snapshot.Snapshotter{Store: newMemStore(), Layout: snapshot.Layout{Prefix: "bench", OrgID: "org-bench"}, Log: slog.New(slog.DiscardHandler)}
		before := api.Stats().Requests
		t0 := time.Now()
		run, err := s.Snapshot(ctx, api, srv.Emulator.Now)
		total += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		var records int64
		for _, t := range run.Tables {
			records += t.Records
		}
		if records != items {
			b.Fatalf("the snapshot holds %d records, raw paging read %d items", records, items)
		}
		calls, n = api.Stats().Requests-before, n+1
	}
	close(stop)
	sampler.Wait()
	perOp := total / time.Duration(n)
	minimum := minPages(srv.Emulator)
	b.ReportMetric(perOp.Seconds(), "s/op")
	b.ReportMetric(raw.Seconds(), "raw_s")
	b.ReportMetric(raw.Seconds()/perOp.Seconds(), "share_of_raw")
	b.ReportMetric(float64(calls), "calls")
	b.ReportMetric(float64(minimum), "min_pages")
	b.ReportMetric(float64(calls)/float64(minimum), "calls_over_min")
	b.ReportMetric(float64(items), "records")
	b.ReportMetric(float64(peak)/(1<<20), "peak_heap_MiB")
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
