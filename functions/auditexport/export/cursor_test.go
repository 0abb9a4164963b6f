package export_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/checkpoint"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// A broken audit-log cursor (a page that says more follow without
// last_id, or a page that repeats the one before) fails the run: the
// window is not marked covered, so there is no gap the checkpoint calls
// complete, and the next run, on an API that answers whole, exports every
// event exactly once. Before, paging ended quietly at the broken page and
// the window was marked complete with the older events missing.
func TestBrokenAuditCursorFailsAndDoesNotAdvanceTheCheckpoint(t *testing.T) {
	for _, mode := range []adminapi.PageMode{adminapi.PageNoCursor, adminapi.PageRepeat} {
		t.Run(mode.String(), func(t *testing.T) {
			seed := adminapi.SmallSeed(7)
			e := newEnv(t, envOptions{seed: &seed, cfg: func(c *export.Config) { c.SliceConcurrency = 1 }})
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(e.emu.Emulator.InjectPageFault(adminapi.PageFault{PathPattern: "/organization/audit_logs", Mode: mode, Skip: 1}))
			since := e.clock.Now().Add(-30 * 24 * time.Hour).Unix()

			res, err := e.exporter(nil).Run(context.Background(), e.api(), export.Request{Since: since})
			if !errors.Is(err, adminclient.ErrIncompleteList) {
				t.Fatalf("run on a broken cursor: err = %v, result %+v; want ErrIncompleteList", err, res)
			}
			st, err := checkpoint.NewStore(e.client, testBucket, e.exporter(nil).Layout().StateKey(), "").Load(context.Background())
			must(err)
			if st != nil && len(st.Covered) != 0 {
				t.Errorf("the failed run marked %v covered", st.Covered)
			}
			got, _ := e.exported()
			if len(got) >= e.emu.Emulator.AuditEventCount() {
				t.Fatalf("the fault did not bite: %d of %d events exported", len(got), e.emu.Emulator.AuditEventCount())
			}

			e.emu.Emulator.ClearFaults()
			if res := e.run(export.Request{Since: since}); res.Pending {
				t.Fatalf("second run left the job pending: %+v", res)
			}
			e.assertExactlyOnce()
		})
	}
}
