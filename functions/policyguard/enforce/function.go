// Package enforce is the policyguard function: each run compares the
// organization with a declared policy (package policy), reports every
// finding (rule, project, expected, actual), and remediates the findings of
// rules marked enforce through the same guards as every destructive job:
// dry run, protected projects, a cap on changes per run, one selection path
// for the preview and the real run (sweep.Plan), one log line per change
// with the rule as the reason.
package enforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/policyguard/policy"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/shared/metrics"
	"github.com/orgwarden/orgwarden/shared/summary"
	"github.com/orgwarden/orgwarden/shared/sweep"
)

// Function is the function's name in logs, metrics and summaries.
const Function = "policyguard"

// PolicyVar holds the policy: inline JSON, or an s3://bucket/key location.
const PolicyVar = "ORGWARDEN_POLICY"

// Config is policyguard's own configuration.
type Config struct {
	// PolicySource is ORGWARDEN_POLICY as given (inline JSON or s3://...).
	PolicySource string
}

// ReadConfig reads policyguard's variables; check r.Err() afterwards.
func ReadConfig(r *config.Reader) Config {
	return Config{PolicySource: strings.TrimSpace(r.Required(PolicyVar))}
}

// objectStore is the S3 the function reads its policy from and keeps its
// findings state in.
type objectStore interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// eventPutter sends finding events; *eventbridge.Client is one.
type eventPutter interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// FromEnv builds the handler from the environment, as main.go does at
// Lambda init. A policy that is missing, unreadable or invalid fails the
// start: a guard that cannot read its policy must not run as if it had none.
func FromEnv(ctx context.Context, env config.Lookup, opts app.Options, options ...Option) (*Handler, error) {
	r := config.NewReader(env)
	cfg := ReadConfig(r)
	deps, err := app.Load(ctx, Function, r, opts)
	if err != nil {
		return nil, err
	}
	var store objectStore
	if deps.AWS != nil && deps.AWS.S3 != nil {
		store = deps.AWS.S3
	}
	pol, err := LoadPolicy(ctx, cfg.PolicySource, store)
	if err != nil {
		return nil, err
	}
	return New(deps, cfg, pol, options...), nil
}

// LoadPolicy reads and validates the policy from its source.
func LoadPolicy(ctx context.Context, source string, store objectStore) (*policy.Policy, error) {
	data := []byte(source)
	if strings.HasPrefix(source, "s3://") {
		bucket, key, ok := strings.Cut(strings.TrimPrefix(source, "s3://"), "/")
		if !ok || bucket == "" || key == "" {
			return nil, fmt.Errorf("%s: %q is not s3://bucket/key", PolicyVar, source)
		}
		if store == nil {
			return nil, fmt.Errorf("%s: cannot read %s: no S3 client", PolicyVar, source)
		}
		out, err := store.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return nil, fmt.Errorf("%s: read %s: %w", PolicyVar, source, err)
		}
		defer out.Body.Close()
		if data, err = io.ReadAll(io.LimitReader(out.Body, 4<<20)); err != nil {
			return nil, fmt.Errorf("%s: read %s: %w", PolicyVar, source, err)
		}
	} else if !strings.HasPrefix(source, "{") {
		return nil, fmt.Errorf("%s: want inline JSON (starting with {) or s3://bucket/key", PolicyVar)
	}
	p, err := policy.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", PolicyVar, err)
	}
	return p, nil
}

// Handler is the policyguard Lambda handler.
type Handler struct {
	deps   *app.Deps
	cfg    Config
	policy *policy.Policy
	now    func() time.Time
	store  objectStore
	events eventPutter
}

// Option adjusts a Handler.
type Option func(*Handler)

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// New returns a handler over deps for a validated policy.
func New(deps *app.Deps, cfg Config, pol *policy.Policy, opts ...Option) *Handler {
	h := &Handler{deps: deps, cfg: cfg, policy: pol, now: time.Now}
	if deps.AWS != nil && deps.AWS.S3 != nil {
		h.store = deps.AWS.S3
	}
	if deps.AWS != nil && deps.AWS.EventBridge != nil {
		h.events = deps.AWS.EventBridge
	}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Policy is the policy the handler holds the organization to.
func (h *Handler) Policy() *policy.Policy { return h.policy }

// Summary is what one run found and did.
type Summary struct {
	summary.Header
	Rules    int       `json:"rules"`
	Scanned  int       `json:"projects_scanned"`
	Selected int       `json:"projects_selected"`
	Findings []Finding `json:"findings"`
	// Changes are the remediations, with sweep's guard and cap outcomes.
	Changes sweep.Result `json:"changes"`
	Counts  Counts       `json:"counts"`
	// New and Resolved are keys of findings that appeared or went away
	// since the previous run (state kept under the report prefix).
	New      []string `json:"new"`
	Resolved []string `json:"resolved"`
	Errors   []string `json:"errors,omitempty"`
}

// Counts are the figures the metrics carry.
type Counts struct {
	Findings   int `json:"findings"`
	Remediated int `json:"remediated"`
	Reported   int `json:"reported"` // open after the run: report-only, dry run, held by the cap
	Skipped    int `json:"skipped"`  // protected
	Failed     int `json:"failed"`
	Open       int `json:"open"`
}

// Handle serves one scheduled invocation.
func (h *Handler) Handle(ctx context.Context, ev sweep.ScheduleEvent) (*Summary, error) {
	return h.Run(ctx, ev.DryRun)
}

// Run compares, remediates what is enforced, records new and resolved
// findings, and publishes the summary. dryRun can only add to the configured dry run.
func (h *Handler) Run(ctx context.Context, dryRun bool) (*Summary, error) {
	ctx, runID := app.StartRun(ctx)
	start := time.Now()
	sum := &Summary{
		Header: summary.Header{Kind: "policy_guard", RunID: runID, DryRun: h.deps.Common.DryRun || dryRun, StartedAt: h.now().UTC()},
		Rules:  len(h.policy.Rules) + len(h.policy.Organization), Findings: []Finding{}, New: []string{}, Resolved: []string{},
	}
	err := h.run(ctx, sum)
	if err != nil {
		sum.Errors = append(sum.Errors, err.Error())
	}
	sum.DurationMs = time.Since(start).Milliseconds()
	if sum.Counts.Failed > 0 {
		err = errors.Join(err, fmt.Errorf("%d remediations failed (see the summary)", sum.Counts.Failed))
	}
	rec := h.deps.Metrics()
	perRule := map[string][2]int{}
	for _, r := range h.policy.Rules {
		perRule[r.Name] = [2]int{}
	}
	for _, r := range h.policy.Organization {
		perRule[r.Name] = [2]int{}
	}
	for _, f := range sum.Findings {
		v := perRule[f.Rule]
		if f.Outcome == adminclient.Done {
			v[1]++
		} else {
			v[0]++
		}
		perRule[f.Rule] = v
	}
	for _, name := range sortedKeys(perRule) {
		rec.Count("PolicyFindingsOpen", perRule[name][0], metrics.Dim{Name: "Rule", Value: name})
		rec.Count("PolicyRemediated", perRule[name][1], metrics.Dim{Name: "Rule", Value: name})
	}
	rec.Count("PolicyFindingsOpen", sum.Counts.Open)
	rec.Count("PolicyRemediated", sum.Counts.Remediated)
	rec.Count("CapExceeded", boolInt(sum.Changes.CapExceeded))
	rec.Add("RunDurationMs", float64(sum.DurationMs), metrics.Milliseconds)
	st := summary.Status{Changed: sum.Counts.Remediated > 0, Failed: err != nil, CapExceeded: sum.Changes.CapExceeded}
	return sum, errors.Join(err, sweep.Publish(ctx, h.deps.Summary(), rec, sum, st))
}

func (h *Handler) run(ctx context.Context, sum *Summary) error {
	client, err := h.deps.AdminClient(ctx, sum.DryRun)
	if err != nil {
		return err
	}
	plan, err := Evaluate(ctx, client, h.policy)
	if err != nil {
		return err // nothing is changed on a partial read
	}
	sum.Scanned, sum.Selected = plan.Scanned, len(plan.Projects)
	findings, res := Apply(ctx, plan.Findings, h.deps.Common.Rules, h.deps.Common.MaxDeletions, client.Concurrency())
	sum.Findings, sum.Changes = findings, res
	var open []Finding
	for _, f := range findings {
		switch f.Outcome {
		case adminclient.Done:
			sum.Counts.Remediated++
			continue
		case sweep.Skipped:
			sum.Counts.Skipped++
		case adminclient.Failed:
			sum.Counts.Failed++
		default:
			sum.Counts.Reported++
		}
		open = append(open, f)
	}
	sum.Counts.Findings, sum.Counts.Open = len(findings), len(open)
	return h.track(ctx, sum, findings, open)
}

// Outcomes of findings a rule only reports.
const (
	OutcomeReported = sweep.Reported
)

// Apply acts on findings through sweep's plan: report-only findings are
// reported, protected projects skipped, and if the remediations exceed the
// cap none is made. Preview and real run both come here; only the client's
// dry run tells them apart. It returns the findings with their outcomes.
func Apply(ctx context.Context, findings []Finding, rules guard.Rules, maxChanges, concurrency int) ([]Finding, sweep.Result) {
	plan := sweep.NewPlan(rules)
	for _, f := range findings {
		c := sweep.Candidate{Subject: subjectOf(f), Reason: f.Reason(), ReportOnly: !f.Enforce || f.fix == nil}
		if f.fix != nil {
			c.Delete = f.fix
		}
		plan.Add(c)
	}
	res := plan.Apply(ctx, maxChanges, concurrency)
	byID := map[string]sweep.Entry{}
	for _, es := range [][]sweep.Entry{res.Deletions, res.Reports, res.Skipped} {
		for _, e := range es {
			byID[e.ID] = e
		}
	}
	out := slices.Clone(findings)
	for i := range out {
		e := byID[out[i].Key()]
		out[i].Outcome, out[i].Error = e.Outcome, e.Error
		if e.Outcome == sweep.Skipped {
			out[i].Note = e.Reason
		}
	}
	return out, res
}

// subjectOf is the finding as the guards see it: its project is the one a
// protected-projects list protects; its id is the finding's key, which a
// confirmed preview lists.
func subjectOf(f Finding) guard.Subject {
	return guard.Subject{Kind: "policy." + f.Kind, ID: f.Key(), ProjectID: f.ProjectID}
}

// state is what the previous run left open.
type state struct {
	Version  int       `json:"version"`
	RunID    string    `json:"run_id"`
	At       time.Time `json:"at"`
	Open     []string  `json:"open"`
	Findings []Finding `json:"findings"`
}

func (h *Handler) stateKey() string {
	prefix := h.deps.Common.ReportPrefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return prefix + Function + "/state/findings.json"
}

// track compares the open findings with the previous run's, sends one event
// per new or resolved finding, and stores the open set. Without a report
// bucket there is no state: every finding is new on every run.
func (h *Handler) track(ctx context.Context, sum *Summary, all, open []Finding) error {
	bucket := h.deps.Common.ReportBucket
	prev := map[string]Finding{}
	if bucket != "" && h.store != nil {
		out, err := h.store.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(h.stateKey())})
		switch {
		case err == nil:
			var st state
			data, rerr := io.ReadAll(out.Body)
			out.Body.Close()
			if rerr != nil || json.Unmarshal(data, &st) != nil {
				return fmt.Errorf("read findings state s3://%s/%s: unreadable; delete it to start afresh", bucket, h.stateKey())
			}
			for _, f := range st.Findings {
				prev[f.Key()] = f
			}
		case isNoSuchKey(err):
		default:
			return fmt.Errorf("read findings state s3://%s/%s: %w", bucket, h.stateKey(), err)
		}
	}
	now := map[string]bool{}
	var events []findingEvent
	for _, f := range open {
		now[f.Key()] = true
		if _, was := prev[f.Key()]; !was {
			sum.New = append(sum.New, f.Key())
			events = append(events, findingEvent{Status: "new", Finding: f})
		}
	}
	for _, f := range all {
		if f.Outcome == adminclient.Done {
			events = append(events, findingEvent{Status: "remediated", Finding: f})
		}
	}
	for _, k := range sortedKeys(prev) {
		if !now[k] {
			sum.Resolved = append(sum.Resolved, k)
			f := prev[k]
			if i := slices.IndexFunc(all, func(x Finding) bool { return x.Key() == k }); i >= 0 {
				f = all[i]
			}
			events = append(events, findingEvent{Status: "resolved", Finding: f})
		}
	}
	err := h.publishFindings(ctx, sum.RunID, events)
	if bucket != "" && h.store != nil {
		data, merr := json.Marshal(state{Version: 1, RunID: sum.RunID, At: h.now().UTC(), Open: slices.Collect(mapKeys(now)), Findings: nonNil(open)})
		if merr != nil {
			return errors.Join(err, merr)
		}
		if _, perr := h.store.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(h.stateKey()),
			Body: bytes.NewReader(data), ContentType: aws.String("application/json")}); perr != nil {
			err = errors.Join(err, fmt.Errorf("write findings state s3://%s/%s: %w", bucket, h.stateKey(), perr))
		}
	}
	return err
}

func nonNil(fs []Finding) []Finding {
	if fs == nil {
		return []Finding{}
	}
	return fs
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, k := range sortedKeys(m) {
			if !yield(k) {
				return
			}
		}
	}
}

// FindingDetailType is the EventBridge detail-type of finding events.
const FindingDetailType = "orgwarden." + Function + ".finding"

type findingEvent struct {
	Status       string  `json:"status"` // new | resolved | remediated
	Organization string  `json:"organization,omitempty"`
	RunID        string  `json:"run_id"`
	Key          string  `json:"key"`
	Finding      Finding `json:"finding"`
}

// publishFindings sends one event per new, resolved or remediated finding
// to the summary bus, ten to a PutEvents call (the API's most).
func (h *Handler) publishFindings(ctx context.Context, runID string, events []findingEvent) error {
	bus := h.deps.Common.SummaryBus
	if bus == "" || h.events == nil || len(events) == 0 {
		return nil
	}
	var errs []error
	for chunk := range slices.Chunk(events, 10) {
		entries := make([]ebtypes.PutEventsRequestEntry, 0, len(chunk))
		for _, e := range chunk {
			e.Organization, e.RunID, e.Key = h.deps.Common.OrgID, runID, e.Finding.Key()
			detail, err := json.Marshal(e)
			if err != nil {
				return err
			}
			entries = append(entries, ebtypes.PutEventsRequestEntry{EventBusName: aws.String(bus), Source: aws.String(summary.Source),
				DetailType: aws.String(FindingDetailType), Detail: aws.String(string(detail))})
		}
		out, err := h.events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
		if err != nil {
			errs = append(errs, fmt.Errorf("publish findings to %s: %w", bus, err))
			continue
		}
		if out.FailedEntryCount > 0 {
			errs = append(errs, fmt.Errorf("publish findings to %s: %d of %d events refused", bus, out.FailedEntryCount, len(entries)))
		}
	}
	return errors.Join(errs...)
}

func isNoSuchKey(err error) bool {
	var nsk interface{ ErrorCode() string }
	if errors.As(err, &nsk) {
		return nsk.ErrorCode() == "NoSuchKey" || nsk.ErrorCode() == "NotFound"
	}
	return false
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func joinErrs(errs []error) error {
	return fmt.Errorf("described policy is invalid: %w", errors.Join(errs...))
}
