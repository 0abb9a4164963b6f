package export_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	locals3 "github.com/orgwarden/orgwarden/testenv/awslocal/s3"
	"github.com/orgwarden/orgwarden/testenv/awslocal/s3/s3test"
)

const (
	testBucket = "audit-bucket"
	testOrg    = "org-test"
)

// clock is the time the emulator and the exporter share, so events are
// "new" or "late" exactly as a test arranges.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is an emulated organization, a local S3 and an exporter config.
type env struct {
	t      testing.TB
	emu    *adminapitest.Server
	s3     *locals3.Server
	client *s3.Client
	clock  *clock
	cfg    export.Config
	logs   *syncBuffer
}

type envOptions struct {
	seed       *adminapi.Seed
	faults     adminapi.Faults
	cfg        func(*export.Config)
	s3Client   func(*s3.Options)
	start      time.Time
	noValidate bool
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	start := o.start
	if start.IsZero() {
		start = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)
	}
	c := &clock{t: start}
	var opts []adminapitest.Option
	if o.noValidate {
		opts = append(opts, adminapitest.WithoutValidation())
	}
	emu := adminapitest.New(t, adminapi.Options{Seed: o.seed, Clock: c.Now, Faults: o.faults}, opts...)
	srv := s3test.New(t)
	if err := srv.CreateBucket(context.Background(), testBucket); err != nil {
		t.Fatal(err)
	}
	cfg := export.Config{
		OrgID: testOrg, Bucket: testBucket, Prefix: "audit", Lookback: time.Hour,
		SliceConcurrency: 4, RolloverBytes: 64 << 20, RolloverEvents: 100_000, TenantEvents: true,
	}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	var s3opts []func(*s3.Options)
	if o.s3Client != nil {
		s3opts = append(s3opts, o.s3Client)
	}
	return &env{t: t, emu: emu, s3: srv, client: srv.Client(s3opts...), clock: c, cfg: cfg, logs: &syncBuffer{}}
}

func (e *env) logger() *slog.Logger { return logging.New(e.logs, slog.LevelDebug) }

func (e *env) exporter(client *s3.Client) *export.Exporter {
	e.t.Helper()
	if client == nil {
		client = e.client
	}
	x, err := export.New(e.cfg, client, export.Options{Logger: e.logger(), Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	return x
}

func (e *env) api() *adminclient.Client {
	e.t.Helper()
	c, err := adminclient.New(adminclient.Options{
		BaseURL: e.emu.URL, AdminKey: logging.Secret(e.emu.AdminKey), HTTPClient: e.emu.HTTP.Client(),
		MaxRetries: 8, MaxRetryDelay: 50 * time.Millisecond, Timeout: 10 * time.Second, Logger: e.logger(),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// run runs one export with a fresh API client and fails the test on error.
func (e *env) run(req export.Request) export.Result {
	e.t.Helper()
	res, err := e.exporter(nil).Run(context.Background(), e.api(), req)
	if err != nil {
		e.t.Fatalf("run: %v\nresult %+v", err, res)
	}
	return res
}

// appendEvent adds an event to the emulator at effective_at at.
func (e *env) appendEvent(id string, at int64, extra string) {
	e.t.Helper()
	raw := fmt.Sprintf(`{"id":%q,"type":"project.updated","effective_at":%d%s}`, id, at, extra)
	if err := e.emu.Emulator.AppendAuditEvent([]byte(raw)); err != nil {
		e.t.Fatal(err)
	}
}

// exported reads every data object and returns the event ids in them
// (with repeats, if any) and the raw lines by id.
func (e *env) exported() (ids []string, lines map[string][]byte) {
	e.t.Helper()
	ctx := context.Background()
	store := objects.NewStore(e.client, testBucket, objects.Options{})
	lines = map[string][]byte{}
	for _, key := range e.keys(e.exporterLayoutDataPrefix()) {
		if _, err := store.Read(ctx, key, func(l objects.Line) error {
			ids = append(ids, l.ID)
			lines[l.ID] = bytes.Clone(l.Raw)
			return nil
		}); err != nil {
			e.t.Fatalf("read %s: %v", key, err)
		}
	}
	return ids, lines
}

func (e *env) exporterLayoutDataPrefix() string { return e.exporter(nil).Layout().DataPrefix() }

func (e *env) keys(prefix string) []string {
	e.t.Helper()
	var out []string
	p := s3.NewListObjectsV2Paginator(e.client, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	return out
}

// assertExactlyOnce checks that the export holds every emulator event once.
func (e *env) assertExactlyOnce() {
	e.t.Helper()
	got, _ := e.exported()
	want := e.emu.Emulator.AuditEventIDs()
	assertSameSet(e.t, got, want)
}

func assertSameSet(t testing.TB, got, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, id := range got {
		count[id]++
	}
	var dups, missing, extra []string
	for id, n := range count {
		if n > 1 {
			dups = append(dups, id)
		}
	}
	wantSet := map[string]bool{}
	for _, id := range want {
		wantSet[id] = true
		if count[id] == 0 {
			missing = append(missing, id)
		}
	}
	for id := range count {
		if !wantSet[id] {
			extra = append(extra, id)
		}
	}
	slices.Sort(dups)
	slices.Sort(missing)
	slices.Sort(extra)
	if len(dups)+len(missing)+len(extra) > 0 {
		t.Fatalf("export differs from the emulator (%d exported lines, %d events): %d duplicated %v, %d missing %v, %d extra %v",
			len(got), len(want), len(dups), head(dups), len(missing), head(missing), len(extra), head(extra))
	}
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
