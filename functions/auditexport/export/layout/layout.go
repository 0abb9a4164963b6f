// Package layout names every object of an audit-log export: the data
// objects, Athena-partitioned by the event's effective_at day, the digest
// chain and the checkpoint state.
//
//	PREFIX/org_id=ORG/year=YYYY/month=MM/day=DD/g0000000012-s000003-0001.jsonl.gz
//	PREFIX/_digests/org_id=ORG/g0000000012.json
//	PREFIX/_state/org_id=ORG/checkpoint.json
//
// Athena (like Hive) skips paths whose names start with an underscore, so a
// table located at PREFIX/ reads only the data objects.
//
// A data object's name is deterministic, sortable and unique per generation:
// the generation that wrote it, the time slice it belongs to and the slice's
// object sequence number. A retried write of the same object therefore hits
// the same key, which the exporter writes with If-None-Match: *.
package layout

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Layout is one organization's export under one prefix.
type Layout struct {
	Prefix string // without leading or trailing slash; may be empty
	OrgID  string
}

// New validates prefix and org and returns their layout. The prefix loses
// surrounding slashes.
func New(prefix, orgID string) (Layout, error) {
	prefix = strings.Trim(prefix, "/")
	if err := ValidatePrefix(prefix); err != nil {
		return Layout{}, err
	}
	if err := ValidateOrgID(orgID); err != nil {
		return Layout{}, err
	}
	return Layout{Prefix: prefix, OrgID: orgID}, nil
}

// ValidatePrefix accepts a key prefix that cannot be mistaken for another
// part of the layout.
func ValidatePrefix(prefix string) error {
	switch {
	case strings.Contains(prefix, "//"):
		return fmt.Errorf("prefix %q: empty path segment", prefix)
	case len(prefix) > 512:
		return fmt.Errorf("prefix %q: longer than 512 bytes", prefix)
	}
	for _, seg := range strings.Split(prefix, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("prefix %q: relative segment %q", prefix, seg)
		}
		if strings.HasPrefix(seg, "_") || strings.Contains(seg, "=") {
			return fmt.Errorf("prefix %q: segment %q looks like a partition or a hidden folder", prefix, seg)
		}
	}
	for _, r := range prefix {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("prefix %q: control character", prefix)
		}
	}
	return nil
}

// ValidateOrgID accepts an organization id usable as a partition value.
func ValidateOrgID(org string) error {
	if org == "" {
		return errors.New("organization id is empty")
	}
	if len(org) > 128 {
		return fmt.Errorf("organization id %q: longer than 128 bytes", org)
	}
	for _, r := range org {
		ok := r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("organization id %q: only letters, digits, '-' and '_' are allowed", org)
		}
	}
	return nil
}

func (l Layout) join(parts ...string) string {
	if l.Prefix != "" {
		parts = append([]string{l.Prefix}, parts...)
	}
	return strings.Join(parts, "/")
}

// DataPrefix is where every data object of the organization lives.
func (l Layout) DataPrefix() string { return l.join("org_id="+l.OrgID) + "/" }

// DigestPrefix is where the organization's digests live.
func (l Layout) DigestPrefix() string { return l.join("_digests", "org_id="+l.OrgID) + "/" }

// StateKey is the checkpoint object.
func (l Layout) StateKey() string { return l.join("_state", "org_id="+l.OrgID, "checkpoint.json") }

// DigestKey is generation gen's digest.
func (l Layout) DigestKey(gen int64) string {
	return l.DigestPrefix() + fmt.Sprintf("g%010d.json", gen)
}

// DayPrefix is the partition of the UTC day holding unix second at.
func (l Layout) DayPrefix(at int64) string {
	t := time.Unix(at, 0).UTC()
	return l.DataPrefix() + fmt.Sprintf("year=%04d/month=%02d/day=%02d/", t.Year(), int(t.Month()), t.Day())
}

// DataKey names object seq of slice in generation gen, in the partition of
// the day holding unix second at.
func (l Layout) DataKey(at, gen, slice int64, seq int) string {
	return l.DayPrefix(at) + fmt.Sprintf("g%010d-s%06d-%04d.jsonl.gz", gen, slice, seq)
}

// DataName is what a data key says about its object.
type DataName struct {
	Day        time.Time // midnight UTC of the partition
	Generation int64
	Slice      int64
	Seq        int
}

// ParseDataKey reads a key under DataPrefix. ok is false for anything that
// is not a data object name of this layout.
func (l Layout) ParseDataKey(key string) (DataName, bool) {
	rest, ok := strings.CutPrefix(key, l.DataPrefix())
	if !ok {
		return DataName{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 4 {
		return DataName{}, false
	}
	y, ok1 := partition(parts[0], "year=", 4)
	m, ok2 := partition(parts[1], "month=", 2)
	d, ok3 := partition(parts[2], "day=", 2)
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > 31 {
		return DataName{}, false
	}
	day := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if day.Day() != d {
		return DataName{}, false // e.g. February 30
	}
	name, ok := strings.CutSuffix(parts[3], ".jsonl.gz")
	if !ok || len(name) != len("g0000000000-s000000-0000") || name[0] != 'g' || name[11] != '-' || name[12] != 's' || name[19] != '-' {
		return DataName{}, false
	}
	gen, err1 := strconv.ParseInt(name[1:11], 10, 64)
	slice, err2 := strconv.ParseInt(name[13:19], 10, 64)
	seq, err3 := strconv.Atoi(name[20:])
	if err1 != nil || err2 != nil || err3 != nil {
		return DataName{}, false
	}
	return DataName{Day: day, Generation: gen, Slice: slice, Seq: seq}, true
}

// ParseDigestKey reads a key under DigestPrefix.
func (l Layout) ParseDigestKey(key string) (gen int64, ok bool) {
	rest, ok := strings.CutPrefix(key, l.DigestPrefix())
	if !ok {
		return 0, false
	}
	name, ok := strings.CutSuffix(rest, ".json")
	if !ok || len(name) != 11 || name[0] != 'g' {
		return 0, false
	}
	gen, err := strconv.ParseInt(name[1:], 10, 64)
	if err != nil || gen <= 0 {
		return 0, false
	}
	return gen, true
}

// SameDay reports whether two unix seconds fall in the same UTC day, i.e.
// in the same partition.
func SameDay(a, b int64) bool { return floorDay(a) == floorDay(b) }

// DayStart is the first second of the UTC day holding at.
func DayStart(at int64) int64 { return floorDay(at) * 86400 }

func floorDay(at int64) int64 {
	d := at / 86400
	if at%86400 < 0 {
		d--
	}
	return d
}

func partition(seg, name string, width int) (int, bool) {
	v, ok := strings.CutPrefix(seg, name)
	if !ok || len(v) != width {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}
