package snapshot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/functions/inventory/snapshot"
	"github.com/orgwarden/orgwarden/functions/inventory/tables"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

// memStore is an in-memory Store with S3's conditional-write rules.
type memStore struct {
	mu      sync.Mutex
	objects map[string][]byte
	etags   map[string]string
	n       int
	// failCreate, when it returns an error for a key, fails that write.
	failCreate func(key string) error
}

func newMemStore() *memStore {
	return &memStore{objects: map[string][]byte{}, etags: map[string]string{}}
}

func (m *memStore) set(key string, body []byte) {
	m.n++
	m.objects[key] = slices.Clone(body)
	m.etags[key] = fmt.Sprintf(`"%d"`, m.n)
}

func (m *memStore) Create(_ context.Context, key string, body []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failCreate != nil {
		if err := m.failCreate(key); err != nil {
			return err
		}
	}
	if _, ok := m.objects[key]; ok {
		return fmt.Errorf("create %s: %w", key, snapshot.ErrExists)
	}
	m.set(key, body)
	return nil
}

func (m *memStore) Replace(_ context.Context, key string, body []byte, etag string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.etags[key] != etag {
		return fmt.Errorf("replace %s: %w", key, snapshot.ErrExists)
	}
	m.set(key, body)
	return nil
}

func (m *memStore) Get(_ context.Context, key string) ([]byte, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objects[key]
	if !ok {
		return nil, "", fmt.Errorf("get %s: %w", key, snapshot.ErrNotFound)
	}
	return slices.Clone(b), m.etags[key], nil
}

func (m *memStore) List(_ context.Context, prefix string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

type world struct {
	srv    *adminapitest.Server
	api    *adminclient.Client
	store  *memStore
	s      *snapshot.Snapshotter
	layout snapshot.Layout
}

func newWorld(t *testing.T) *world {
	t.Helper()
	seed := adminapi.SmallSeed(7)
	// A clock that moves only when told: admin keys' last_used_at (touched
	// by every call) stays the same between the snapshot's reads and the
	// test's.
	fixed := time.Date(2026, 9, 30, 12, 0, 0, 0, time.UTC)
	srv := adminapitest.New(t, adminapi.Options{Seed: &seed, Clock: func() time.Time { return fixed }})
	api, err := adminclient.New(adminclient.Options{BaseURL: srv.URL, AdminKey: logging.Secret(srv.AdminKey), PageSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	store := newMemStore()
	l := snapshot.Layout{Prefix: "evidence", OrgID: "org-test"}
	return &world{srv: srv, api: api, store: store, layout: l,
		s: &snapshot.Snapshotter{Store: store, Layout: l, Log: slog.New(slog.DiscardHandler)}}
}

func (w *world) snapshot(t *testing.T) snapshot.Run {
	t.Helper()
	run, err := w.s.Snapshot(context.Background(), w.api, w.srv.Emulator.Now)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func (w *world) lines(t *testing.T, table, dt string) [][]byte {
	t.Helper()
	body, ok := w.store.objects[w.layout.ObjectKey(table, dt)]
	if !ok {
		t.Fatalf("no object for %s on %s", table, dt)
	}
	lines, err := snapshot.Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// served reads what the API serves for path in one plain HTTP request: the
// data items of a list, or the object.
func served(t *testing.T, srv *adminapitest.Server, path string, q url.Values) []json.RawMessage {
	t.Helper()
	if q == nil {
		q = url.Values{}
	}
	if !strings.HasSuffix(path, "data_retention") && !strings.HasSuffix(path, "model_permissions") {
		q.Set("limit", "100")
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/"+path+"?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+srv.AdminKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var page struct {
		Object  string            `json:"object"`
		Data    []json.RawMessage `json:"data"`
		HasMore bool              `json:"has_more"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if page.Object != "list" {
		return []json.RawMessage{bytes.TrimSpace(body)}
	}
	if page.HasMore {
		t.Fatalf("%s: more than 100 items", path)
	}
	return page.Data
}

func TestEveryRecordIsTheAPIsBytes(t *testing.T) {
	w := newWorld(t)
	run := w.snapshot(t)
	if run.Outcome != snapshot.Written || len(run.Tables) != len(tables.All) {
		t.Fatalf("run %+v", run)
	}
	projects := w.srv.Emulator.Projects()
	archived := 0
	for _, p := range projects {
		if p.Status == "archived" {
			archived++
		}
	}
	if archived == 0 {
		t.Fatal("the seed has no archived project: the test would not see one")
	}
	for _, src := range snapshot.Sources {
		tbl, _ := tables.ByName(src.Table)
		t.Run(src.Table, func(t *testing.T) {
			var want [][]byte
			q := url.Values{}
			path := map[string]string{
				"users": "organization/users", "invites": "organization/invites", "projects": "organization/projects",
				"admin_api_keys": "organization/admin_api_keys", "organization_data_retention": "organization/data_retention",
				"organization_spend_alerts": "organization/spend_alerts", "project_users": "users",
				"project_service_accounts": "service_accounts", "project_api_keys": "api_keys", "project_rate_limits": "rate_limits",
				"project_model_permissions": "model_permissions", "project_data_retention": "data_retention", "project_spend_alerts": "spend_alerts",
			}[src.Table]
			switch src.Table {
			case "projects":
				q.Set("include_archived", "true")
			case "project_api_keys":
				q.Set("owner_project_access", "any")
			}
			if tbl.Scope == tables.Organization {
				for _, item := range served(t, w.srv, path, q) {
					want = append(want, item)
				}
			} else {
				for _, p := range projects {
					if src.ActiveOnly && p.Status == "archived" {
						continue
					}
					for _, item := range served(t, w.srv, "organization/projects/"+p.ID+"/"+path, q) {
						id, _ := json.Marshal(p.ID)
						want = append(want, []byte(`{"project_id":`+string(id)+`,"record":`+string(item)+`}`))
					}
				}
			}
			got := w.lines(t, src.Table, run.Date)
			if len(got) != len(want) {
				t.Fatalf("%d lines, the API serves %d", len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
				}
			}
			info, _ := manifestOf(t, w, run.Date).Table(src.Table)
			if info.Records != int64(len(want)) {
				t.Errorf("manifest says %d records, %d written", info.Records, len(want))
			}
		})
	}
}

func manifestOf(t *testing.T, w *world, dt string) snapshot.Manifest {
	t.Helper()
	m, err := snapshot.ParseManifest(w.store.objects[w.layout.ManifestKey(dt)])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestChainAcrossDaysAndIdempotentRerun(t *testing.T) {
	w := newWorld(t)
	first := w.snapshot(t)
	objects := len(w.store.objects)

	// The same day again: nothing written, whatever changed since.
	if _, err := w.srv.Emulator.AddUser(adminapi.NewUser{Email: "late@example.com", Name: "Late", Role: "reader"}); err != nil {
		t.Fatal(err)
	}
	again := w.snapshot(t)
	if again.Outcome != snapshot.AlreadyComplete || len(w.store.objects) != objects {
		t.Fatalf("re-run: %+v, %d objects (was %d)", again, len(w.store.objects), objects)
	}

	w.srv.Emulator.AdvanceClock(24 * time.Hour)
	second := w.snapshot(t)
	if second.Date == first.Date || second.Sequence != 2 {
		t.Fatalf("second run %+v", second)
	}
	m := manifestOf(t, w, second.Date)
	if m.Previous == nil || m.Previous.Key != w.layout.ManifestKey(first.Date) || m.Previous.Generation != 1 {
		t.Fatalf("second manifest links %+v", m.Previous)
	}
	if got := len(w.lines(t, "users", second.Date)) - len(w.lines(t, "users", first.Date)); got != 1 {
		t.Errorf("second day has %d more users, want 1", got)
	}
	if m.APICalls <= 0 || m.APICalls != second.APICalls {
		t.Errorf("manifest api calls %d, run %d", m.APICalls, second.APICalls)
	}
	// Unchanged tables give the same bytes on both days.
	if !bytes.Equal(w.store.objects[w.layout.ObjectKey("project_data_retention", first.Date)], w.store.objects[w.layout.ObjectKey("project_data_retention", second.Date)]) {
		t.Error("the projects' data retention did not change, its objects did")
	}

	rep, err := snapshot.Verify(context.Background(), w.store, w.layout)
	if err != nil || !rep.OK() || rep.Snapshots != 2 || rep.Objects != 2*len(tables.All) {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}

func TestVerifyCatchesTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(w *world, day1, day2 string)
		want   string
	}{
		{"one byte of an object", func(w *world, day1, _ string) {
			k := w.layout.ObjectKey("users", day1)
			w.store.objects[k][len(w.store.objects[k])-5] ^= 1
		}, "sha256"},
		{"an object removed", func(w *world, day1, _ string) {
			delete(w.store.objects, w.layout.ObjectKey("project_api_keys", day1))
		}, "missing"},
		{"an object added to a partition", func(w *world, day1, _ string) {
			w.store.objects[w.layout.PartitionPrefix("users", day1)+"extra.jsonl.gz"] = []byte("x")
		}, "in no manifest"},
		{"the first manifest rewritten", func(w *world, day1, _ string) {
			k := w.layout.ManifestKey(day1)
			w.store.objects[k] = bytes.Replace(w.store.objects[k], []byte(`"api_calls": `), []byte(`"api_calls": 1`), 1)
		}, "does not link"},
		{"the first manifest removed", func(w *world, day1, _ string) {
			delete(w.store.objects, w.layout.ManifestKey(day1))
		}, "no earlier manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			day1 := w.snapshot(t).Date
			w.srv.Emulator.AdvanceClock(24 * time.Hour)
			day2 := w.snapshot(t).Date
			tt.tamper(w, day1, day2)
			rep, err := snapshot.Verify(context.Background(), w.store, w.layout)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), tt.want) {
				t.Fatalf("problems %q, want one saying %q", rep.Problems, tt.want)
			}
		})
	}
}

func TestAFailedRunLeavesNoSnapshotAndTheNextReplacesItsObjects(t *testing.T) {
	w := newWorld(t)
	// The run fails writing its 5th table: 4 objects are in place, no manifest.
	failAt := w.layout.ObjectKey(snapshot.Sources[4].Table, w.srv.Emulator.Now().UTC().Format(snapshot.DateFormat))
	w.store.failCreate = func(key string) error {
		if key == failAt {
			return fmt.Errorf("injected: %w", context.DeadlineExceeded)
		}
		return nil
	}
	run, err := w.s.Snapshot(context.Background(), w.api, w.srv.Emulator.Now)
	if err == nil || run.Outcome != snapshot.Failed {
		t.Fatalf("run %+v, %v", run, err)
	}
	if _, ok := w.store.objects[w.layout.ManifestKey(run.Date)]; ok {
		t.Fatal("a failed run wrote a manifest")
	}
	rep, _ := snapshot.Verify(context.Background(), w.store, w.layout)
	if rep.Snapshots != 0 || len(rep.Problems) != 4 {
		t.Fatalf("verify after the failure: %+v", rep)
	}

	// The org changes, then the same day runs again: the leftovers are
	// replaced (users changed), adopted (the rest), and the day is complete.
	w.store.failCreate = nil
	if _, err := w.srv.Emulator.AddUser(adminapi.NewUser{Email: "new@example.com", Name: "New", Role: "reader"}); err != nil {
		t.Fatal(err)
	}
	again := w.snapshot(t)
	if again.Outcome != snapshot.Written || again.Replaced != 1 || again.Adopted != 3 {
		t.Fatalf("re-run %+v", again)
	}
	rep, err = snapshot.Verify(context.Background(), w.store, w.layout)
	if err != nil || !rep.OK() || rep.Snapshots != 1 {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}

func TestAnAPIErrorFailsTheSnapshotWhole(t *testing.T) {
	w := newWorld(t)
	api, err := adminclient.New(adminclient.Options{BaseURL: w.srv.URL, AdminKey: "sk-admin-wrong", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	run, err := w.s.Snapshot(context.Background(), api, w.srv.Emulator.Now)
	if err == nil || run.Outcome != snapshot.Failed || len(w.store.objects) != 0 {
		t.Fatalf("run %+v, %v, %d objects", run, err, len(w.store.objects))
	}
}
