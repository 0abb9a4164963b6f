package export

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/checkpoint"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/digest"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/layout"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
	"github.com/orgwarden/orgwarden/shared/adminclient"
)

// runJob pages the job's unfinished slices, SliceConcurrency at a time.
// When every slice is done the job's spans join the covered ranges.
func (r *run) runJob(ctx context.Context, job *checkpoint.Job) error {
	seen, err := r.exportedIn(ctx, job.Spans)
	if err != nil {
		return fmt.Errorf("%s job: read back exported ids: %w", job.Kind, err)
	}
	var todo []int
	for i, s := range job.Slices {
		if !s.Done {
			todo = append(todo, i)
		}
	}
	prog := r.startProgress(ctx, job)

	queue := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range min(r.x.cfg.SliceConcurrency, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range queue {
				if err := r.runSlice(ctx, job, i, seen, prog); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					// Finish the other slices' open objects and seal what is written.
					r.stop()
				}
			}
		}()
	}
feed:
	for _, i := range todo {
		select {
		case queue <- i:
		case <-r.stopped:
			break feed
		}
	}
	close(queue)
	wg.Wait()
	prog.finish(job.Done())

	if job.Done() {
		r.mu.Lock()
		r.st.Covered = r.st.Covered.Add(job.Spans...)
		r.st.Job = nil
		r.mu.Unlock()
	}
	return errors.Join(errs...)
}

// errAdopted restarts a slice after it adopted an object it found already
// written: paging continues after that object's last event.
var errAdopted = errors.New("adopted an existing object")

func (r *run) runSlice(ctx context.Context, job *checkpoint.Job, i int, seen *idSet, prog *progress) error {
	for {
		err := r.pageSlice(ctx, job, i, seen, prog)
		if !errors.Is(err, errAdopted) {
			return err
		}
	}
}

// pageSlice pages one slice newest first from where it stopped and writes
// its events, rolling to a new object on a new day (partition), at the
// size or count limit, and before it returns.
//
// A rolled-over object is uploaded and recorded in the background while
// the next one fills: at most one per slice, and always recorded before
// the next, so the slice's cursor only moves forward.
func (r *run) pageSlice(ctx context.Context, job *checkpoint.Job, i int, seen *idSet, prog *progress) (err error) {
	s := &job.Slices[i]
	if s.Done {
		return nil
	}
	cfg := r.x.cfg
	f := adminclient.AuditFilter{EffectiveAtGTE: s.From, EffectiveAtLT: s.To, After: s.After, TenantOnly: s.Tenant, Limit: 100}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := prefetch(pctx, r.api.AuditLogPages(pctx, f))

	var (
		w        *objects.Writer
		key      string
		seq      = s.Seq
		firstDay int64
		broke    bool
		inflight chan error // the previous object's upload and record
	)
	wait := func() error {
		if inflight == nil {
			return nil
		}
		err := <-inflight
		inflight = nil
		return err
	}
	defer func() {
		if w != nil {
			w.Abort()
		}
		if werr := wait(); err == nil {
			err = werr
		}
	}()
	for p := range pages {
		if p.err != nil {
			return fmt.Errorf("slice %d [%s, %s): %w", s.ID, digest.Time(s.From), digest.Time(s.To), p.err)
		}
		for _, ev := range p.page.Events {
			if ev.EffectiveAt < s.From || ev.EffectiveAt >= s.To {
				continue // outside the filter: another slice's
			}
			prog.reached(i, ev.EffectiveAt)
			if seen.has(ev.ID) {
				r.dups.Add(1)
				continue
			}
			if w != nil && (!layout.SameDay(ev.EffectiveAt, firstDay) || w.Events() >= int64(cfg.RolloverEvents) || w.RawBytes() >= cfg.RolloverBytes) {
				if err := wait(); err != nil {
					return err
				}
				prev, prevKey, prevSeq := w, key, seq
				w = nil
				inflight = make(chan error, 1)
				go func() { inflight <- r.finish(ctx, s, prev, prevKey, prevSeq, false) }()
				seq++
			}
			if w == nil {
				in := r.intent(ev.EffectiveAt, s, seq)
				if err := r.commit(ctx, func(st *checkpoint.State) {
					st.Job = job
					st.Open.Writing = append(st.Open.Writing, in)
				}); err != nil {
					return fmt.Errorf("record intent for %s: %w", in.Key, err)
				}
				w, key, firstDay = r.create(ctx, in.Key), in.Key, ev.EffectiveAt
			}
			if err := w.Add(ev.ID, ev.EffectiveAt, ev.Raw); err != nil {
				return err
			}
			r.added.Add(1)
		}
		if r.stopping.Load() {
			broke = true
			break
		}
	}
	if err := wait(); err != nil {
		return err
	}
	finished := !broke
	if finished {
		prog.reached(i, s.From)
	}
	if w == nil {
		if finished {
			r.mu.Lock()
			s.Done = true
			r.mu.Unlock()
		}
		return nil
	}
	last := w
	w = nil
	return r.finish(ctx, s, last, key, seq, finished)
}

// finish uploads one object and records it (with the slice done, when
// finished). A key that already holds an object (our own retried write that
// had landed, or another run's) is adopted as it is: read back and
// recorded, and the slice resumes after it (errAdopted).
func (r *run) finish(ctx context.Context, s *checkpoint.Slice, w *objects.Writer, key string, seq int, finished bool) error {
	info, err := w.Close()
	if err == nil {
		return r.recordDone(ctx, s, info, seq, finished)
	}
	if !errors.Is(err, objects.ErrExists) {
		return err
	}
	info, rerr := r.x.data.Read(ctx, key, nil)
	if rerr != nil {
		return fmt.Errorf("adopt %s: %w", key, rerr)
	}
	r.x.log.WarnContext(ctx, "object already written; adopting it", "key", key, "events", info.Events)
	if err := r.recordDone(ctx, s, info, seq, false); err != nil {
		return err
	}
	return errAdopted
}

func (r *run) intent(at int64, s *checkpoint.Slice, seq int) checkpoint.Intent {
	gen := r.st.Open.Generation
	return checkpoint.Intent{Key: r.x.layout.DataKey(at, gen, s.ID, seq), Slice: s.ID, Seq: seq}
}

func (r *run) create(ctx context.Context, key string) *objects.Writer {
	if r.dry {
		return r.x.data.Discard(key)
	}
	return r.x.data.Create(ctx, key)
}

// recordDone records a written object (the slice's object number seq) and
// the slice's progress in one save.
func (r *run) recordDone(ctx context.Context, s *checkpoint.Slice, info objects.Info, seq int, finished bool) error {
	err := r.commit(ctx, func(st *checkpoint.State) {
		applyDone(st, s, info, seq, r.recentFrom(st))
		if finished {
			s.Done = true
		}
	})
	if err != nil {
		return fmt.Errorf("record %s: %w", info.Key, err)
	}
	r.x.log.DebugContext(ctx, "object written", "key", info.Key, "events", info.Events, "bytes", info.Bytes, "sha256", info.SHA256)
	r.count(info)
	return nil
}

// count adds a recorded object to the run's totals.
func (r *run) count(info objects.Info) {
	r.objects.Add(1)
	r.events.Add(info.Events)
	r.bytes.Add(info.Bytes)
}

// applyDone moves an object from the open generation's intents to its
// objects and advances its slice past the object's events and number.
func applyDone(st *checkpoint.State, s *checkpoint.Slice, info objects.Info, seq int, recentFrom int64) {
	o := st.Open
	o.Writing = slices.DeleteFunc(o.Writing, func(in checkpoint.Intent) bool { return in.Key == info.Key })
	if !slices.ContainsFunc(o.Objects, func(x objects.Info) bool { return x.Key == info.Key }) {
		o.Objects = append(o.Objects, info)
	}
	if s != nil {
		s.Seq = max(s.Seq, seq+1)
		if info.Events > 0 {
			s.After, s.Reached = info.LastID, info.Oldest
			s.Events += info.Events
		}
	}
	if info.Events > 0 {
		st.Newest = max(st.Newest, info.Newest)
		if info.Newest >= recentFrom {
			st.Recent = append(st.Recent, checkpoint.ObjectRef{Key: info.Key, Oldest: info.Oldest, Newest: info.Newest, Events: info.Events})
		}
	}
}

// recentFrom is the oldest effective_at a future job may need to dedupe
// against. Every later incremental window starts Lookback below where the
// covered ranges end once the jobs known now are done: below the current
// end, below the end of the job in progress (a backfill with --until ends
// below now, and the incremental job of the same run re-reads its last
// window), and below the start of an incremental job's window plus
// Lookback (where the covered ranges ended when it was planned).
func (r *run) recentFrom(st *checkpoint.State) int64 {
	lookback := int64(r.x.cfg.Lookback / time.Second)
	from := r.start.Unix()
	if end := st.Covered.End(); end > 0 {
		from = min(from, end)
	}
	if j := st.Job; j != nil && len(j.Spans) > 0 {
		from = min(from, j.Spans.End())
		if j.Kind == checkpoint.Incremental {
			from = min(from, j.Spans.Start()+lookback)
		}
	}
	return from - lookback
}

// pruneRecent drops objects no future window reaches.
func (r *run) pruneRecent(st *checkpoint.State) {
	from := r.recentFrom(st)
	st.Recent = slices.DeleteFunc(st.Recent, func(o checkpoint.ObjectRef) bool { return o.Newest < from })
}

// idSet is the ids already exported inside a job's spans.
type idSet struct{ ids map[string]struct{} }

func (s *idSet) has(id string) bool {
	if s == nil {
		return false
	}
	_, ok := s.ids[id]
	return ok
}

// exportedIn reads back, from the recent objects, the ids already exported
// with an effective_at inside spans. Memory is bounded by the events of the
// lookback window, not by the export's size.
func (r *run) exportedIn(ctx context.Context, spans checkpoint.Spans) (*idSet, error) {
	r.mu.Lock()
	var refs []checkpoint.ObjectRef
	for _, o := range r.st.Recent {
		if o.Events > 0 && o.Newest >= spans.Start() && o.Oldest < spans.End() {
			refs = append(refs, o)
		}
	}
	r.mu.Unlock()
	set := &idSet{ids: map[string]struct{}{}}
	for _, o := range refs {
		if _, err := r.x.data.Read(ctx, o.Key, func(l objects.Line) error {
			if spans.Contains(l.EffectiveAt) {
				set.ids[l.ID] = struct{}{}
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return set, nil
}

type pageResult struct {
	page adminclient.AuditPage
	err  error
}

// prefetch fetches the next page while the caller writes the current one,
// so a slice's latency and its compression overlap.
func prefetch(ctx context.Context, seq func(func(adminclient.AuditPage, error) bool)) <-chan pageResult {
	ch := make(chan pageResult, 1)
	go func() {
		defer close(ch)
		for page, err := range seq {
			select {
			case ch <- pageResult{page, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}
