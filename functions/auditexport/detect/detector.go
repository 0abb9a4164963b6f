package detect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/digest"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/layout"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/logging"
)

// Config is detection's own configuration (docs/architecture.md).
type Config struct {
	// Enabled turns detection on for the export's runs.
	Enabled bool
	// Bus is the EventBridge bus findings go to; none when empty.
	Bus string
	// AllowedDomains are the email domains invites may go to; the
	// invite rule is off while it is empty.
	AllowedDomains []string
	// ASFF also writes each finding in the AWS Security Finding Format to
	// the evidence bucket, ready for Security Hub's BatchImportFindings.
	ASFF bool
	// JournalBucket and JournalPrefix locate the offboarding journal; the
	// post-offboarding rule is off while JournalBucket is empty.
	JournalBucket string
	JournalPrefix string
	// ProtectedProjects are ORGWARDEN_PROTECTED_PROJECTS (common).
	ProtectedProjects []string
}

// ReadConfig reads detection's variables; check r.Err() afterwards.
func ReadConfig(r *config.Reader) Config {
	c := Config{
		Enabled:           r.Bool("ORGWARDEN_DETECT", false),
		Bus:               r.String("ORGWARDEN_DETECT_BUS", ""),
		AllowedDomains:    r.List("ORGWARDEN_DETECT_ALLOWED_DOMAINS"),
		ASFF:              r.Bool("ORGWARDEN_DETECT_ASFF", false),
		JournalBucket:     r.String("ORGWARDEN_DETECT_JOURNAL_BUCKET", ""),
		JournalPrefix:     r.String("ORGWARDEN_DETECT_JOURNAL_PREFIX", journal.DefaultPrefix),
		ProtectedProjects: r.List("ORGWARDEN_PROTECTED_PROJECTS"),
	}
	for _, d := range c.AllowedDomains {
		if strings.ContainsAny(d, " /") || !strings.Contains(strings.TrimPrefix(d, "@"), ".") {
			r.Fail("ORGWARDEN_DETECT_ALLOWED_DOMAINS", "%q is not a domain (example.com)", d)
		}
	}
	if c.JournalBucket != "" && strings.ContainsAny(c.JournalBucket, "/:") {
		r.Fail("ORGWARDEN_DETECT_JOURNAL_BUCKET", "%q: give the bucket name only", c.JournalBucket)
	}
	return c
}

// Metric names (docs/architecture.md); the stack alarms on DetectionErrors.
const (
	MetricFindings        = "DetectionFindings"
	MetricDetectionErrors = "DetectionErrors"
	MetricEventsEvaluated = "DetectionEventsEvaluated"
)

// Detector evaluates the rules over what the export appended: every
// generation sealed since the last one it evaluated, read back from the
// bucket (the digest lists exactly the objects a generation wrote, each
// once). It runs after the export, never during it, so it cannot delay or
// endanger the checkpoint; a failure leaves its own state where it was, and
// the next run evaluates the same generations again (finding ids are
// deterministic, and decided ids are kept, so nothing is raised twice).
type Detector struct {
	cfg     Config
	x       export.Config
	layout  layout.Layout
	s3      *s3.Client
	eb      eventPutter
	rules   []Rule
	digests *digest.Store
	log     *slog.Logger
	now     func() time.Time
	region  string
}

// Option adjusts a Detector.
type Option func(*Detector)

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(d *Detector) { d.now = now } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(d *Detector) { d.log = l } }

// WithRules replaces the shipped rules (tests, backtests of a new rule).
func WithRules(rules []Rule) Option { return func(d *Detector) { d.rules = rules } }

// WithRegion names the AWS region in ASFF product ARNs.
func WithRegion(region string) Option { return func(d *Detector) { d.region = region } }

// New returns a detector over the export configured by x.
func New(cfg Config, x export.Config, client *s3.Client, eb eventPutter, options ...Option) (*Detector, error) {
	l, err := layout.New(x.Prefix, x.OrgID)
	if err != nil {
		return nil, fmt.Errorf("detection: %w", err)
	}
	if x.StateBucket == "" {
		x.StateBucket = x.Bucket
	}
	d := &Detector{cfg: cfg, x: x, layout: l, s3: client, eb: eb, rules: Rules,
		digests: digest.NewStore(client, x.Bucket, x.KMSKeyID),
		log:     logging.Discard(), now: time.Now}
	for _, o := range options {
		o(d)
	}
	if err := Validate(d.rules); err != nil {
		return nil, err
	}
	if cfg.Bus != "" && eb == nil {
		return nil, errors.New("detection: ORGWARDEN_DETECT_BUS is set but there is no EventBridge client")
	}
	return d, nil
}

// StateKey is the detection state object: beside the export checkpoint.
func StateKey(l layout.Layout) string {
	return strings.TrimSuffix(l.StateKey(), "checkpoint.json") + "detect.json"
}

func (d *Detector) store() *stateStore {
	return &stateStore{s3: d.s3, bucket: d.x.StateBucket, key: StateKey(d.layout), kmsKeyID: cmp.Or(d.x.StateKMSKeyID, d.x.KMSKeyID)}
}

// Report is one detection run, part of the export's summary.
type Report struct {
	// FromGeneration and ToGeneration are the generations evaluated.
	FromGeneration int64    `json:"from_generation,omitempty"`
	ToGeneration   int64    `json:"to_generation,omitempty"`
	Events         int64    `json:"events_evaluated"`
	Findings       []string `json:"findings"`
	// Undelivered are findings decided but not delivered everywhere yet
	// (the next run retries them).
	Undelivered int    `json:"undelivered"`
	Error       string `json:"error,omitempty"`
}

// Run evaluates every generation sealed after the state's, up to the
// newest digest in the bucket, then delivers the findings. sealed is the
// generation the export run just sealed (0 when it sealed none); on the
// very first run detection starts with it, rather than with the whole
// history (which `orgwarden detect --since` backtests).
func (d *Detector) Run(ctx context.Context, sealed int64) (Report, error) {
	rep := Report{Findings: []string{}}
	store := d.store()
	st, err := store.load(ctx)
	if err != nil {
		return rep, err
	}
	if store.missing() {
		if sealed == 0 {
			return rep, nil
		}
		st.OrgID, st.Generation = d.x.OrgID, sealed-1
	}
	if st.OrgID != "" && st.OrgID != d.x.OrgID {
		return rep, fmt.Errorf("detection state %s belongs to organization %s, not %s", store.location(), st.OrgID, d.x.OrgID)
	}
	st.OrgID = d.x.OrgID
	// Findings an earlier run decided and could not deliver go first, and
	// what went is recorded at once (a crash before the record sends it
	// again, under the same id: delivery is at least once).
	held := len(st.Outbox)
	derr := d.deliver(ctx, st)
	if derr != nil {
		d.log.WarnContext(ctx, "delivering earlier findings failed; evaluating anyway", "error", derr.Error())
	}
	if held > 0 && !store.missing() {
		if err := store.save(ctx, st); err != nil {
			return rep, errors.Join(derr, err)
		}
	}
	env, err := d.env(ctx, st)
	if err != nil {
		return rep, errors.Join(derr, err)
	}
	engine := NewEngine(d.rules, env)
	engine.Lateness = max(d.x.Lookback, time.Minute)
	for gen := st.Generation + 1; ; gen++ {
		if err := ctx.Err(); err != nil {
			return rep, errors.Join(derr, err)
		}
		// Near the Lambda deadline, stop between generations: the state
		// says where the next run goes on.
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < 20*time.Second {
			d.log.WarnContext(ctx, "deadline near; detection continues next run", "generation", gen)
			break
		}
		dg, ok, err := d.digest(ctx, gen)
		if err != nil {
			return rep, errors.Join(derr, err)
		}
		if !ok {
			break
		}
		evs, n, err := d.candidates(ctx, engine, dg.Objects)
		if err != nil {
			return rep, errors.Join(derr, fmt.Errorf("generation %d: %w", gen, err))
		}
		found := engine.Evaluate(st, evs, d.now())
		for _, f := range found {
			f.OrgID = d.x.OrgID
			st.Outbox = append(st.Outbox, Pending{Finding: f})
			rep.Findings = append(rep.Findings, f.ID)
			d.log.WarnContext(ctx, "finding", "finding", f.ID, "rule", f.Rule, "severity", string(f.Severity),
				"actor", f.Actor, "actor_email", f.Email, "ip", f.IP, "events", f.EventIDs, "generation", gen)
		}
		rep.Events += n
		if rep.FromGeneration == 0 {
			rep.FromGeneration = gen
		}
		rep.ToGeneration = gen
		st.Generation = gen
		// The findings are durable (in the outbox) before any is sent.
		if err := store.save(ctx, st); err != nil {
			return rep, errors.Join(derr, err)
		}
	}
	if store.missing() {
		if err := store.save(ctx, st); err != nil {
			return rep, errors.Join(derr, err)
		}
	}
	derr = d.deliver(ctx, st)
	rep.Undelivered = len(st.Outbox)
	if err := store.save(ctx, st); err != nil {
		return rep, errors.Join(derr, err)
	}
	return rep, derr
}

// digest reads generation gen's digest; ok is false when there is none yet.
func (d *Detector) digest(ctx context.Context, gen int64) (digest.Digest, bool, error) {
	b, err := d.digests.Get(ctx, d.layout.DigestKey(gen))
	if errors.Is(err, objects.ErrNotFound) {
		return digest.Digest{}, false, nil
	}
	if err != nil {
		return digest.Digest{}, false, err
	}
	dg, err := digest.Parse(b)
	if err != nil {
		return digest.Digest{}, false, fmt.Errorf("digest %d: %w", gen, err)
	}
	if dg.Generation != gen || dg.OrgID != d.x.OrgID {
		return digest.Digest{}, false, fmt.Errorf("digest %s is generation %d of %s", d.layout.DigestKey(gen), dg.Generation, dg.OrgID)
	}
	return dg, true, nil
}

// candidates reads objects and returns the events some rule may want
// (the rest are counted, not parsed), and how many events were read.
func (d *Detector) candidates(ctx context.Context, engine *Engine, objs []objects.Info) ([]Event, int64, error) {
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	slices.Sort(keys)
	// Objects are read a few at a time (a backfill's generation has one per
	// slice and day); the engine orders the events itself, so the order in
	// which objects arrive does not matter.
	type result struct {
		evs []Event
		n   int64
		err error
	}
	results := make([]result, len(keys))
	var wg sync.WaitGroup
	sem := make(chan struct{}, readWorkers)
	for i, key := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			r := &results[i]
			r.n, r.err = readLines(ctx, d.s3, d.x.Bucket, key, func(raw []byte) error {
				if !engine.WantsRaw(raw) {
					return nil
				}
				ev, err := engine.Parse(raw)
				if err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
				r.evs = append(r.evs, ev)
				return nil
			})
		}()
	}
	wg.Wait()
	var out []Event
	var n int64
	for _, r := range results {
		if r.err != nil {
			return nil, n, r.err
		}
		out = append(out, r.evs...)
		n += r.n
	}
	return out, n, nil
}

// readWorkers bound the concurrent object reads.
const readWorkers = 8

// env builds what the matches need: protected projects, allowed domains
// and the people the offboarding journal says orgwarden removed.
func (d *Detector) env(ctx context.Context, st *State) (Env, error) {
	env := Env{AllowedDomains: d.cfg.AllowedDomains, ProtectedProjects: d.cfg.ProtectedProjects, Offboarded: map[string]int64{}}
	if d.cfg.JournalBucket == "" {
		return env, nil
	}
	if err := loadJournal(ctx, d.s3, d.cfg.JournalBucket, d.cfg.JournalPrefix, st.Journal); err != nil {
		return env, err
	}
	for _, p := range st.Journal {
		if p.At == 0 {
			continue
		}
		for _, who := range []string{p.UserID, strings.ToLower(p.Email)} {
			if who == "" {
				continue
			}
			if at, ok := env.Offboarded[who]; !ok || p.At < at {
				env.Offboarded[who] = p.At
			}
		}
	}
	return env, nil
}

// loadJournal reads the offboarding records not in cache yet (verified as
// restore verifies them) and caches who was removed when. A record whose
// organization removal is not final yet is read again next time.
func loadJournal(ctx context.Context, client *s3.Client, bucket, prefix string, cache map[string]Offboarded) error {
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list offboarding journal s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if _, ok := cache[key]; ok || strings.HasPrefix(key, prefix+journal.PreviewDir) || !strings.HasSuffix(key, ".json") {
				continue
			}
			rec, err := journal.Read(ctx, client, bucket, prefix, "s3://"+bucket+"/"+key)
			if err != nil {
				return fmt.Errorf("offboarding journal: %w", err)
			}
			step := rec.Organization
			if step == nil || !step.Outcome.Final() {
				continue
			}
			person := Offboarded{Email: strings.ToLower(rec.Email)}
			if rec.User != nil {
				person.UserID = rec.User.ID
			}
			// Only a removal orgwarden made (or found already made) counts;
			// a skipped one (a protected owner) left the person in.
			if step.Outcome == journal.Removed || step.Outcome == journal.AlreadyGone {
				at := step.At
				if at.IsZero() {
					at = rec.UpdatedAt
				}
				person.At = at.Unix()
			}
			cache[key] = person
		}
	}
	return nil
}

// deliver writes every outbox finding to the evidence bucket (and as ASFF
// when configured) and publishes it, then drops what is delivered
// everywhere. What failed stays for the next run.
func (d *Detector) deliver(ctx context.Context, st *State) error {
	if len(st.Outbox) == 0 {
		return nil
	}
	account, region := d.account(ctx), d.region
	// Evidence writes are independent: a few at a time, so a run that
	// decided many findings (a first evaluation of a noisy history) does
	// not pay one S3 round trip after another.
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	sem := make(chan struct{}, evidenceWorkers)
	for i := range st.Outbox {
		p := &st.Outbox[i]
		if p.Evidence && (p.ASFF || !d.cfg.ASFF) {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if !p.Evidence {
				body, err := jsonIndent(p.Finding)
				if err == nil {
					err = putOnce(ctx, d.s3, d.x.Bucket, EvidenceKey(d.layout, p.Finding), d.x.KMSKeyID, body)
				}
				if err != nil {
					fail(fmt.Errorf("finding %s evidence: %w", p.ID, err))
				} else {
					p.Evidence = true
				}
			}
			if d.cfg.ASFF && !p.ASFF {
				body, err := ASFF(p.Finding, account, region)
				if err == nil {
					err = putOnce(ctx, d.s3, d.x.Bucket, ASFFKey(d.layout, p.Finding), d.x.KMSKeyID, body)
				}
				if err != nil {
					fail(fmt.Errorf("finding %s ASFF: %w", p.ID, err))
				} else {
					p.ASFF = true
				}
			}
		}()
	}
	wg.Wait()
	if d.cfg.Bus != "" {
		if err := publish(ctx, d.eb, d.cfg.Bus, st.Outbox); err != nil {
			errs = append(errs, err)
		}
	}
	st.Outbox = slices.DeleteFunc(st.Outbox, func(p Pending) bool {
		return p.Evidence && (p.ASFF || !d.cfg.ASFF) && (p.Published || d.cfg.Bus == "")
	})
	return errors.Join(errs...)
}

// evidenceWorkers bound the concurrent evidence writes.
const evidenceWorkers = 8

// account is the AWS account of the running function (from its ARN), for
// ASFF; empty outside Lambda.
func (d *Detector) account(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		// arn:aws:lambda:region:account:function:name
		if parts := strings.Split(lc.InvokedFunctionArn, ":"); len(parts) > 4 {
			if d.region == "" {
				d.region = parts[3]
			}
			return parts[4]
		}
	}
	return ""
}
