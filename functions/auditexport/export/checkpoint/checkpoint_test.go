package checkpoint_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/checkpoint"
	"github.com/orgwarden/orgwarden/testenv/memobjects"
)

// newStores returns n stores of one checkpoint, kept in memory: the
// checkpoint's logic needs no S3 server (testenv/memobjects answers as the
// local S3 does; the export's tests run it against that server).
func newStores(t *testing.T, n int) []*checkpoint.Store {
	t.Helper()
	objects := memobjects.New()
	out := make([]*checkpoint.Store, n)
	for i := range out {
		out[i] = checkpoint.NewStore(objects, "state", "p/_state/org_id=o/checkpoint.json", "")
	}
	return out
}

func TestFreshLoadSaveReload(t *testing.T) {
	ctx := context.Background()
	s := newStores(t, 1)[0]
	st, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Generation != 0 || st.Format != checkpoint.Format {
		t.Fatalf("fresh state %+v", st)
	}
	st.OrgID, st.Generation = "o", 3
	st.Covered = st.Covered.Add(checkpoint.Span{From: 10, To: 20})
	st.Job = &checkpoint.Job{Kind: checkpoint.Backfill, Slices: []checkpoint.Slice{{ID: 1, From: 10, To: 20, After: "audit_log-x", Seq: 2}}}
	if err := s.Save(ctx, st); err != nil {
		t.Fatal(err)
	}
	st.Generation = 4
	if err := s.Save(ctx, st); err != nil {
		t.Fatalf("second save with the store's own etag: %v", err)
	}
	back, err := s.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, st) {
		t.Fatalf("reloaded %+v\nsaved    %+v", back, st)
	}
}

// Two runs that read the same version: exactly one write wins, and the
// loser learns it. This is what stops overlapping runs.
func TestOnlyOneOfTwoRunsAdvances(t *testing.T) {
	ctx := context.Background()
	for _, existing := range []bool{false, true} {
		name := map[bool]string{false: "create", true: "replace"}[existing]
		t.Run(name, func(t *testing.T) {
			stores := newStores(t, 2)
			if existing {
				st, _ := stores[0].Load(ctx)
				if err := stores[0].Save(ctx, st); err != nil {
					t.Fatal(err)
				}
			}
			states := make([]*checkpoint.State, 2)
			for i, s := range stores {
				st, err := s.Load(ctx)
				if err != nil {
					t.Fatal(err)
				}
				states[i] = st
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i := range stores {
				wg.Add(1)
				go func() {
					defer wg.Done()
					states[i].Generation = int64(10 + i)
					errs[i] = stores[i].Save(ctx, states[i])
				}()
			}
			wg.Wait()
			wins := 0
			for _, err := range errs {
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, checkpoint.ErrConflict):
					t.Fatalf("loser got %v, want ErrConflict", err)
				}
			}
			if wins != 1 {
				t.Fatalf("%d writers won (errors %v), want exactly 1", wins, errs)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, doc := range []string{
		`{"format":2}`,
		`{"format":1,"generation":-1}`,
		`{"format":1,"generation":3,"open":{"generation":5}}`,
		`not json`,
	} {
		if _, err := checkpoint.Parse([]byte(doc)); err == nil {
			t.Errorf("Parse(%s) accepted", doc)
		}
	}
}

func TestSpans(t *testing.T) {
	var s checkpoint.Spans
	s = s.Add(checkpoint.Span{From: 50, To: 60}, checkpoint.Span{From: 10, To: 20}, checkpoint.Span{From: 20, To: 30}, checkpoint.Span{From: 5, To: 5})
	if want := (checkpoint.Spans{{From: 10, To: 30}, {From: 50, To: 60}}); !reflect.DeepEqual(s, want) {
		t.Fatalf("Add = %v, want %v", s, want)
	}
	tests := []struct {
		want checkpoint.Span
		gaps checkpoint.Spans
	}{
		{checkpoint.Span{From: 0, To: 100}, checkpoint.Spans{{From: 0, To: 10}, {From: 30, To: 50}, {From: 60, To: 100}}},
		{checkpoint.Span{From: 12, To: 28}, nil},
		{checkpoint.Span{From: 25, To: 55}, checkpoint.Spans{{From: 30, To: 50}}},
		{checkpoint.Span{From: 60, To: 70}, checkpoint.Spans{{From: 60, To: 70}}},
	}
	for _, tt := range tests {
		if got := s.Gaps(tt.want); !reflect.DeepEqual(got, tt.gaps) {
			t.Errorf("Gaps(%v) = %v, want %v", tt.want, got, tt.gaps)
		}
	}
	if s.Start() != 10 || s.End() != 60 || !s.Contains(29) || s.Contains(30) {
		t.Fatal("Start/End/Contains wrong")
	}
}
