package detect_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/auditexport/detect"
	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/layout"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	"github.com/orgwarden/orgwarden/testenv/auditgen"
	ebserver "github.com/orgwarden/orgwarden/testenv/awslocal/eventbridge"
	"github.com/orgwarden/orgwarden/testenv/awslocal/eventbridge/eventbridgetest"
	locals3 "github.com/orgwarden/orgwarden/testenv/awslocal/s3"
	"github.com/orgwarden/orgwarden/testenv/awslocal/s3/s3test"
)

const (
	bucket        = "evidence-bucket"
	journalBucket = "state-bucket"
	org           = "org-soak"
	bus           = "orgwarden-findings"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// world is an emulated organization, S3 and EventBridge, an exporter and a
// detector sharing one clock.
type world struct {
	t     *testing.T
	clock *clock
	emu   *adminapitest.Server
	s3    *locals3.Server
	eb    *ebserver.Server
	cfg   export.Config
	dcfg  detect.Config
	logs  strings.Builder
	mu    sync.Mutex
}

func newWorld(t *testing.T, start time.Time) *world {
	t.Helper()
	c := &clock{t: start}
	w := &world{t: t, clock: c, emu: adminapitest.New(t, adminapi.Options{Clock: c.Now}), s3: s3test.New(t), eb: eventbridgetest.New(t)}
	for _, b := range []string{bucket, journalBucket} {
		if err := w.s3.CreateBucket(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	w.cfg = export.Config{OrgID: org, Bucket: bucket, StateBucket: journalBucket, Prefix: "audit", Lookback: time.Hour,
		SliceConcurrency: 4, RolloverBytes: 64 << 20, RolloverEvents: 2000, TenantEvents: true}
	w.dcfg = detect.Config{Enabled: true, Bus: bus, AllowedDomains: []string{"example.com"}, ASFF: true,
		JournalBucket: journalBucket, JournalPrefix: journal.DefaultPrefix, ProtectedProjects: []string{"proj_prod"}}
	return w
}

func (w *world) api() *adminclient.Client {
	w.t.Helper()
	c, err := adminclient.New(adminclient.Options{BaseURL: w.emu.URL, AdminKey: logging.Secret(w.emu.AdminKey), HTTPClient: w.emu.HTTP.Client(),
		MaxRetries: 8, MaxRetryDelay: 50 * time.Millisecond, Timeout: 10 * time.Second})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) export(req export.Request) export.Result {
	w.t.Helper()
	x, err := export.New(w.cfg, w.s3.Client(), export.Options{Now: w.clock.Now})
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := x.Run(context.Background(), w.api(), req)
	if err != nil {
		w.t.Fatalf("export: %v", err)
	}
	return res
}

func (w *world) detector(client *s3.Client, eb *failingBus) *detect.Detector {
	w.t.Helper()
	if client == nil {
		client = w.s3.Client()
	}
	var put interface {
		PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
	} = w.eb.Client()
	if eb != nil {
		eb.next = w.eb.Client()
		put = eb
	}
	d, err := detect.New(w.dcfg, w.cfg, client, put, detect.WithClock(w.clock.Now), detect.WithRegion("eu-west-1"),
		detect.WithLogger(logging.New(&lockedWriter{w: &w.logs, mu: &w.mu}, slog.LevelInfo)))
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// failingBus fails every PutEvents while fail is set.
type failingBus struct {
	next interface {
		PutEvents(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
	}
	fail bool
}

func (f *failingBus) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, o ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	if f.fail {
		return nil, errors.New("ServiceUnavailable: injected")
	}
	return f.next.PutEvents(ctx, in, o...)
}

// stateWriteFails fails the n-th PutObject of the detection state: the
// write is lost with the process, as if it crashed there.
type stateWriteFails struct {
	next  http.RoundTripper
	n     int
	seen  int
	mu    sync.Mutex
	fired bool
}

func (s *stateWriteFails) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && strings.HasSuffix(req.URL.Path, "/detect.json") {
		s.mu.Lock()
		s.seen++
		hit := s.seen == s.n
		if hit {
			s.fired = true
		}
		s.mu.Unlock()
		if hit {
			return nil, errors.New("process crashed writing the detection state")
		}
	}
	return s.next.RoundTrip(req)
}

// findings are the findings on the bus, by id, each with how often it came.
func (w *world) findings() (map[string]detect.Finding, map[string]int) {
	byID, count := map[string]detect.Finding{}, map[string]int{}
	for _, e := range w.eb.Events() {
		if e.DetailType != detect.EventDetailType {
			continue
		}
		var f detect.Finding
		if err := json.Unmarshal(e.Detail, &f); err != nil {
			w.t.Fatal(err)
		}
		byID[f.ID] = f
		count[f.ID]++
	}
	return byID, count
}

func (w *world) keys(b, prefix string) []string {
	var out []string
	p := s3.NewListObjectsV2Paginator(w.s3.Client(), &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			w.t.Fatal(err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	return out
}

// journalRemoval writes the offboarding record of a person removed at at,
// as the offboarding function does.
func journalRemoval(t *testing.T, client *s3.Client, userID, email string, at time.Time) {
	t.Helper()
	store := &journal.Store{S3: client, Bucket: journalBucket}
	key := journal.Key(journal.DefaultPrefix, at, email, "req-1")
	e, err := store.Open(context.Background(), key, func() *journal.Record { return journal.New(key, email, "req-1", at) })
	if err != nil {
		t.Fatal(err)
	}
	e.Record.User = &journal.User{ID: userID, Email: email, OrgRole: "reader"}
	e.Record.Organization = &journal.Step{}
	journal.Set(e.Record.Organization, journal.Removed, "", "", at)
	e.Record.Finish(at)
	if err := e.Save(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestSoak: a realistic background with every kind of attack injected,
// exported over many runs with late events, a failing bus, a crash at the
// state write and a re-evaluation of old generations. Every injected
// pattern is found exactly once, by its rule, from its own events; nothing
// is found in the background; nothing reaches the bus twice.
func TestSoak(t *testing.T) {
	seed := uint64(1)
	if s := os.Getenv("ORGWARDEN_SOAK_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = n
	}
	background := 20_000
	if testing.Short() {
		background = 4_000
	}
	start := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	span := 3 * 24 * time.Hour
	gone := start.Add(36 * time.Hour)
	w := newWorld(t, start)
	h := auditgen.Generate(auditgen.Options{Seed: seed, Background: background, Start: start, Span: span, Domain: "example.com",
		ProtectedProject: "proj_prod", OffboardedUser: "user-leaver", OffboardedEmail: "leaver@example.com", OffboardedAt: gone})
	journalRemoval(t, w.s3.Client(), "user-leaver", "leaver@example.com", gone)

	// Events become visible to the API at their time, and 3% of them up
	// to 40 minutes late (inside the export's one-hour lookback).
	rng := seed
	visible := make([]int64, len(h.Events))
	for i, e := range h.Events {
		rng = rng*6364136223846793005 + 1442695040888963407
		visible[i] = e.At
		if rng>>58 == 0 { // 1 in 64
			visible[i] += int64(rng>>40) % 2400
		}
	}
	appended := make([]bool, len(h.Events))
	step := 2 * time.Hour
	bus := &failingBus{}
	run := 0
	var lastTo int64
	heldBack := 0 // runs whose findings waited for the bus
	// Findings sent by a run that died before recording it: at-least-once
	// delivery may send these twice, under the same id.
	resendable := map[string]bool{}
	for now := start.Add(step); ; now = now.Add(step) {
		w.clock.Set(now)
		for i, e := range h.Events {
			if !appended[i] && visible[i] <= now.Unix() {
				if err := w.emu.Emulator.AppendAuditEvent(e.Raw); err != nil {
					t.Fatal(err)
				}
				appended[i] = true
			}
		}
		req := export.Request{}
		if run == 0 {
			req.Since = start.Add(-time.Hour).Unix()
		}
		res := w.export(req)
		run++

		var client *s3.Client
		crash := &stateWriteFails{next: http.DefaultTransport}
		crashing := func(n int) *s3.Client {
			crash.n = n
			return w.s3.Client(func(o *s3.Options) { o.HTTPClient = &http.Client{Transport: crash}; o.RetryMaxAttempts = 1 })
		}
		// The bus is down from run 8 until a finding had to wait for it.
		bus.fail = run >= 8 && heldBack == 0 && run < 30
		onBusBefore := len(w.eb.Events())
		switch run {
		case 12, 16: // the process dies at its first or second state write; what it
			// sent before dying may be sent again by the next run, under the same id
			client = crashing(map[int]int{12: 1, 16: 2}[run])
		case 20: // an operator rewinds detection three generations
			rewind(t, w, 3)
		}
		rep, err := w.detector(client, bus).Run(context.Background(), res.Generation)
		if crash.fired {
			for _, e := range w.eb.Events()[onBusBefore:] {
				var f detect.Finding
				_ = json.Unmarshal(e.Detail, &f)
				resendable[f.ID] = true
			}
		}
		switch {
		case (run == 12 || run == 16) && !crash.fired:
			t.Fatalf("run %d: the state write did not crash", run)
		case run == 20 && (rep.FromGeneration == 0 || rep.FromGeneration > lastTo-2):
			t.Fatalf("run 20 evaluated generations %d..%d, want a rewind below %d", rep.FromGeneration, rep.ToGeneration, lastTo)
		}
		if rep.ToGeneration > 0 {
			lastTo = rep.ToGeneration
		}
		if bus.fail && rep.Undelivered > 0 {
			heldBack++
		}
		failing := bus.fail || crash.fired
		if err != nil && !failing {
			t.Fatalf("run %d: detection: %v", run, err)
		}
		if (crash.fired || (bus.fail && rep.Undelivered > 0)) && err == nil {
			t.Fatalf("run %d: detection failure not reported", run)
		}
		if bus.fail && !crash.fired && rep.Undelivered == 0 && len(rep.Findings) > 0 {
			t.Fatalf("run %d: findings lost while the bus was down: %+v", run, rep)
		}
		if now.After(start.Add(span + 2*time.Hour)) {
			break
		}
	}
	if heldBack == 0 {
		t.Error("no finding ever waited for the bus: the failing-bus path was not exercised")
	}
	// A last run after everything is visible delivers what is left.
	bus.fail = false
	if _, err := w.detector(nil, nil).Run(context.Background(), 0); err != nil {
		t.Fatal(err)
	}

	byID, count := w.findings()
	for id, n := range count {
		if n > 2 || (n == 2 && !resendable[id]) {
			t.Errorf("finding %s (%s) reached the bus %d times", id, byID[id].Rule, n)
		}
	}
	matched := map[string]bool{}
	for _, p := range h.Patterns {
		var hits []string
		for id, f := range byID {
			if f.Rule == p.Rule && subset(f.EventIDs, p.EventIDs) {
				hits = append(hits, id)
			}
		}
		if len(hits) != 1 {
			t.Errorf("pattern %s %v: %d findings %v, want 1", p.Rule, head(p.EventIDs), len(hits), hits)
		}
		for _, id := range hits {
			matched[id] = true
		}
	}
	for id, f := range byID {
		if !matched[id] {
			t.Errorf("finding from the background alone: %s %s events %v", f.Rule, id, head(f.EventIDs))
		}
	}
	evidence := w.keys(bucket, detect.FindingsPrefix(mustLayout(t, w.cfg)))
	var plain, asff int
	for _, k := range evidence {
		if strings.Contains(k, "/asff/") {
			asff++
		} else {
			plain++
		}
	}
	if plain != len(byID) || asff != len(byID) {
		t.Errorf("evidence bucket holds %d findings and %d ASFF documents, want %d each", plain, asff, len(byID))
	}
	t.Logf("%d background events, %d patterns, %d runs, %d findings", background, len(h.Patterns), run, len(byID))
}

func mustLayout(t *testing.T, c export.Config) layout.Layout {
	l, err := layout.New(c.Prefix, c.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// rewind moves the detection state's generation back n: the next run
// evaluates those generations again.
func rewind(t *testing.T, w *world, n int64) {
	t.Helper()
	key := detect.StateKey(mustLayout(t, w.cfg))
	c := w.s3.Client()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(journalBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.NewDecoder(out.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	st["generation"] = st["generation"].(float64) - float64(n)
	b, _ := json.Marshal(st)
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(journalBucket), Key: aws.String(key), Body: strings.NewReader(string(b))}); err != nil {
		t.Fatal(err)
	}
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return len(a) > 0
}

func head(s []string) []string {
	if len(s) > 3 {
		return append(slices.Clone(s[:3]), fmt.Sprintf("... %d in all", len(s)))
	}
	return s
}
