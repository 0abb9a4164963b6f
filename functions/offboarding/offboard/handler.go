package offboard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/message"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/shared/metrics"
	"github.com/orgwarden/orgwarden/shared/summary"
)

// FailureKind is why a message failed: the Kind dimension of the Failures
// metric, and what decides between redelivery and the dead-letter queue.
type FailureKind string

// Failure kinds.
const (
	KindBadInput  FailureKind = "bad_input" // the message can never be processed: dead-lettered at once
	KindRefused   FailureKind = "refused"   // a guard refused the person: dead-lettered, alarm-worthy
	KindTransient FailureKind = "transient" // 429, 5xx, timeouts: SQS redelivers the message
	KindPermanent FailureKind = "permanent" // another error mid-way: SQS redelivers it until its redrive policy moves it
)

// Metric names (docs/architecture.md).
const (
	MetricMessagesProcessed = "MessagesProcessed"
	MetricPeopleOffboarded  = "PeopleOffboarded"
	MetricKeysRevoked       = "KeysRevoked"
	MetricFailures          = "Failures"
	// MetricNotFound counts requests whose email matched no user and no
	// pending invite: HR named someone the organization does not know.
	MetricNotFound = "RequestsNotFound"
)

// Handler is the SQS batch handler.
type Handler struct {
	deps    *app.Deps
	cfg     Config
	journal *journal.Store
	now     func() time.Time
}

// Option adjusts a Handler.
type Option func(*Handler)

// WithClock replaces time.Now, e.g. with an emulator's clock, so journal
// records and replays are dated by the organization's time.
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// New builds a handler from loaded dependencies.
func New(deps *app.Deps, cfg Config, options ...Option) *Handler {
	h := &Handler{
		deps:    deps,
		cfg:     cfg,
		journal: &journal.Store{S3: deps.AWS.S3, Bucket: cfg.JournalBucket},
		now:     time.Now,
	}
	for _, o := range options {
		o(h)
	}
	return h
}

// Handle processes one batch. Each message succeeds or fails on its own:
// the response lists, as batch item failures, exactly the messages SQS
// should deliver again (those that hit a transient or mid-way error).
// Messages that can never succeed (bad input, refusals) are sent to the
// dead-letter queue with the reason and reported as processed, so no
// retry is wasted on them. Handle itself never fails the whole batch.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	ctx, _ = app.StartRun(ctx)
	rec := h.deps.Metrics()
	defer h.flush(ctx, rec)

	clients := &clientCache{deps: h.deps}

	// Messages about the same request (a duplicate in the same batch) run
	// one after the other, so the second sees the first's record; the
	// rest run concurrently, sharing the client's rate limit.
	groups := map[string][]int{}
	var order []string
	parsed := make([]parsedMessage, len(ev.Records))
	for i, m := range ev.Records {
		parsed[i] = parseMessage(m)
		parsed[i].preview = h.deps.Common.DryRun
		g := "bad/" + m.MessageId
		if parsed[i].err == nil {
			g = parsed[i].req.NormalizedEmail() + "/" + parsed[i].req.RequestKey()
		}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], i)
	}

	failed := make([]bool, len(ev.Records))
	var wg sync.WaitGroup
	for _, g := range order {
		wg.Go(func() {
			for _, i := range groups[g] {
				failed[i] = h.process(ctx, ev.Records[i], parsed[i], clients, rec)
			}
		})
	}
	wg.Wait()

	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp, nil
}

type parsedMessage struct {
	req message.Request
	err error
	at  Attempt
	// body is the message as received; preview says to journal it as a
	// preview when the configured dry run kept it from being applied.
	body    string
	preview bool
}

func parseMessage(m events.SQSMessage) parsedMessage {
	p := parsedMessage{at: Attempt{MessageID: m.MessageId}}
	p.at.ReceiveCount, _ = strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
	if ms, err := strconv.ParseInt(m.Attributes["SentTimestamp"], 10, 64); err == nil {
		p.at.SentAt = time.UnixMilli(ms).UTC()
	}
	p.req, p.err = message.Parse([]byte(m.Body))
	p.body = m.Body
	return p
}

// process handles one message and reports whether SQS should redeliver it.
func (h *Handler) process(ctx context.Context, m events.SQSMessage, p parsedMessage, clients *clientCache, rec *metrics.Recorder) (retry bool) {
	s, err := h.offboardOne(ctx, p, clients, rec)
	if err != nil {
		switch s.FailureKind {
		case KindBadInput, KindRefused:
			if dlqErr := h.deadLetter(ctx, m, s.FailureKind, reasonOf(err)); dlqErr != nil {
				// SQS's own redrive policy moves it after maxReceiveCount.
				s.Error += "; dead-letter queue: " + logging.Redact(dlqErr.Error())
				s.Retry = true
			} else {
				s.DeadLettered = true
			}
		default:
			s.Retry = true
		}
	}
	h.publish(ctx, s)
	return s.Retry
}

// offboardOne runs one parsed request and records its metrics; the
// summary says what happened and, on failure, of which kind.
func (h *Handler) offboardOne(ctx context.Context, p parsedMessage, clients *clientCache, rec *metrics.Recorder) (Summary, error) {
	start := h.now()
	s := Summary{MessageID: p.at.MessageID, ReceiveCount: p.at.ReceiveCount}
	rec.Count(MetricMessagesProcessed, 1)

	var (
		res *Result
		err = p.err
	)
	if err == nil {
		s.fromRequest(p.req)
		var c *adminclient.Client
		if c, err = clients.get(ctx, p.req.DryRun); err == nil {
			res, err = h.offboarder(c, clients.users(c)).Offboard(ctx, p.req, p.at)
		}
	}
	s.fromResult(res)
	if err == nil && p.preview && !p.req.DryRun && res != nil && (res.Outcome == DryRun || res.Outcome == NotFound) {
		// Only the configuration's dry run kept the request from being
		// applied: keep it for orgwarden replay, or have SQS retry.
		s.Preview, err = h.savePreview(ctx, p, res)
	}
	if err != nil {
		kind := classify(err)
		s.FailureKind, s.Error = kind, logging.Redact(err.Error())
		rec.Count(MetricFailures, 1)
		rec.Count(MetricFailures, 1, metrics.Dim{Name: "Kind", Value: string(kind)})
	}
	if res != nil && res.Outcome == NotFound {
		rec.Count(MetricNotFound, 1)
		h.deps.Log.WarnContext(ctx, "offboarding request matched no user and no invite: check the email",
			"email", p.req.Email, "ticket", logging.Redact(p.req.Ticket), "message_id", p.at.MessageID, "dry_run", res.DryRun)
	}
	if res != nil && !s.DryRun {
		if res.Outcome == Offboarded {
			rec.Count(MetricPeopleOffboarded, 1)
		}
		rec.Count(MetricKeysRevoked, res.Done.APIKeys)
	}
	if s.Outcome == "" {
		s.Outcome = Failed
		if p.err != nil {
			s.Outcome = BadInput
		}
	}
	s.DurationMs = h.now().Sub(start).Milliseconds()
	return s, err
}

// flush writes a run's metrics once, when the run ends.
func (h *Handler) flush(ctx context.Context, rec *metrics.Recorder) {
	if err := rec.Flush(); err != nil {
		h.deps.Log.ErrorContext(ctx, "flush metrics", "error", err.Error())
	}
}

func (h *Handler) publish(ctx context.Context, s Summary) {
	if err := h.deps.Summary().Publish(ctx, s, s.status()); err != nil {
		h.deps.Log.WarnContext(ctx, "publish summary", "message_id", s.MessageID, "error", logging.Redact(err.Error()))
	}
}

// Run offboards one person outside SQS, for `orgwarden run offboarding`:
// the same guards, journal, summary and metrics as a queued request, but a
// refusal or bad input is returned to the caller instead of dead-lettered.
func (h *Handler) Run(ctx context.Context, body []byte) (Summary, error) {
	ctx, runID := app.StartRun(ctx)
	rec := h.deps.Metrics()
	defer h.flush(ctx, rec)
	p := parsedMessage{at: Attempt{MessageID: "cli-" + runID, SentAt: h.now()}}
	p.req, p.err = message.Parse(body)
	clients := &clientCache{deps: h.deps}
	s, err := h.offboardOne(ctx, p, clients, rec)
	h.publish(ctx, s)
	return s, err
}

func (h *Handler) offboarder(c *adminclient.Client, users UserFinder) *Offboarder {
	return &Offboarder{Client: c, Users: users, Rules: h.deps.Common.Rules, MaxKeyRevocations: h.deps.Common.MaxDeletions,
		Journal: h.journal, Prefix: h.cfg.JournalPrefix, Log: h.deps.Log, Now: h.now}
}

// reasonOf is the human reason for a dead-lettered message.
func reasonOf(err error) string {
	var bad *message.Error
	if errors.As(err, &bad) {
		return bad.Reason
	}
	var ref *RefusedError
	if errors.As(err, &ref) {
		return ref.Reason
	}
	return err.Error()
}

// classify maps an error to a failure kind.
func classify(err error) FailureKind {
	switch {
	case message.IsBadInput(err):
		return KindBadInput
	case IsRefused(err):
		return KindRefused
	case anyLeaf(err, isTransient):
		return KindTransient
	}
	return KindPermanent
}

// isTransient reports errors worth retrying: the Admin API's (429, 5xx,
// timeouts, broken connections), AWS's (5xx, throttling), a journal record
// that kept changing under us.
func isTransient(err error) bool {
	if adminclient.IsTransient(err) || errors.Is(err, journal.ErrConflict) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		code := re.HTTPStatusCode()
		return code == http.StatusTooManyRequests || code >= 500
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// anyLeaf applies pred to every branch of a joined error: one transient
// failure among several is enough to call the attempt transient.
func anyLeaf(err error, pred func(error) bool) bool {
	if err == nil {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if anyLeaf(e, pred) {
				return true
			}
		}
		return false
	}
	if pred(err) {
		return true
	}
	if u := errors.Unwrap(err); u != nil {
		return anyLeaf(u, pred)
	}
	return false
}

// clientCache makes at most one real and one dry-run Admin API client per
// invocation, shared by its messages (and so is their rate limit), and one
// user index: an invocation lists the organization's users at most once.
type clientCache struct {
	deps  *app.Deps
	mu    sync.Mutex
	real  *adminclient.Client
	dry   *adminclient.Client
	index *adminclient.UserIndex
}

// users returns the invocation's user index, built on the first client
// asked for (lookups only read, so either client serves).
func (c *clientCache) users(cl *adminclient.Client) *adminclient.UserIndex {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.index == nil {
		c.index = cl.NewUserIndex()
	}
	return c.index
}

func (c *clientCache) get(ctx context.Context, dryRun bool) (*adminclient.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	slot := &c.real
	if dryRun {
		slot = &c.dry
	}
	if *slot == nil {
		cl, err := c.deps.AdminClient(ctx, dryRun)
		if err != nil {
			return nil, fmt.Errorf("admin client: %w", err)
		}
		*slot = cl
	}
	return *slot, nil
}

// Summary is the one log line (and EventBridge event) per message.
type Summary struct {
	MessageID    string   `json:"message_id"`
	ReceiveCount int      `json:"receive_count,omitempty"`
	Email        string   `json:"email,omitempty"`
	Ticket       string   `json:"ticket,omitempty"`
	RequestKind  string   `json:"request_kind,omitempty"`
	Via          []string `json:"via,omitempty"`
	DryRun       bool     `json:"dry_run"`

	Outcome     Outcome     `json:"outcome"`
	FailureKind FailureKind `json:"failure_kind,omitempty"`
	Error       string      `json:"error,omitempty"`
	// DeadLettered: sent to the dead-letter queue; Retry: reported as a
	// batch item failure for SQS to redeliver.
	DeadLettered bool `json:"dead_lettered,omitempty"`
	Retry        bool `json:"retry,omitempty"`

	User    *journal.User `json:"user,omitempty"`
	Done    *Counts       `json:"done,omitempty"`
	Earlier *Counts       `json:"earlier,omitempty"`
	// Items is every item of the offboarding with its outcome (in a dry
	// run, "planned": what a real run would remove), at most maxSummaryItems;
	// ItemsOmitted counts the rest, which only the journal lists.
	Items        []Item `json:"items,omitempty"`
	ItemsOmitted int    `json:"items_omitted,omitempty"`
	// ServiceAccountsForReview survive the person: they sit in projects the
	// person owned, and someone should take them over.
	ServiceAccountsForReview []journal.ServiceAccount `json:"service_accounts_for_review,omitempty"`
	Journal                  string                   `json:"journal,omitempty"`
	// Preview is where a request received in dry run waits for replay.
	Preview    string `json:"preview,omitempty"`
	DurationMs int64  `json:"duration_ms"`
}

// status is what the summary bus's rules match: a live offboarding that
// removed something changed the organization; a refusal by the key cap is
// cap_exceeded (guard.CheckCap's error, kept only as text in the refusal).
func (s Summary) status() summary.Status {
	return summary.Status{
		Changed:     !s.DryRun && s.Done != nil && !s.Done.empty(),
		Failed:      s.Error != "",
		CapExceeded: strings.Contains(s.Error, guard.ErrCapExceeded.Error()),
	}
}

// maxSummaryItems keeps a summary within what one CloudWatch Logs event
// and one EventBridge entry hold (256 KiB each) for people in hundreds of
// projects.
const maxSummaryItems = 600

// Item is one line of an offboarding's plan or outcome.
type Item struct {
	Type      string          `json:"type"` // project_membership, api_key, admin_api_key, invite, organization
	ID        string          `json:"id"`
	ProjectID string          `json:"project_id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Role      string          `json:"role,omitempty"`
	Outcome   journal.Outcome `json:"outcome"`
	Note      string          `json:"note,omitempty"`
}

func (s *Summary) fromRequest(r message.Request) {
	s.Email, s.Ticket, s.RequestKind, s.Via, s.DryRun = r.Email, r.Ticket, string(r.Kind), r.Via, r.DryRun
}

func (s *Summary) fromResult(res *Result) {
	if res == nil {
		return
	}
	s.Outcome = res.Outcome
	if res.DryRun {
		s.DryRun = true
	}
	s.Journal = res.JournalLocation
	if res.Record == nil {
		return
	}
	done, earlier := res.Done, res.Earlier
	s.Done, s.Earlier = &done, &earlier
	s.Items = Items(res.Record)
	if len(s.Items) > maxSummaryItems {
		s.ItemsOmitted = len(s.Items) - maxSummaryItems
		s.Items = s.Items[:maxSummaryItems]
	}
	s.User = res.Record.User
	s.ServiceAccountsForReview = res.Record.ServiceAccounts
}

// Items flattens a record into summary lines.
func Items(r *journal.Record) []Item {
	var out []Item
	for _, m := range r.Projects {
		out = append(out, Item{Type: "project_membership", ID: m.ProjectID, Name: m.ProjectName, Role: m.Role, Outcome: m.Outcome, Note: stepNote(m.Step)})
	}
	for _, k := range r.APIKeys {
		typ := "api_key"
		if k.Kind == journal.AdminKey {
			typ = "admin_api_key"
		}
		out = append(out, Item{Type: typ, ID: k.ID, ProjectID: k.ProjectID, Name: k.Name, Outcome: k.Outcome, Note: stepNote(k.Step)})
	}
	for _, in := range r.Invites {
		out = append(out, Item{Type: "invite", ID: in.ID, Role: in.Role, Outcome: in.Outcome, Note: stepNote(in.Step)})
	}
	if r.User != nil && r.Organization != nil {
		out = append(out, Item{Type: "organization", ID: r.User.ID, Role: r.User.OrgRole, Outcome: r.Organization.Outcome, Note: stepNote(*r.Organization)})
	}
	return out
}

func stepNote(s journal.Step) string {
	if s.Error != "" {
		return s.Error
	}
	return s.Note
}
