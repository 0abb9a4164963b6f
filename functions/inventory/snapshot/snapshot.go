package snapshot

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/digest"
	"github.com/orgwarden/orgwarden/functions/inventory/tables"
	"github.com/orgwarden/orgwarden/shared/logging"
)

// Outcome is what a run came to.
type Outcome string

const (
	// Written: this run wrote the day's snapshot (its manifest last).
	Written Outcome = "written"
	// AlreadyComplete: the day's manifest existed; nothing was written.
	AlreadyComplete Outcome = "already_complete"
	// Failed: no manifest was written; the day has no snapshot (objects
	// this run wrote are replaced by the next run of the day).
	Failed Outcome = "failed"
)

// Snapshotter writes snapshots of one organization into a Store.
type Snapshotter struct {
	Store  Store
	Layout Layout
	Log    *slog.Logger
	// Sources default to the registry (Sources).
	Sources []Source
}

// Run is one snapshot's result.
type Run struct {
	Outcome  Outcome     `json:"outcome"`
	Date     string      `json:"dt"`
	Manifest string      `json:"manifest,omitempty"`
	Sequence int64       `json:"sequence,omitempty"`
	APICalls int64       `json:"api_calls"`
	Tables   []TableInfo `json:"tables"`
	// Adopted objects were found at their key holding exactly this run's
	// bytes (a retry); Replaced ones held what a run that failed before its
	// manifest left there.
	Adopted  int `json:"adopted"`
	Replaced int `json:"replaced"`
}

// Snapshot reads every table through api and writes the day of now (UTC):
// objects first, the manifest last. A day whose manifest exists is left
// alone (AlreadyComplete): a re-run never writes a second copy.
func (s *Snapshotter) Snapshot(ctx context.Context, api Lister, now func() time.Time) (Run, error) {
	started := now().UTC()
	dt := started.Format(DateFormat)
	run := Run{Outcome: Failed, Date: dt, Tables: []TableInfo{}}
	prev, existing, err := s.previous(ctx, dt)
	if err != nil {
		return run, err
	}
	if existing != "" {
		run.Outcome, run.Manifest = AlreadyComplete, existing
		return run, nil
	}
	calls := api.Stats().Requests
	records, err := s.read(ctx, api)
	run.APICalls = api.Stats().Requests - calls
	if err != nil {
		return run, err
	}
	for _, src := range s.sources() {
		info, how, err := s.write(ctx, src.Table, dt, records[src.Table])
		if err != nil {
			return run, err
		}
		switch how {
		case adopted:
			run.Adopted++
		case replaced:
			run.Replaced++
			s.Log.WarnContext(ctx, "replaced an object left by a run that wrote no manifest", "key", info.Key)
		}
		run.Tables = append(run.Tables, info)
	}
	m := Manifest{
		OrgID: s.Layout.OrgID, Date: dt, Sequence: 1, RunID: logging.RunID(ctx),
		StartedAt: started.Format(time.RFC3339), FinishedAt: now().UTC().Format(time.RFC3339),
		APICalls: run.APICalls, Tables: run.Tables,
	}
	if prev != nil {
		m.Previous, m.Sequence = prev, prev.Generation+1
	}
	body, err := m.Encode()
	if err != nil {
		return run, err
	}
	key := s.Layout.ManifestKey(dt)
	if err := s.Store.Create(ctx, key, body); err != nil {
		if errors.Is(err, ErrExists) {
			return run, fmt.Errorf("another run completed the snapshot of %s while this one ran; its manifest stands: %w", dt, err)
		}
		return run, err
	}
	run.Outcome, run.Manifest, run.Sequence = Written, key, m.Sequence
	return run, nil
}

func (s *Snapshotter) sources() []Source {
	if s.Sources != nil {
		return s.Sources
	}
	return Sources
}

// previous finds the newest manifest before dt, and dt's own if it exists.
// A manifest after dt means the clock went back: the chain is by day, so
// the run refuses rather than fork it.
func (s *Snapshotter) previous(ctx context.Context, dt string) (*digest.Link, string, error) {
	keys, err := s.Store.List(ctx, s.Layout.ManifestPrefix())
	if err != nil {
		return nil, "", err
	}
	var last string
	for _, k := range keys {
		d := s.Layout.ManifestDate(k)
		switch {
		case d == "":
			continue
		case d == dt:
			return nil, k, nil
		case d > dt:
			return nil, "", fmt.Errorf("a snapshot of %s exists, after today (%s): is the clock right?", d, dt)
		case d > last:
			last = d
		}
	}
	if last == "" {
		return nil, "", nil
	}
	key := s.Layout.ManifestKey(last)
	body, _, err := s.Store.Get(ctx, key)
	if err != nil {
		return nil, "", err
	}
	m, err := ParseManifest(body)
	if err != nil {
		return nil, "", fmt.Errorf("previous manifest %s: %w", key, err)
	}
	return &digest.Link{Generation: m.Sequence, Key: key, SHA256: digest.Sum(body)}, "", nil
}

// task is one list to read: an organization table, or a project's part of
// a project table.
type task struct {
	src     Source
	project *Project
	slot    int
}

// read lists every table, the projects first (the per-project tables need
// them), then everything else with at most api.Concurrency() lists at once.
// Lines come back in a fixed order (the API's, projects in the projects
// list's order) whatever the order the lists finish in, so the same
// organization gives the same bytes.
func (s *Snapshotter) read(ctx context.Context, api Lister) (map[string][][]byte, error) {
	srcs := s.sources()
	out := make(map[string][][]byte, len(srcs))
	var projects []Project
	var tasks []task
	for _, src := range srcs {
		if src.Table != "projects" {
			continue
		}
		lines, err := s.lines(ctx, api, src, nil)
		if err != nil {
			return nil, err
		}
		out[src.Table] = lines
		for _, l := range lines {
			p, err := projectOf(l)
			if err != nil {
				return nil, err
			}
			projects = append(projects, p)
		}
	}
	parts := map[string][][][]byte{}
	for _, src := range srcs {
		t, ok := tables.ByName(src.Table)
		if !ok {
			return nil, fmt.Errorf("source %s: no such table in package tables", src.Table)
		}
		switch {
		case src.Table == "projects":
		case t.Scope == tables.Organization:
			tasks = append(tasks, task{src: src})
		default:
			parts[src.Table] = make([][][]byte, len(projects))
			for i := range projects {
				if src.ActiveOnly && projects[i].Archived {
					continue
				}
				tasks = append(tasks, task{src: src, project: &projects[i], slot: i})
			}
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, max(1, api.Concurrency()))
	)
	for _, t := range tasks {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			lines, err := s.lines(ctx, api, t.src, t.project)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
				cancel() // the snapshot fails whole: stop reading
			case t.project == nil:
				out[t.src.Table] = lines
			default:
				parts[t.src.Table][t.slot] = lines
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for name, ps := range parts {
		out[name] = slices.Concat(ps...)
	}
	return out, nil
}

// lines reads one list into JSON lines: the record's own bytes for the
// organization, wrapped with the project's id for a project.
func (s *Snapshotter) lines(ctx context.Context, api Lister, src Source, p *Project) ([][]byte, error) {
	var out [][]byte
	for raw, err := range src.List(ctx, api, p) {
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", src.Table, err)
		}
		line, err := Line(raw, p)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", src.Table, err)
		}
		out = append(out, line)
	}
	return out, nil
}

// Line is one record's line: its JSON as the API sent it (whitespace that
// would break the line dropped, nothing else), wrapped with the project's
// id when p is set.
func Line(raw []byte, p *Project) ([]byte, error) {
	rec := raw
	if bytes.ContainsAny(raw, "\r\n") {
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return nil, fmt.Errorf("record is not JSON: %w", err)
		}
		rec = b.Bytes()
	}
	if p == nil {
		return slices.Clone(rec), nil
	}
	id, _ := json.Marshal(p.ID)
	line := make([]byte, 0, len(rec)+len(id)+27)
	line = append(line, `{"project_id":`...)
	line = append(line, id...)
	line = append(line, `,"record":`...)
	line = append(line, rec...)
	return append(line, '}'), nil
}

func projectOf(line []byte) (Project, error) {
	var p struct {
		ID         string  `json:"id"`
		Status     *string `json:"status"`
		ArchivedAt *int64  `json:"archived_at"`
	}
	if err := json.Unmarshal(line, &p); err != nil || p.ID == "" {
		return Project{}, fmt.Errorf("table projects: a record without an id: %v", err)
	}
	return Project{ID: p.ID, Archived: (p.Status != nil && *p.Status == "archived") || (p.ArchivedAt != nil && *p.ArchivedAt > 0)}, nil
}

type writeHow int

const (
	created writeHow = iota
	adopted
	replaced
)

// write puts one table's object. The key is fixed per table and day: a key
// already holding these bytes is adopted; one holding other bytes is what
// a run that wrote no manifest left (the day has no manifest, or this run
// would not be here), and is replaced, only if it is still that object.
func (s *Snapshotter) write(ctx context.Context, table, dt string, lines [][]byte) (TableInfo, writeHow, error) {
	body, err := Encode(lines)
	if err != nil {
		return TableInfo{}, 0, err
	}
	key := s.Layout.ObjectKey(table, dt)
	info := TableInfo{Name: table, Key: key, SHA256: digest.Sum(body), Bytes: int64(len(body)), Records: int64(len(lines))}
	err = s.Store.Create(ctx, key, body)
	if err == nil || !errors.Is(err, ErrExists) {
		return info, created, err
	}
	have, etag, err := s.Store.Get(ctx, key)
	if err != nil {
		return info, 0, err
	}
	if bytes.Equal(have, body) {
		return info, adopted, nil
	}
	if err := s.Store.Replace(ctx, key, body, etag); err != nil {
		return info, 0, err
	}
	return info, replaced, nil
}

// Encode is a table object: gzip JSON Lines. The gzip header carries no
// name and no time, so the same lines give the same bytes.
func Encode(lines [][]byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		if _, err := zw.Write(l); err != nil {
			return nil, err
		}
		if _, err := zw.Write([]byte{'\n'}); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
