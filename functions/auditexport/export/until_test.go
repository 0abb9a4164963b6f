package export_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
)

// A first run with --since X --until Y backfills [X, Y) and then, in the
// same run, exports [Y-lookback, now]: the events of the backfill's last
// lookback window must not be written a second time, whatever the lookback.
func TestBackfillWithUntilThenIncrementalIsExactlyOnce(t *testing.T) {
	for _, lookback := range []time.Duration{time.Hour, 24 * time.Hour} {
		t.Run(lookback.String(), func(t *testing.T) {
			e := newEnv(t, envOptions{noValidate: true, cfg: func(c *export.Config) {
				c.Lookback = lookback
				c.RolloverEvents = 40
			}})
			now := e.clock.Now().Unix()
			since, until := now-10*86400, now-3*86400
			// Events every 20 minutes from since to now: many inside
			// [until-lookback, until), which both jobs read.
			n := 0
			for at := since; at < now; at += 1200 {
				e.appendEvent(fmt.Sprintf("audit_log-u%05d", n), at, "")
				n++
			}
			res := e.run(export.Request{Since: since, Until: until})
			ids, _ := e.exported()
			if len(ids) != n {
				t.Errorf("%d lines in the bucket for %d events in the emulator", len(ids), n)
			}
			e.assertExactlyOnce()
			inWindow := int64(lookback / (20 * time.Minute))
			if res.Duplicates < inWindow-1 || res.Events != int64(n) {
				t.Errorf("run %+v: want %d events exported and the ~%d of the window skipped as duplicates", res, n, inWindow)
			}
			e.assertVerifiesCleanly()

			// The next scheduled run, and one after it, add nothing twice.
			e.clock.Advance(15 * time.Minute)
			e.run(export.Request{})
			e.assertExactlyOnce()
		})
	}
}
