package export_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

func TestExportThenMoreEventsArrive(t *testing.T) {
	seed := adminapi.SmallSeed(7)
	e := newEnv(t, envOptions{seed: &seed})
	now := e.clock.Now()
	e.appendEvent("audit_log-edge", now.Unix()-100, "")

	first := e.run(export.Request{Since: now.Add(-30 * 24 * time.Hour).Unix()})
	if first.Generation != 1 || first.Pending || first.Events != int64(len(e.emu.Emulator.AuditEventIDs())) {
		t.Fatalf("first run: %+v, want generation 1 with all %d events", first, len(e.emu.Emulator.AuditEventIDs()))
	}
	e.assertExactlyOnce()

	// More events: new ones, ones that become visible late inside the
	// lookback window, and one in the very second of the newest exported.
	e.clock.Advance(15 * time.Minute)
	at := e.clock.Now().Unix()
	for i := range 250 {
		e.appendEvent(fmt.Sprintf("audit_log-new%03d", i), at-1-int64(i%600), "")
	}
	e.appendEvent("audit_log-late1", at-50*60, "")
	e.appendEvent("audit_log-late2", now.Unix()-30*60, "")
	if first.Newest != now.Unix()-100 {
		t.Fatalf("newest exported %d, want %d", first.Newest, now.Unix()-100)
	}
	e.appendEvent("audit_log-sameSecond", first.Newest, "")

	second := e.run(export.Request{})
	if second.Generation != 2 || second.Events != 253 || second.Duplicates != 1 {
		t.Fatalf("second run: %+v, want generation 2 with 253 new events and 1 duplicate skipped", second)
	}
	e.assertExactlyOnce()

	e.clock.Advance(15 * time.Minute)
	third := e.run(export.Request{})
	// The lookback window [11:15, 12:30) holds all 254 events added since
	// the first run, all skipped: three pages of organization events, one
	// of tenant events.
	if third.Generation != 3 || third.Events != 0 || third.Objects != 0 || third.Duplicates != 254 || third.ListCalls != 4 {
		t.Fatalf("run with nothing new: %+v", third)
	}
	e.assertExactlyOnce()
}

// With nothing new and a lookback window that fits in one page, a run
// makes exactly one list call per scope and writes only its digest.
func TestNothingNewIsOneListCallPerScope(t *testing.T) {
	for _, tenant := range []bool{false, true} {
		t.Run(fmt.Sprintf("tenant=%v", tenant), func(t *testing.T) {
			seed := adminapi.SmallSeed(3)
			e := newEnv(t, envOptions{seed: &seed, cfg: func(c *export.Config) { c.TenantEvents = tenant }})
			e.run(export.Request{Since: e.clock.Now().Add(-40 * 24 * time.Hour).Unix()})
			e.clock.Advance(15 * time.Minute)
			before := len(e.keys(""))
			res := e.run(export.Request{})
			want := int64(1)
			if tenant {
				want = 2
			}
			if res.ListCalls != want || res.Events != 0 || res.Objects != 0 || res.Generation != 2 {
				t.Fatalf("nothing new: %+v, want %d list call(s)", res, want)
			}
			if after := len(e.keys("")); after != before+1 {
				t.Fatalf("a run with nothing new added %d objects, want 1 (its digest)", after-before)
			}
		})
	}
}
