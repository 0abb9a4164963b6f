package snapshot_test

import (
	"testing"

	"github.com/orgwarden/orgwarden/functions/inventory/snapshot"
	"github.com/orgwarden/orgwarden/functions/inventory/tables"
)

// The registry and the table definitions name the same tables in the same
// order: a table without a source would have a Glue table and no data, a
// source without a table would write data no Glue table reads.
func TestEveryTableHasOneSource(t *testing.T) {
	if len(snapshot.Sources) != len(tables.All) {
		t.Fatalf("%d sources, %d tables", len(snapshot.Sources), len(tables.All))
	}
	for i, src := range snapshot.Sources {
		if src.Table != tables.All[i].Name || src.List == nil {
			t.Errorf("source %d is %q, table %d is %q", i, src.Table, i, tables.All[i].Name)
		}
		if src.ActiveOnly && tables.All[i].Scope != tables.Project {
			t.Errorf("%s: ActiveOnly on an organization table", src.Table)
		}
	}
}
