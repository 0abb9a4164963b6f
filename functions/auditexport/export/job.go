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
				if err := r.pageSlice(ctx, job, i, seen, prog); err != nil {
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
// finished). The object's SHA-256 goes into its intent before the upload:
// an object found at the key afterwards is adopted only when it has that
// hash (our own earlier attempt, which landed). Anything else there is
// foreign: it is flagged, never adopted or sealed, and this object goes to
// a new key, announced like the first.
func (r *run) finish(ctx context.Context, s *checkpoint.Slice, w *objects.Writer, key string, seq int, finished bool) error {
	defer w.Abort()
	info, err := w.Finish()
	if err != nil {
		return err
	}
	if err := r.commit(ctx, func(st *checkpoint.State) { setIntentSum(st.Open, key, info.SHA256) }); err != nil {
		return fmt.Errorf("record intent for %s: %w", key, err)
	}
	for attempt := 0; ; attempt++ {
		err := w.Upload(key)
		if err == nil {
			break
		}
		if !errors.Is(err, objects.ErrExists) {
			return err
		}
		found, herr := r.x.data.Hash(ctx, key)
		if herr != nil {
			return fmt.Errorf("check %s: %w", key, herr)
		}
		if found.SHA256 == info.SHA256 {
			break // our own write, retried after it had landed
		}
		if attempt >= maxRelocations {
			return fmt.Errorf("write %s: %d keys in a row held foreign objects; stopping", key, attempt+1)
		}
		// An empty object is a fence: a run that recovered this generation
		// while this one stalled closed the key. It holds no event; it is
		// recorded as the empty object it is, and ours goes elsewhere.
		fence := found.SHA256 == r.x.data.EmptySHA256()
		var next string
		if err := r.commit(ctx, func(st *checkpoint.State) {
			if fence {
				applyDone(st, nil, found, seq, r.recentFrom(st))
			} else {
				markForeign(st.Open, found)
			}
			next = r.x.layout.DataKey(info.Newest, st.Open.Generation, st.NextSlice, 0)
			st.NextSlice++
			st.Open.Writing = append(st.Open.Writing, checkpoint.Intent{Key: next, Slice: s.ID, Seq: seq, SHA256: info.SHA256})
		}); err != nil {
			return fmt.Errorf("record foreign object %s: %w", key, err)
		}
		if fence {
			r.x.log.WarnContext(ctx, "key fenced by a recovering run; writing the object elsewhere", "key", key, "written_to", next)
		} else {
			r.flagForeign(ctx, found, next)
		}
		key = next
	}
	info.Key = key
	return r.recordDone(ctx, s, info, seq, finished)
}

// maxRelocations bounds how many taken keys in a row one object tries.
const maxRelocations = 8

// setIntentSum records the content about to be uploaded at key.
func setIntentSum(o *checkpoint.Open, key, sum string) {
	for i := range o.Writing {
		if o.Writing[i].Key == key {
			o.Writing[i].SHA256 = sum
		}
	}
}

// markForeign moves a key from the intents to the foreign objects.
func markForeign(o *checkpoint.Open, found objects.Info) {
	o.Writing = slices.DeleteFunc(o.Writing, func(in checkpoint.Intent) bool { return in.Key == found.Key })
	if !slices.ContainsFunc(o.Foreign, func(x objects.Info) bool { return x.Key == found.Key }) {
		o.Foreign = append(o.Foreign, objects.Info{Key: found.Key, SHA256: found.SHA256, Bytes: found.Bytes})
	}
}

// flagForeign reports a foreign object: an error log line, the run's
// foreign count (metric ForeignObjects, which the stack alarms on) and,
// through the digest, verify.
func (r *run) flagForeign(ctx context.Context, found objects.Info, movedTo string) {
	r.foreign.Add(1)
	r.mu.Lock()
	r.foreignKeys = append(r.foreignKeys, found.Key)
	r.mu.Unlock()
	r.x.log.ErrorContext(ctx, "foreign object at a key this export was about to write; not adopted, flagged in the digest",
		"key", found.Key, "sha256", found.SHA256, "bytes", found.Bytes, "written_to", movedTo)
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
	// An object suspected foreign (an orphan of a lost checkpoint) that
	// proved to hold exactly what this generation meant to write is its.
	o.Foreign = slices.DeleteFunc(o.Foreign, func(x objects.Info) bool { return x.Key == info.Key })
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
