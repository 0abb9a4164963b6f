package sqltest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/orgwarden/orgwarden/functions/inventory/snapshot"
	"github.com/orgwarden/orgwarden/functions/inventory/tables"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

// dirStore is a Store on a directory: keys are paths, so the snapshot lands
// in the Hive layout DuckDB reads, as it lands in S3 for Athena.
type dirStore struct{ root string }

func (d dirStore) path(key string) string { return filepath.Join(d.root, filepath.FromSlash(key)) }

func (d dirStore) Create(_ context.Context, key string, body []byte) error {
	if _, err := os.Stat(d.path(key)); err == nil {
		return snapshot.ErrExists
	}
	if err := os.MkdirAll(filepath.Dir(d.path(key)), 0o755); err != nil {
		return err
	}
	return os.WriteFile(d.path(key), body, 0o644)
}

func (d dirStore) Replace(_ context.Context, key string, body []byte, _ string) error {
	return os.WriteFile(d.path(key), body, 0o644)
}

func (d dirStore) Get(_ context.Context, key string) ([]byte, string, error) {
	b, err := os.ReadFile(d.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", snapshot.ErrNotFound
	}
	return b, "", err
}

func (d dirStore) List(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(d.root, p)
		if k := filepath.ToSlash(rel); strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
		return nil
	})
	slices.Sort(keys)
	return keys, err
}

// views declares one DuckDB view per inventory table over its partitions,
// with the Glue table's columns (package tables) and its partition columns
// as strings, as Glue declares them.
func views(t *testing.T, db *sql.DB, root string, l snapshot.Layout) {
	t.Helper()
	for _, tbl := range tables.All {
		var cols []string
		for _, c := range tbl.Columns() {
			cols = append(cols, fmt.Sprintf("'%s': '%s'", c.Name, c.Type.DuckDB()))
		}
		glob := filepath.Join(root, filepath.FromSlash(l.TablePrefix(tbl.Name)), "org_id=*", "dt=*", "*.jsonl.gz")
		q := fmt.Sprintf(`CREATE VIEW %s AS SELECT * FROM read_json('%s', format = 'newline_delimited', compression = 'gzip',
			hive_partitioning = true, hive_types_autocast = false, columns = {%s})`, tbl.Name, glob, strings.Join(cols, ", "))
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("view %s: %v\n%s", tbl.Name, err, q)
		}
	}
}

// readmeQuery returns the query the README (functions/inventory/README.md)
// shows under <!-- query: name -->: the tests run exactly what the README
// tells people to run in Athena.
func readmeQuery(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- query: "+name+" -->\n```sql\n")
	if !ok {
		t.Fatalf("README has no query %s", name)
	}
	q, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatalf("README query %s is not closed", name)
	}
	return q
}

func TestQueriesOverTheExportedPartitions(t *testing.T) {
	seed := adminapi.SmallSeed(7)
	srv := adminapitest.New(t, adminapi.Options{Seed: &seed})
	emu := srv.Emulator
	api, err := adminclient.New(adminclient.Options{BaseURL: srv.URL, AdminKey: logging.Secret(srv.AdminKey)})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	l := snapshot.Layout{Prefix: "evidence", OrgID: "org-sql"}
	s := &snapshot.Snapshotter{Store: dirStore{root}, Layout: l, Log: slog.New(slog.DiscardHandler)}
	day1, err := s.Snapshot(context.Background(), api, emu.Now)
	if err != nil {
		t.Fatal(err)
	}
	// The next day, one more owner: the first day's answer must not see them.
	emu.AdvanceClock(24 * time.Hour)
	if _, err := emu.AddUser(adminapi.NewUser{Email: "new-owner@example.com", Name: "New Owner", Role: "owner"}); err != nil {
		t.Fatal(err)
	}
	day2, err := s.Snapshot(context.Background(), api, emu.Now)
	if err != nil || day2.Date == day1.Date {
		t.Fatalf("second snapshot %+v: %v", day2, err)
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	views(t, db, root, l)
	// Athena's (Trino's) name for DuckDB's epoch, so the README's queries run as written.
	if _, err := db.Exec(`CREATE MACRO to_unixtime(ts) AS epoch(ts)`); err != nil {
		t.Fatal(err)
	}
	ownersOnDay, keysUnused90Days := readmeQuery(t, "owners-on-day"), readmeQuery(t, "keys-unused-90-days")

	// Owners on day 1: the organization's owners and every project owner,
	// as the emulator had them (the new owner came a day later).
	var want []string
	for _, u := range emu.Users() {
		if u.Role == "owner" && u.Email != "new-owner@example.com" {
			want = append(want, "organization||"+u.Email)
		}
	}
	for _, p := range emu.Projects() {
		if p.Status == "archived" {
			continue // the API lists no members of an archived project
		}
		for _, m := range emu.ProjectUsers(p.ID) {
			if m.Role == "owner" {
				want = append(want, "project|"+p.ID+"|"+m.Email)
			}
		}
	}
	slices.Sort(want)
	got := rows(t, db, ownersOnDay, day1.Date, day1.Date)
	slices.Sort(got)
	if len(want) < 2 || !slices.Equal(got, want) {
		t.Errorf("owners on %s:\n got  %v\n want %v", day1.Date, got, want)
	}
	if n := len(rows(t, db, ownersOnDay, day2.Date, day2.Date)); n != len(want)+1 {
		t.Errorf("owners on %s: %d, want %d", day2.Date, n, len(want)+1)
	}

	// Keys unused for 90 days as of day 1, against the emulator's own view.
	cutoff := mustDate(t, day1.Date).Add(-90 * 24 * time.Hour)
	want = nil
	for _, p := range emu.Projects() {
		for _, k := range emu.ProjectAPIKeys(p.ID) {
			last := k.LastUsedAt
			if last.IsZero() {
				last = k.CreatedAt
			}
			if last.Before(cutoff) {
				want = append(want, p.ID+"|"+k.ID)
			}
		}
	}
	got = nil
	for _, r := range rows(t, db, keysUnused90Days, day1.Date, day1.Date) {
		f := strings.Split(r, "|")
		got = append(got, f[0]+"|"+f[1])
	}
	slices.Sort(want)
	slices.Sort(got)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("keys unused for 90 days on %s:\n got  %v\n want %v", day1.Date, got, want)
	}
}

func mustDate(t *testing.T, dt string) time.Time {
	t.Helper()
	d, err := time.Parse(snapshot.DateFormat, dt)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rows runs q and returns each row's first columns (up to three) joined by |.
func rows(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	r, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer r.Close()
	cols, _ := r.Columns()
	var out []string
	for r.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for i := 0; i < len(vals) && i < 3; i++ {
			parts = append(parts, vals[i].String)
		}
		if len(cols) == 4 { // owners: scope, project, email
			parts = []string{vals[0].String, vals[1].String, vals[2].String}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
