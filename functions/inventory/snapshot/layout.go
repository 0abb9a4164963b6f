package snapshot

import (
	"strings"
	"time"
)

// Layout names every object of one organization's inventory:
//
//	PREFIX/inventory/table=<name>/org_id=<org>/dt=YYYY-MM-DD/<name>.jsonl.gz
//	PREFIX/inventory/_manifests/org_id=<org>/dt=YYYY-MM-DD.json
//
// One object per table and day, at a fixed key: a re-run of a day writes
// the same keys, so a partition never holds two copies of a record.
// Manifests sit under an underscore, which Athena (like Hive) skips.
type Layout struct {
	Prefix string // without surrounding slashes; may be empty
	OrgID  string
}

// DateFormat is the dt partition's format.
const DateFormat = time.DateOnly

func (l Layout) root() string {
	if l.Prefix == "" {
		return "inventory/"
	}
	return l.Prefix + "/inventory/"
}

// TablePrefix is where a table's partitions start (its Glue location).
func (l Layout) TablePrefix(table string) string { return l.root() + "table=" + table + "/" }

// PartitionPrefix is one table's partition for one organization and day.
func (l Layout) PartitionPrefix(table, dt string) string {
	return l.TablePrefix(table) + "org_id=" + l.OrgID + "/dt=" + dt + "/"
}

// ObjectKey is the one object of a table's partition.
func (l Layout) ObjectKey(table, dt string) string {
	return l.PartitionPrefix(table, dt) + table + ".jsonl.gz"
}

// ManifestPrefix holds the organization's manifests.
func (l Layout) ManifestPrefix() string { return l.root() + "_manifests/org_id=" + l.OrgID + "/" }

// ManifestKey is the manifest of one day's snapshot.
func (l Layout) ManifestKey(dt string) string { return l.ManifestPrefix() + "dt=" + dt + ".json" }

// ManifestDate is the day a manifest key names, or "".
func (l Layout) ManifestDate(key string) string {
	rest, ok := strings.CutPrefix(key, l.ManifestPrefix()+"dt=")
	if !ok {
		return ""
	}
	dt, ok := strings.CutSuffix(rest, ".json")
	if _, err := time.Parse(DateFormat, dt); !ok || err != nil {
		return ""
	}
	return dt
}
