package e2e_test

import (
	"testing"

	"github.com/orgwarden/orgwarden/e2e/harness"
	"github.com/orgwarden/orgwarden/functions/inventory/snapshot"
	"github.com/orgwarden/orgwarden/functions/inventory/tables"
)

// TestInventorySnapshot: the real bootstrap, as the stack configures it,
// takes a snapshot on its schedule's event, the manifest chain verifies,
// a second run of the day writes nothing, and the metrics are there.
func TestInventorySnapshot(t *testing.T) {
	d := deploy(t, deployOptions{})
	fn := d.function("inventory", harness.FunctionOptions{})
	var first, second snapshot.Result
	fn.ok(scheduledRuleEvent("orgwarden-inventory"), &first)
	if first.Outcome != snapshot.Written || len(first.Tables) != len(tables.All) || first.APICalls == 0 {
		t.Fatalf("first run %+v", first)
	}
	fn.ok(scheduledRuleEvent("orgwarden-inventory"), &second)
	if second.Outcome != snapshot.AlreadyComplete {
		t.Fatalf("second run of the day: %s", second.Outcome)
	}
	if n := len(d.Emulator.MutatingRequests()); n != 0 {
		t.Errorf("the inventory sent %d changes", n)
	}
	rep, err := snapshot.Verify(t.Context(), snapshot.S3Store{Client: d.AWS.S3.Client(), Bucket: d.Res.AuditBucket},
		snapshot.Layout{Prefix: d.Config.Inventory.Prefix, OrgID: harness.OrgID})
	if err != nil || !rep.OK() || rep.Snapshots != 1 || rep.Objects != len(tables.All) {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	if n := busSummaries(d, "inventory"); n != 2 {
		t.Errorf("%d summaries on the bus for 2 runs", n)
	}
	_ = fn.Close()
	if got := fn.assertMetrics(snapshot.MetricSnapshots, snapshot.MetricRecords, snapshot.MetricAPICalls, snapshot.MetricFailed); got[snapshot.MetricSnapshots] != 1 {
		t.Errorf("%s = %v for one snapshot written", snapshot.MetricSnapshots, got[snapshot.MetricSnapshots])
	}
}
