package detect_test

// The performance goal: detection adds under 10% to an export run
// of 1,000,000 events. Each size is one export backfill (the emulator with
// 20 ms injected latency per call, as the export's own benchmarks, and a
// local S3), then one detection run over the generation it sealed; the
// export's time is the baseline, measured in the same run.
//
//	go test -run '^$' -bench DetectOverhead -benchtime 1x ./functions/auditexport/detect/
//	ORGWARDEN_BENCH_EVENTS=10000,1000000 go test -run '^$' -bench DetectOverhead -benchtime 1x -timeout 2h ./functions/auditexport/detect/

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/functions/auditexport/detect"
	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/auditgen"
	locals3 "github.com/orgwarden/orgwarden/testenv/awslocal/s3"
)

func benchSizes(b *testing.B) []int {
	s := os.Getenv("ORGWARDEN_BENCH_EVENTS")
	if s == "" {
		return []int{10_000}
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("ORGWARDEN_BENCH_EVENTS: %q", f)
		}
		out = append(out, n)
	}
	return out
}

func BenchmarkDetectOverhead(b *testing.B) {
	for _, n := range benchSizes(b) {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			// A realistic history (testenv/auditgen): a background in which
			// no rule fires, and one of each injected pattern. The emulator's
			// own seeded history is no baseline here: it grants the owner role
			// or changes a setting in one event out of twenty.
			emu, err := adminapi.New(adminapi.Options{Faults: adminapi.Faults{Latency: 20 * time.Millisecond}})
			if err != nil {
				b.Fatal(err)
			}
			end := emu.Now()
			h := auditgen.Generate(auditgen.Options{Seed: 1, Background: n, Start: end.Add(-89 * 24 * time.Hour), Span: 88 * 24 * time.Hour,
				Domain: "example.com", ProtectedProject: "proj_x", OffboardedUser: "user-leaver", OffboardedEmail: "leaver@example.com",
				OffboardedAt: end.Add(-30 * 24 * time.Hour)})
			for _, e := range h.Events {
				if err := emu.AppendAuditEvent(e.Raw); err != nil {
					b.Fatal(err)
				}
			}
			total := len(h.Events)
			patterns := len(h.Patterns)
			h = auditgen.History{} // let the generator's copy go
			api := httptest.NewServer(emu)
			defer api.Close()
			s3srv, err := locals3.Start()
			if err != nil {
				b.Fatal(err)
			}
			defer s3srv.Close()
			var exportTime, detectTime time.Duration
			var findings int
			var evaluated int64
			i := 0
			for b.Loop() {
				i++
				bkt := fmt.Sprintf("bench-%d", i)
				if err := s3srv.CreateBucket(context.Background(), bkt); err != nil {
					b.Fatal(err)
				}
				cfg := export.Config{OrgID: org, Bucket: bkt, Prefix: "audit", Lookback: time.Hour, SliceConcurrency: 8,
					RolloverBytes: export.DefaultRolloverBytes, RolloverEvents: export.DefaultRolloverEvents, TenantEvents: true}
				x, err := export.New(cfg, s3srv.Client(), export.Options{})
				if err != nil {
					b.Fatal(err)
				}
				client, err := adminclient.New(adminclient.Options{BaseURL: api.URL + "/v1", AdminKey: logging.Secret(emu.AdminKey()),
					Concurrency: 64, Timeout: time.Minute})
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				res, err := x.Run(context.Background(), client, export.Request{Since: emu.Now().Add(-91 * 24 * time.Hour).Unix()})
				if err != nil {
					b.Fatal(err)
				}
				exportTime += time.Since(t0)
				if res.Events != int64(total) {
					b.Fatalf("exported %d events, want %d", res.Events, total)
				}
				d, err := detect.New(detect.Config{Enabled: true, AllowedDomains: []string{"example.com"}, ProtectedProjects: []string{"proj_x"}},
					cfg, s3srv.Client(), nil)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				rep, err := d.Run(context.Background(), res.Generation)
				if err != nil {
					b.Fatal(err)
				}
				detectTime += time.Since(t1)
				findings, evaluated = len(rep.Findings), rep.Events
				if evaluated != int64(total) || findings != patterns-1 {
					// (the offboarding journal is not configured here: its pattern is not found)
					b.Fatalf("detection evaluated %d events with %d findings, want %d events and %d findings", evaluated, findings, total, patterns-1)
				}
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(detectTime.Seconds()/float64(i), "detect_s")
			b.ReportMetric(exportTime.Seconds()/float64(i), "baseline_export_s")
			b.ReportMetric(100*detectTime.Seconds()/exportTime.Seconds(), "overhead_%")
			b.ReportMetric(float64(evaluated)/(detectTime.Seconds()/float64(i)), "detect_events/s")
			b.ReportMetric(float64(findings), "findings")
		})
	}
}
