package cleanup_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/functions/invitecleanup/cleanup"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/awsconfig"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/shared/secrets"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/awslocal/s3/s3test"
	"github.com/orgwarden/orgwarden/testenv/summarytest"
)

// TestManyInvitesSummaryFitsAndLinksFullReport cleans up thousands of stale
// invites, previewed then for real: each summary published to the local
// EventBridge (which refuses entries above 256 KiB, as AWS does) is bounded
// and links a full report whose JSON and CSV list every invite.
func TestManyInvitesSummaryFitsAndLinksFullReport(t *testing.T) {
	f := newFixture(t)
	const many = 3000
	for i := range many {
		email := fmt.Sprintf("contractor-%04d.with-a-rather-long-mailbox-name@subsidiary-%02d.example.com", i, i%40)
		if _, err := f.emu.Emulator.AddInvite(adminapi.NewInvite{Email: email, CreatedAt: t0.Add(-20 * day)}); err != nil {
			t.Fatal(err)
		}
	}
	s3srv := s3test.New(t)
	if err := s3srv.CreateBucket(t.Context(), "state"); err != nil {
		t.Fatal(err)
	}
	s3c := s3srv.Client()
	f.common.MaxDeletions = 100_000
	f.common.ReportBucket, f.common.ReportPrefix = "state", "reports"
	deps := &app.Deps{
		Function: cleanup.Function, Common: f.common, Out: f.out,
		Log:  logging.New(f.out, slog.LevelInfo).With("function", cleanup.Function),
		AWS:  &awsconfig.Clients{EventBridge: f.eb.Client(), S3: s3c},
		Keys: secrets.Static{Value: logging.Secret(f.emu.AdminKey)},
	}
	h := cleanup.New(deps, cleanup.Config{MaxAge: 14 * day}, cleanup.WithClock(f.emu.Emulator.Now))

	for i, tt := range []struct {
		dryRun  bool
		outcome adminclient.Outcome
		alerts  []string
	}{
		{true, adminclient.Planned, []string{}},
		{false, adminclient.Done, []string{"changed"}},
	} {
		t.Run(fmt.Sprintf("dry_run=%v", tt.dryRun), func(t *testing.T) {
			sum, err := h.Run(t.Context(), tt.dryRun)
			if err != nil {
				t.Fatal(err)
			}
			n := len(sum.Invites.Deletions)
			if n < many || sum.Invites.Count(tt.outcome) != n {
				t.Fatalf("%d deletions, %d %s", n, sum.Invites.Count(tt.outcome), tt.outcome)
			}
			events := f.eb.Events()
			if len(events) != i+1 {
				t.Fatalf("%d events, want %d", len(events), i+1)
			}
			detail := events[i].Detail
			meta, err := summarytest.ParseMeta(detail)
			if err != nil {
				t.Fatal(err)
			}
			if summarytest.EntrySize(cleanup.Function, detail) > 256*1024 || !meta.Truncated || meta.LeftOutByList["invites.deletions"] != n-25 ||
				!slices.Equal(meta.Alerts, tt.alerts) || meta.Changed == tt.dryRun || meta.Report == nil {
				t.Fatalf("published %d bytes, meta %+v", len(detail), meta)
			}

			b, err := summarytest.Get(t.Context(), s3c, meta.Report.JSON)
			if err != nil {
				t.Fatal(err)
			}
			var report cleanup.Summary
			if err := json.Unmarshal(b, &report); err != nil || len(report.Invites.Deletions) != n || report.Counts != sum.Counts {
				t.Fatalf("JSON report: %v, %d deletions of %d, counts %+v", err, len(report.Invites.Deletions), n, report.Counts)
			}
			b, err = summarytest.Get(t.Context(), s3c, meta.Report.CSV)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := summarytest.CSVRows(b)
			if err != nil {
				t.Fatal(err)
			}
			by := summarytest.CountBy(rows, "outcome")
			if by["invites.deletions/"+string(tt.outcome)] != n {
				t.Errorf("CSV %v, want %d invites.deletions/%s", by, n, tt.outcome)
			}
			done, reported := by["invites.deletions/done"], by["invites.deletions/dry_run"]+by["invites.deletions/held_cap_exceeded"]
			if done != sum.Counts.Deleted || reported != sum.Counts.Reported || summarytest.CountBy(rows, "")["invites.skipped"] != sum.Counts.Skipped {
				t.Errorf("CSV %v does not add up to the counts %+v", by, sum.Counts)
			}
			emails := map[string]bool{}
			for _, r := range rows {
				emails[r["email"]] = true
			}
			for _, e := range sum.Invites.Deletions {
				if !emails[e.Email] {
					t.Fatalf("CSV misses %s", e.Email)
				}
			}
			if !strings.HasPrefix(meta.Report.CSV, "s3://state/reports/invitecleanup/") {
				t.Errorf("report at %s", meta.Report.CSV)
			}
		})
	}
}
