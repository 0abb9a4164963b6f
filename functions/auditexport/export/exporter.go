package export

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/checkpoint"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/digest"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/layout"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
)

// Exporter exports one organization's audit log into one bucket. It is safe
// for concurrent use; each Run works from the checkpoint it reads.
type Exporter struct {
	cfg     Config
	layout  layout.Layout
	s3      *s3.Client
	data    *objects.Store
	digests *digest.Store
	log     *slog.Logger
	now     func() time.Time
	lease   time.Duration

	probeMu sync.Mutex
	probed  map[string]bool // buckets that honour conditional writes
}

// Options adjust an Exporter.
type Options struct {
	Logger *slog.Logger
	// Now is the clock; default time.Now. Tests share the emulator's.
	Now func() time.Time
	// Lease is how long a run's claim on its generation lasts without
	// being renewed; default DefaultLease. Runs renew it while they work.
	Lease time.Duration
}

// DefaultLease is how long another run waits before it recovers a
// generation whose run stopped renewing its claim.
const DefaultLease = 2 * time.Minute

// New returns an exporter for cfg writing through client.
func New(cfg Config, client *s3.Client, opts Options) (*Exporter, error) {
	l, err := layout.New(cfg.Prefix, cfg.OrgID)
	if err != nil {
		return nil, fmt.Errorf("audit export: %w", err)
	}
	if cfg.StateBucket == "" {
		cfg.StateBucket = cfg.Bucket
	}
	if cfg.SliceConcurrency <= 0 {
		cfg.SliceConcurrency = DefaultSliceConcurrency
	}
	if cfg.RolloverBytes <= 0 {
		cfg.RolloverBytes = DefaultRolloverBytes
	}
	if cfg.RolloverEvents <= 0 {
		cfg.RolloverEvents = DefaultRolloverEvents
	}
	if opts.Logger == nil {
		opts.Logger = logging.Discard()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Lease <= 0 {
		opts.Lease = DefaultLease
	}
	return &Exporter{
		cfg:     cfg,
		layout:  l,
		s3:      client,
		data:    objects.NewStore(client, cfg.Bucket, objects.Options{KMSKeyID: cfg.KMSKeyID}),
		digests: digest.NewStore(client, cfg.Bucket, cfg.KMSKeyID),
		log:     opts.Logger,
		now:     opts.Now,
		lease:   opts.Lease,
	}, nil
}

// Layout is where the exporter writes.
func (x *Exporter) Layout() layout.Layout { return x.layout }

// Request is one run's instructions.
type Request struct {
	// Since, when set, backfills history from Since (unix seconds) up to
	// Until, or up to where the export already reaches when Until is 0.
	Since, Until int64
	// DryRun reads the API and the checkpoint and writes nothing.
	DryRun bool
	// RebuildCheckpoint, when the checkpoint is missing but the bucket
	// holds the export, rebuilds the checkpoint from the verified digest
	// chain instead of refusing (ErrNoCheckpoint).
	RebuildCheckpoint bool
	// TakeOver recovers a generation whose lease has not expired yet: the
	// operator knows its run is gone.
	TakeOver bool
	// Stop, when closed, ends the run early and cleanly: open objects are
	// finished and recorded, the generation is sealed, and the next run
	// continues from there.
	Stop <-chan struct{}
	// Progress, when set, is called about every ProgressEvery (default 1s)
	// while a job runs, and once when it ends.
	Progress      func(Progress)
	ProgressEvery time.Duration
}

// Result reports a run. It is also the run's summary.
type Result struct {
	RunID  string `json:"run_id"`
	OrgID  string `json:"org_id"`
	DryRun bool   `json:"dry_run,omitempty"`
	// Skipped says why the run did nothing (another run holds the lease).
	Skipped string `json:"skipped,omitempty"`
	// Rebuilt says the checkpoint was rebuilt from the digest chain.
	Rebuilt bool `json:"checkpoint_rebuilt,omitempty"`
	// Recovered is the generation of an earlier run that this run sealed.
	Recovered  int64  `json:"recovered_generation,omitempty"`
	Generation int64  `json:"generation,omitempty"`
	Digest     string `json:"digest,omitempty"`
	Events     int64  `json:"events_exported"`
	Duplicates int64  `json:"duplicates_skipped"`
	Objects    int    `json:"objects_written"`
	// Foreign are objects found at keys the run was about to write that
	// are not the export's: not adopted, flagged in the digest, alarmed on.
	Foreign []string `json:"foreign_objects,omitempty"`
	Bytes   int64    `json:"bytes_written"`
	// Pending means a job is unfinished; the next run continues it.
	Pending bool        `json:"pending"`
	Jobs    []JobReport `json:"jobs,omitempty"`
	// CoveredFrom and CoveredTo bound what the export holds (RFC 3339).
	CoveredFrom string `json:"covered_from,omitempty"`
	CoveredTo   string `json:"covered_to,omitempty"`
	// Newest is the newest effective_at exported (unix seconds); LagSeconds
	// is how far it is behind the run's start.
	Newest     int64 `json:"newest_effective_at,omitempty"`
	LagSeconds int64 `json:"export_lag_seconds,omitempty"`
	// CoverageAgeSeconds is how far the end of what the export holds
	// completely is behind the run's start; nil before the first run.
	// Unlike LagSeconds it stays small in a quiet organization, so it is
	// what alarms watch: it grows only when runs stop succeeding.
	CoverageAgeSeconds *int64 `json:"coverage_age_seconds,omitempty"`
	ListCalls          int64  `json:"list_calls"`
	DurationMs         int64  `json:"duration_ms"`
}

// JobReport is one job of a run.
type JobReport struct {
	Kind       string `json:"kind"`
	From       string `json:"from"`
	To         string `json:"to"`
	Slices     int    `json:"slices"`
	SlicesDone int    `json:"slices_done"`
	Events     int64  `json:"events"`
	Complete   bool   `json:"complete"`
}

// ErrLostCheckpoint means another run wrote the checkpoint while this one
// was working; this run stopped without sealing its generation.
var ErrLostCheckpoint = errors.New("another run took over the checkpoint; this run stopped without sealing")

// run is one Run's working state.
type run struct {
	x     *Exporter
	api   *adminclient.Client
	req   Request
	id    string
	store *checkpoint.Store
	dry   bool
	start time.Time

	mu        sync.Mutex // guards st, version and the fields below
	st        *checkpoint.State
	version   int64 // mutations applied to st
	persisted bool  // the open generation has been saved at least once
	lastSave  time.Time
	lost      error

	saveMu sync.Mutex // one save at a time
	saved  int64      // version of the newest durable save (under saveMu)

	stopping atomic.Bool
	stopOnce sync.Once
	stopped  chan struct{}

	foreign     atomic.Int64
	foreignKeys []string       // under mu
	orphans     []objects.Info // unsealed objects found when rebuilding the checkpoint

	events, dups, bytes atomic.Int64
	objects             atomic.Int64
	added               atomic.Int64 // events handed to writers, for progress
}

// Run exports what is new (and the requested backfill), then seals the
// generation with its digest. It returns a Result even on error.
func (x *Exporter) Run(ctx context.Context, api *adminclient.Client, req Request) (Result, error) {
	runID := logging.RunID(ctx)
	if runID == "" {
		runID = logging.NewRunID()
		ctx = logging.WithRunID(ctx, runID)
	}
	r := &run{
		x: x, api: api, req: req, id: runID, dry: req.DryRun, start: x.now(),
		store:   checkpoint.NewStore(x.s3, x.cfg.StateBucket, x.layout.StateKey(), cmp.Or(x.cfg.StateKMSKeyID, x.cfg.KMSKeyID)),
		stopped: make(chan struct{}),
	}
	calls := api.Stats().Requests
	res, err := r.run(ctx)
	res.RunID, res.OrgID, res.DryRun = runID, x.cfg.OrgID, req.DryRun
	res.Events, res.Duplicates = r.events.Load(), r.dups.Load()
	res.Objects, res.Bytes = int(r.objects.Load()), r.bytes.Load()
	res.ListCalls = api.Stats().Requests - calls
	res.DurationMs = x.now().Sub(r.start).Milliseconds()
	r.mu.Lock()
	res.Foreign = slices.Clone(r.foreignKeys)
	r.mu.Unlock()
	if r.st != nil {
		r.mu.Lock()
		res.Pending = r.st.Job != nil
		if c := r.st.Covered; len(c) > 0 {
			res.CoveredFrom, res.CoveredTo = digest.Time(c.Start()), digest.Time(c.End())
			age := max(0, r.start.Unix()-c.End())
			res.CoverageAgeSeconds = &age
		}
		if r.st.Newest > 0 {
			res.Newest = r.st.Newest
			res.LagSeconds = max(0, r.start.Unix()-r.st.Newest)
		}
		r.mu.Unlock()
	}
	return res, err
}

func (r *run) run(ctx context.Context) (Result, error) {
	var res Result
	if !r.dry {
		if err := r.x.checkConditions(ctx); err != nil {
			return res, err
		}
	}
	st, err := r.store.Load(ctx)
	if err != nil {
		return res, err
	}
	if r.store.Missing() {
		if st, err = r.missingCheckpoint(ctx); err != nil {
			return res, err
		}
		res.Rebuilt = st.Generation > 0 || len(r.orphans) > 0
	}
	switch {
	case st.OrgID == "":
		st.OrgID = r.x.cfg.OrgID
	case st.OrgID != r.x.cfg.OrgID:
		return res, fmt.Errorf("checkpoint %s belongs to organization %s, not %s", r.store.Location(), st.OrgID, r.x.cfg.OrgID)
	}
	r.st = st

	if o := st.Open; o != nil {
		if o.Sealed == nil && r.x.now().Unix() < o.LeaseUntil && !r.req.TakeOver {
			res.Skipped = fmt.Sprintf("run %s holds generation %d until %s", o.RunID, o.Generation, digest.Time(o.LeaseUntil))
			r.x.log.WarnContext(ctx, "another export run is in progress; skipping", "holder", o.RunID, "generation", o.Generation, "lease_until", digest.Time(o.LeaseUntil))
			return res, nil
		}
		if r.dry {
			r.x.log.InfoContext(ctx, "dry run: would recover an unfinished generation", "generation", o.Generation, "run", o.RunID)
			st.Open = nil
		} else {
			gen := o.Generation
			if _, err := r.recover(ctx); err != nil {
				return res, fmt.Errorf("recover generation %d: %w", gen, err)
			}
			res.Recovered = gen
		}
	}

	gen := st.Generation + 1
	st.Open = &checkpoint.Open{Generation: gen, RunID: r.id, StartedAt: r.start.Unix()}
	for _, o := range r.orphans {
		markForeign(st.Open, o)
		r.flagForeign(ctx, o, "")
	}
	stopWatch := r.watchStop(ctx)
	defer stopWatch()
	heartbeat := r.heartbeat(ctx)
	defer heartbeat()

	runErr := r.jobs(ctx, &res)
	if err := r.lostErr(); err != nil {
		return res, err
	}
	link, err := r.seal(ctx)
	if err != nil {
		return res, errors.Join(runErr, fmt.Errorf("seal generation %d: %w", gen, err))
	}
	res.Generation, res.Digest = link.Generation, link.Key
	return res, runErr
}

// jobs runs the pending job, then the requested backfill, then the
// incremental export, each only when the one before finished.
func (r *run) jobs(ctx context.Context, res *Result) error {
	locked := func(plan func() *checkpoint.Job) func(context.Context) *checkpoint.Job {
		return func(context.Context) *checkpoint.Job {
			r.mu.Lock()
			defer r.mu.Unlock()
			return plan()
		}
	}
	next := []func(context.Context) *checkpoint.Job{
		locked(func() *checkpoint.Job { return r.st.Job }),
		r.backfillJob,
		locked(r.incrementalJob),
	}
	for _, plan := range next {
		if r.stopping.Load() {
			return nil
		}
		job := plan(ctx)
		r.mu.Lock()
		r.st.Job = job
		r.mu.Unlock()
		if job == nil {
			continue
		}
		err := r.runJob(ctx, job)
		res.Jobs = append(res.Jobs, report(job))
		if err != nil {
			return err
		}
		if !job.Done() {
			return nil
		}
	}
	return nil
}

func report(job *checkpoint.Job) JobReport {
	rep := JobReport{Kind: job.Kind, Slices: len(job.Slices), Complete: job.Done()}
	if len(job.Spans) > 0 {
		rep.From, rep.To = digest.Time(job.Spans.Start()), digest.Time(job.Spans.End())
	}
	for _, s := range job.Slices {
		if s.Done {
			rep.SlicesDone++
		}
		rep.Events += s.Events
	}
	return rep
}

// incrementalJob re-reads the lookback window below where the export
// reaches and everything after it, up to now (this second included: what
// arrives later in it is a late event, which the next window re-reads).
func (r *run) incrementalJob() *checkpoint.Job {
	st, cfg := r.st, r.x.cfg
	// Now, not the run's start: after a long backfill in the same run, the
	// events that arrived meanwhile belong in this run too.
	now := r.x.now().Unix() + 1
	lookback := int64(cfg.Lookback / time.Second)
	lo := now - lookback
	if end := st.Covered.End(); end > 0 {
		lo = end - lookback
	}
	hi := max(now, st.Covered.End())
	if hi <= lo {
		return nil
	}
	spans := checkpoint.Spans{{From: lo, To: hi}}
	// A normal run's window is one slice per scope (one list call each when
	// nothing is new); a catch-up after missed runs is sliced like a backfill.
	const catchUp = 6 * 60 * 60
	return &checkpoint.Job{
		Kind: checkpoint.Incremental, Spans: spans, CreatedAt: now,
		Slices: planSlices(spans, 4*cfg.SliceConcurrency, catchUp, cfg.TenantEvents, &st.NextSlice),
	}
}

// backfillJob exports the parts of [Since, Until) the export does not hold
// yet. Above where the export reaches is the incremental job's. Its slices
// follow where the events are (see narrow), so an early --since costs a few
// list calls, not the parallelism of the whole backfill.
func (r *run) backfillJob(ctx context.Context) *checkpoint.Job {
	if r.req.Since == 0 {
		return nil
	}
	r.mu.Lock()
	st, cfg := r.st, r.x.cfg
	// Nothing after now exists yet: a backfill that claimed the future
	// would mark it covered, and the incremental window would start too
	// late to read it.
	until := r.x.now().Unix() + 1
	if r.req.Until > 0 {
		until = min(until, r.req.Until)
	}
	if end := st.Covered.End(); end > 0 {
		until = min(until, end)
	}
	want := checkpoint.Span{From: r.req.Since, To: until}
	gaps := st.Covered.Gaps(want)
	r.mu.Unlock()
	if len(gaps) == 0 {
		return nil
	}
	// The request is durable before the density probe's list calls: a run
	// killed while probing leaves the backfill, sliced evenly, as the
	// pending job the next run resumes (it would otherwise be lost with the
	// process, and a scheduled run carries no --since to ask for it again).
	pending := &checkpoint.Job{Kind: checkpoint.Backfill, Spans: gaps, CreatedAt: r.start.Unix(), Requested: &want}
	if err := r.commit(ctx, func(st *checkpoint.State) {
		pending.Slices = planSlices(gaps, 4*cfg.SliceConcurrency, 60, cfg.TenantEvents, &st.NextSlice)
		st.Job = pending
	}); err != nil {
		return pending // runJob's own save reports the failure
	}
	busy, empty := r.followEvents(ctx, gaps)

	r.mu.Lock()
	defer r.mu.Unlock()
	slices := planSlices(busy, 4*cfg.SliceConcurrency, 60, cfg.TenantEvents, &st.NextSlice)
	for _, e := range empty {
		slices = append(slices, planSlices(checkpoint.Spans{e}, 1, 0, cfg.TenantEvents, &st.NextSlice)...)
	}
	return &checkpoint.Job{
		Kind: checkpoint.Backfill, Spans: gaps, CreatedAt: r.start.Unix(), Requested: &want,
		Slices: slices,
	}
}

// commit applies mutate to the state and saves it, conditionally on the
// version this run last saw, before it returns. In a dry run it only
// mutates.
//
// Saves are group commits: while one save is in flight, the mutations of
// other workers queue up, and the next save carries all of them. Each
// caller still returns only once a save that includes its mutation is
// durable, so "intent saved before the object is written" holds, at a
// fraction of the round trips.
func (r *run) commit(ctx context.Context, mutate func(st *checkpoint.State)) error {
	r.mu.Lock()
	if r.lost != nil {
		r.mu.Unlock()
		return r.lost
	}
	mutate(r.st)
	r.version++
	mine := r.version
	r.mu.Unlock()
	if r.dry {
		return nil
	}

	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	if r.saved >= mine {
		return nil // a save made while this caller waited carried its mutation
	}
	r.mu.Lock()
	if r.lost != nil {
		r.mu.Unlock()
		return r.lost
	}
	now := r.x.now()
	if r.st.Open != nil {
		r.st.Open.LeaseUntil = now.Add(r.x.lease).Unix()
	}
	v, err := checkpoint.Encode(r.st)
	upTo, open := r.version, r.st.Open != nil
	r.mu.Unlock()
	if err != nil {
		return err
	}
	if err := r.store.SaveEncoded(ctx, v); err != nil {
		if errors.Is(err, checkpoint.ErrConflict) {
			r.mu.Lock()
			r.lost = fmt.Errorf("%w: %v", ErrLostCheckpoint, err)
			r.mu.Unlock()
			r.stop()
			return r.lostErr()
		}
		return err
	}
	r.saved = upTo
	r.mu.Lock()
	r.lastSave = now
	if open {
		r.persisted = true
	}
	r.mu.Unlock()
	return nil
}

func (r *run) lostErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lost
}

// stop asks every worker to finish its current page, close its object and
// return.
func (r *run) stop() {
	r.stopOnce.Do(func() {
		r.stopping.Store(true)
		close(r.stopped)
	})
}

// watchStop turns the caller's Stop channel and the Lambda deadline into a
// clean stop. The deadline margin leaves time to finish open objects and
// seal.
func (r *run) watchStop(ctx context.Context) func() {
	done := make(chan struct{})
	var deadline <-chan time.Time
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		t := time.NewTimer(max(0, left-min(time.Minute, left/4)))
		defer func() { go func() { <-done; t.Stop() }() }()
		deadline = t.C
	}
	go func() {
		select {
		case <-r.req.Stop:
			r.x.log.InfoContext(ctx, "stop requested; finishing open objects and sealing")
			r.stop()
		case <-deadline:
			r.x.log.InfoContext(ctx, "deadline near; finishing open objects and sealing")
			r.stop()
		case <-done:
		}
	}()
	return func() { close(done) }
}

// heartbeat renews the lease while the run works between saves.
func (r *run) heartbeat(ctx context.Context) func() {
	if r.dry {
		return func() {}
	}
	done := make(chan struct{})
	every := r.x.lease / 3
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.mu.Lock()
				due := r.persisted && r.x.now().Sub(r.lastSave) >= every
				r.mu.Unlock()
				if due {
					if err := r.commit(ctx, func(*checkpoint.State) {}); err != nil {
						r.x.log.WarnContext(ctx, "renew lease failed", "error", err.Error())
					}
				}
			}
		}
	}()
	return func() { close(done) }
}
