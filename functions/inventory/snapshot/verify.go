package snapshot

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/digest"
	"github.com/orgwarden/orgwarden/functions/inventory/tables"
)

// Decode reads a table object's lines.
func Decode(body []byte) ([][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		lines = append(lines, slices.Clone(sc.Bytes()))
	}
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		return nil, errors.New("last line not terminated by a newline")
	}
	return lines, sc.Err()
}

// Report is what Verify found.
type Report struct {
	Snapshots int      `json:"snapshots"`
	Objects   int      `json:"objects"`
	Records   int64    `json:"records"`
	First     string   `json:"first,omitempty"`
	Last      string   `json:"last,omitempty"`
	Problems  []string `json:"problems"`
}

// OK says the chain verified.
func (r Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Write prints the report for a person.
func (r Report) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "inventory: %d snapshots (%s to %s), %d objects, %d records\n", r.Snapshots, r.First, r.Last, r.Objects, r.Records)
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "PROBLEM: %s\n", p)
	}
	if r.OK() {
		b.WriteString("inventory: OK\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Verify walks one organization's manifest chain, oldest first: each
// manifest parses, numbers itself one past the previous one and links to
// it by key and SHA-256; every object it lists holds exactly the bytes
// (SHA-256, size) and records (valid JSON lines) it says; and no table
// partition holds an object no manifest lists (leftovers of a run that
// failed, or additions), which Athena would read.
func Verify(ctx context.Context, store Store, l Layout) (Report, error) {
	rep := Report{Problems: []string{}}
	keys, err := store.List(ctx, l.ManifestPrefix())
	if err != nil {
		return rep, err
	}
	var dates []string
	for _, k := range keys {
		if d := l.ManifestDate(k); d != "" {
			dates = append(dates, d)
		} else {
			rep.problem("%s: not a manifest name", k)
		}
	}
	slices.Sort(dates)
	listed := map[string]bool{}
	var prev *digest.Link
	for _, dt := range dates {
		key := l.ManifestKey(dt)
		body, _, err := store.Get(ctx, key)
		if err != nil {
			return rep, err
		}
		rep.Snapshots++
		if rep.First == "" {
			rep.First = dt
		}
		rep.Last = dt
		m, err := ParseManifest(body)
		if err != nil {
			rep.problem("%s: %v", key, err)
			prev = nil
			continue
		}
		if m.Date != dt || m.OrgID != l.OrgID {
			rep.problem("%s: names day %s of %s", key, m.Date, m.OrgID)
		}
		switch {
		case prev == nil && m.Sequence != 1 && rep.Snapshots == 1:
			rep.problem("%s: sequence %d, but no earlier manifest exists (manifests were removed)", key, m.Sequence)
		case prev != nil && (m.Previous == nil || *m.Previous != *prev):
			rep.problem("%s: does not link to the previous manifest %s (sequence %d, sha256 %s): a manifest was changed, removed or inserted", key, prev.Key, prev.Generation, prev.SHA256)
		case prev != nil && m.Sequence != prev.Generation+1:
			rep.problem("%s: sequence %d after %d", key, m.Sequence, prev.Generation)
		}
		prev = &digest.Link{Generation: m.Sequence, Key: key, SHA256: digest.Sum(body)}
		for _, t := range m.Tables {
			listed[t.Key] = true
			rep.Objects++
			checkObject(ctx, store, t, &rep)
		}
	}
	// Every partition's objects are listed by a manifest.
	for _, t := range tables.All {
		keys, err := store.List(ctx, l.TablePrefix(t.Name)+"org_id="+l.OrgID+"/")
		if err != nil {
			return rep, err
		}
		for _, k := range keys {
			if !listed[k] {
				rep.problem("%s: in a table partition but in no manifest (a run that failed before its manifest, or an addition); Athena reads it", k)
			}
		}
	}
	return rep, nil
}

func checkObject(ctx context.Context, store Store, t TableInfo, rep *Report) {
	body, _, err := store.Get(ctx, t.Key)
	if errors.Is(err, ErrNotFound) {
		rep.problem("%s: listed by the manifest, missing", t.Key)
		return
	}
	if err != nil {
		rep.problem("%s: %v", t.Key, err)
		return
	}
	if sum := digest.Sum(body); sum != t.SHA256 || int64(len(body)) != t.Bytes {
		rep.problem("%s: sha256 %s (%d bytes), the manifest says %s (%d bytes)", t.Key, sum, len(body), t.SHA256, t.Bytes)
		return
	}
	lines, err := Decode(body)
	if err != nil {
		rep.problem("%s: %v", t.Key, err)
		return
	}
	if int64(len(lines)) != t.Records {
		rep.problem("%s: %d records, the manifest says %d", t.Key, len(lines), t.Records)
	}
	for i, line := range lines {
		if !json.Valid(line) {
			rep.problem("%s: line %d is not JSON", t.Key, i+1)
			return
		}
	}
	rep.Records += int64(len(lines))
}
