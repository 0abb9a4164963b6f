package rotation_test

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/awsconfig"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/shared/secrets"
	"github.com/orgwarden/orgwarden/shared/sweep"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	"github.com/orgwarden/orgwarden/testenv/awslocal/eventbridge/eventbridgetest"
	"github.com/orgwarden/orgwarden/testenv/awslocal/s3/s3test"
	"github.com/orgwarden/orgwarden/testenv/logtest"
	"github.com/orgwarden/orgwarden/testenv/summarytest"
)

// TestLargeSweepSummaryFitsAndLinksFullReport previews a sweep of the large
// seed (480 live projects, 9,600 keys): its full summary is far above
// EventBridge's 256 KiB entry, which the local EventBridge refuses as AWS
// does. The published summary is bounded, flagged truncated, and links a
// report in S3 whose JSON and CSV list every planned deletion.
func TestLargeSweepSummaryFitsAndLinksFullReport(t *testing.T) {
	seed := adminapi.LargeSeed(1)
	seed.AuditEvents = 0 // not read by the sweep
	emu := adminapitest.New(t, adminapi.Options{Seed: &seed}, adminapitest.WithoutValidation())
	eb := eventbridgetest.New(t)
	s3srv := s3test.New(t)
	if err := s3srv.CreateBucket(t.Context(), "orgwarden-state"); err != nil {
		t.Fatal(err)
	}
	s3c := s3srv.Client()

	tests := []struct {
		name         string
		maxDeletions int
		want         adminclient.Outcome // of every planned deletion
		alerts       []string
	}{
		{"preview within the cap", 1_000_000, adminclient.Planned, []string{}},
		{"preview above the cap", 25, sweep.Held, []string{"cap_exceeded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &logtest.Buffer{}
			before := len(eb.Events())
			common := config.Common{
				BaseURL: emu.URL, MaxConcurrency: 8, RateLimit: 0, HTTPTimeout: 30 * time.Second, MaxRetries: 2,
				MaxRetryDelay: time.Second, MaxDeletions: tt.maxDeletions, DryRun: true,
				SummaryBus: bus, ReportBucket: "orgwarden-state", ReportPrefix: "reports/",
			}
			deps := &app.Deps{Function: rotation.Function, Common: common, Out: out,
				Log: logging.New(out, slog.LevelInfo).With("function", rotation.Function),
				AWS: &awsconfig.Clients{EventBridge: eb.Client(), S3: s3c}, Keys: secrets.Static{Value: logging.Secret(emu.AdminKey)}}
			h := rotation.New(deps, rotation.Config{StaleUnused: 90 * 24 * time.Hour, StaleNeverUsed: 30 * 24 * time.Hour, AdminKeyUnused: 90 * 24 * time.Hour},
				rotation.WithClock(emu.Emulator.Now))

			sum, err := h.Sweep(t.Context(), false)
			if err != nil {
				t.Fatalf("sweep: %v", err)
			}
			planned := len(sum.Keys.Deletions)
			if sum.Scanned.ProjectKeys < 9600 || planned < 1000 {
				t.Fatalf("scanned %+v, %d planned: the seed no longer makes a large summary", sum.Scanned, planned)
			}
			full, _ := json.Marshal(sum)
			if len(full) <= 256*1024 {
				t.Fatalf("full summary is %d bytes: not above EventBridge's limit, the test proves nothing", len(full))
			}

			events := eb.Events()[before:]
			if len(events) != 1 {
				t.Fatalf("%d events on the bus, want 1", len(events))
			}
			detail := events[0].Detail
			if n := summarytest.EntrySize(rotation.Function, detail); n > 256*1024 {
				t.Errorf("entry is %d bytes", n)
			}
			meta, err := summarytest.ParseMeta(detail)
			if err != nil {
				t.Fatal(err)
			}
			if !meta.Truncated || meta.LeftOut < planned-25 || meta.LeftOutByList["keys.deletions"] != planned-25 || meta.Changed || meta.Failed ||
				meta.CapExceeded != (tt.maxDeletions == 25) || !slices.Equal(meta.Alerts, tt.alerts) || meta.Function != rotation.Function {
				t.Errorf("published meta %+v", meta)
			}
			var published rotation.SweepSummary
			if err := json.Unmarshal(detail, &published); err != nil || published.RunID != sum.RunID || len(published.Keys.Deletions) != 25 || published.Counts != sum.Counts {
				t.Errorf("published summary: %v, run %q, %d deletions, counts %+v", err, published.RunID, len(published.Keys.Deletions), published.Counts)
			}

			// The log line carries the same bounded summary, far below
			// CloudWatch Logs' 256 KiB event.
			var line []byte
			for _, l := range out.Lines() {
				if strings.Contains(l, `"message":"summary"`) {
					line = []byte(l)
				}
			}
			if len(line) == 0 || len(line) > 128*1024 {
				t.Errorf("summary log line of %d bytes", len(line))
			}

			if meta.Report == nil || !strings.HasPrefix(meta.Report.JSON, "s3://orgwarden-state/reports/keyrotation/") {
				t.Fatalf("report link %+v (error %q)", meta.Report, meta.ReportError)
			}
			b, err := summarytest.Get(t.Context(), s3c, meta.Report.JSON)
			if err != nil {
				t.Fatal(err)
			}
			var report rotation.SweepSummary
			if err := json.Unmarshal(b, &report); err != nil || report.RunID != sum.RunID || len(report.Keys.Deletions) != planned || report.Counts != sum.Counts {
				t.Fatalf("JSON report: %v, %d deletions of %d", err, len(report.Keys.Deletions), planned)
			}
			for i, e := range report.Keys.Deletions {
				if e != sum.Keys.Deletions[i] {
					t.Fatalf("JSON report deletion %d = %+v, want %+v", i, e, sum.Keys.Deletions[i])
				}
			}

			b, err = summarytest.Get(t.Context(), s3c, meta.Report.CSV)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := summarytest.CSVRows(b)
			if err != nil {
				t.Fatal(err)
			}
			byOutcome := summarytest.CountBy(rows, "outcome")
			if byOutcome["keys.deletions/"+string(tt.want)] != planned {
				t.Errorf("CSV: %d deletions %s, want %d (%v)", byOutcome["keys.deletions/"+string(tt.want)], tt.want, planned, byOutcome)
			}
			byList := summarytest.CountBy(rows, "")
			if byList["keys.deletions"]+byList["keys.reported"] != sum.Counts.Reported || byList["keys.skipped"]+byList["retirements.skipped"] != sum.Counts.Skipped {
				t.Errorf("CSV rows %v do not add up to the counts %+v", byList, sum.Counts)
			}
			ids := map[string]bool{}
			for _, r := range rows {
				if r["list"] == "keys.deletions" {
					ids[r["id"]] = true
				}
			}
			for _, e := range sum.Keys.Deletions {
				if !ids[e.ID] {
					t.Fatalf("CSV misses planned deletion %s", e.ID)
				}
			}
		})
	}
}
