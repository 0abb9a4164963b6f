package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/awslocal/stack"
)

// demoStep is one function's part of `orgwarden demo`. Its run prints a
// short readable report to d.report and returns an error only when the job
// did not do what it should (the demo then exits non-zero).
type demoStep struct {
	name string
	run  func(ctx context.Context, d *demo) error
}

// demoSteps lists the steps in order; each function adds its own in its
// demo_<name>.go file.
func demoSteps() []demoStep {
	return []demoStep{
		offboardingDemo(),
		auditExportDemo(),
		keyRotationDemo(),
		inviteCleanupDemo(),
		// Last: it moves the emulator's clock a day on.
		inventoryDemo(),
	}
}

// demo is the world every step runs in: the Admin API emulator with the
// small seeded organization, and S3, Secrets Manager, SQS and EventBridge on
// loopback, all set up as the CDK stack sets them up in AWS.
type demo struct {
	emu      *adminapi.Emulator
	emuURL   string
	aws      *stack.Stack
	report   io.Writer // what the user reads
	logs     io.Writer // every function's JSON log lines
	logPath  string
	resource demoResources
	base     map[string]string
}

// demoResources are the names the demo creates, as the stack would.
type demoResources struct {
	OrgID          string
	AuditBucket    string
	StateBucket    string
	AdminSecretARN string
	AdminKeyID     string
	QueueURL       string
	DLQURL         string
	SummaryBus     string
}

// env returns the environment a function gets in the demo: the common
// variables plus extra, as a lookup.
func (d *demo) env(extra map[string]string) config.Lookup {
	m := make(map[string]string, len(d.base)+len(extra))
	for k, v := range d.base {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return config.MapEnv(m)
}

func (d *demo) printf(format string, args ...any) { fmt.Fprintf(d.report, format, args...) }

// table prints rows aligned under a header.
func (d *demo) table(header string, rows [][]string) {
	tw := tabwriter.NewWriter(d.report, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "    "+strings.ReplaceAll(header, ",", "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, "    "+strings.Join(r, "\t"))
	}
	_ = tw.Flush()
}

func (c *cli) demoCmd(ctx context.Context, args []string) error {
	fs := c.flags("demo", "demo [--seed-value N] [--verbose] [--only STEP]")
	seedValue := fs.Uint64("seed-value", 1, "generator seed of the demo organization")
	verbose := fs.Bool("verbose", false, "also print every JSON log line to stderr")
	only := fs.String("only", "", "run only this step")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *only != "" {
		var names []string
		for _, s := range demoSteps() {
			names = append(names, s.name)
		}
		if !slices.Contains(names, *only) {
			return fmt.Errorf("%w: --only %q: no such step (steps: %s)", errUsage, *only, strings.Join(names, ", "))
		}
	}
	d, cleanup, err := startDemo(ctx, *seedValue, c.stdout)
	if err != nil {
		return err
	}
	defer cleanup()
	if *verbose {
		d.logs = io.MultiWriter(d.logs, c.stderr)
	}

	steps := demoSteps()
	if len(steps) == 0 {
		return fmt.Errorf("no function has a demo step yet")
	}
	var failed []string
	for i, s := range steps {
		if *only != "" && s.name != *only {
			continue
		}
		d.printf("\n[%d/%d] %s\n", i+1, len(steps), s.name)
		start := time.Now()
		if err := s.run(ctx, d); err != nil {
			d.printf("    FAILED: %s\n", oneLine(err))
			failed = append(failed, s.name)
			continue
		}
		d.printf("    done in %s\n", time.Since(start).Round(time.Millisecond))
	}

	lines, leaked, err := scanForSecrets(d.logPath, d.emu.IssuedSecrets())
	if err != nil {
		return err
	}
	d.printf("\nLogs: %d JSON lines in %s; key material found in them: %d\n", lines, d.logPath, leaked)
	if leaked > 0 {
		failed = append(failed, "secret scan")
	}
	if len(failed) > 0 {
		return fmt.Errorf("demo steps failed: %s", strings.Join(failed, ", "))
	}
	d.printf("All steps passed.\n")
	return nil
}

// startDemo starts the emulators and creates what the stack would create.
func startDemo(ctx context.Context, seedValue uint64, report io.Writer) (*demo, func(), error) {
	seed := adminapi.SmallSeed(seedValue)
	emu, err := adminapi.New(adminapi.Options{Seed: &seed, RandomSeed: seedValue})
	if err != nil {
		return nil, nil, fmt.Errorf("start emulator: %w", err)
	}
	emuSrv := httptest.NewServer(emu)

	awsStack, err := stack.Start(stack.Options{})
	if err != nil {
		emuSrv.Close()
		return nil, nil, fmt.Errorf("start local AWS services: %w", err)
	}
	dir, err := os.MkdirTemp("", "orgwarden-demo-")
	if err != nil {
		return nil, nil, err
	}
	logPath := filepath.Join(dir, "logs.jsonl")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() {
		logFile.Close()
		awsStack.Close()
		emuSrv.Close()
	}

	d := &demo{emu: emu, emuURL: emuSrv.URL + "/v1", aws: awsStack, report: report, logs: logFile, logPath: logPath}
	if err := d.provision(ctx); err != nil {
		cleanup()
		return nil, nil, err
	}
	d.printf("orgwarden demo\n")
	d.printf("  OpenAI Admin API emulator  %s  (%d users, %d projects, %d invites, %d audit events)\n",
		d.emuURL, len(emu.Users()), len(emu.Projects()), len(emu.Invites()), emu.AuditEventCount())
	d.printf("  local AWS                  S3 %s, Secrets Manager %s, SQS %s, EventBridge %s\n",
		awsStack.S3.URL, awsStack.SecretsManager.URL, awsStack.SQS.URL, awsStack.EventBridge.URL)
	return d, cleanup, nil
}

// provision creates the buckets, queues and the admin-key secret, and the
// environment every function gets.
func (d *demo) provision(ctx context.Context) error {
	r := demoResources{OrgID: "org-demo", AuditBucket: "orgwarden-audit", StateBucket: "orgwarden-state",
		SummaryBus: "orgwarden-summaries"}
	// The deployment's own admin key, kept in Secrets Manager as in AWS.
	keyID, value, err := d.emu.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "orgwarden"})
	if err != nil {
		return fmt.Errorf("mint admin key: %w", err)
	}
	out, err := d.aws.Deploy(ctx, stack.Deployment{
		Buckets: []string{r.AuditBucket, r.StateBucket},
		Queue:   "orgwarden-offboarding", DLQ: "orgwarden-offboarding-dlq", MaxReceiveCount: 3,
		AdminKeySecret: "orgwarden/admin-key", AdminKeyID: keyID, AdminKey: value,
	})
	if err != nil {
		return err
	}
	r.QueueURL, r.DLQURL = out.QueueURL, out.DLQURL
	r.AdminSecretARN, r.AdminKeyID = out.AdminKeySecretARN, keyID
	d.resource = r

	d.base = d.aws.EnvMap()
	for k, v := range map[string]string{
		"OPENAI_BASE_URL":               d.emuURL,
		"OPENAI_ADMIN_KEY_SECRET_ARN":   r.AdminSecretARN,
		"ORGWARDEN_SUMMARY_BUS":         r.SummaryBus,
		"ORGWARDEN_ORG_ID":              r.OrgID,
		"ORGWARDEN_AUDIT_BUCKET":        r.AuditBucket,
		"ORGWARDEN_AUDIT_STATE_BUCKET":  r.StateBucket,
		"ORGWARDEN_JOURNAL_BUCKET":      r.StateBucket,
		"ORGWARDEN_DLQ_URL":             r.DLQURL,
		"ORGWARDEN_MANAGED_SECRET_ARNS": r.AdminSecretARN,
		// The demo organization is small and local: no need to pace requests.
		"ORGWARDEN_RATE_LIMIT": "0",
	} {
		d.base[k] = v
	}
	return nil
}

// scanForSecrets counts log lines and how many hold a key the emulator
// issued (none should).
func scanForSecrets(path string, issued []string) (lines, leaked int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, fmt.Errorf("read demo logs: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" {
			continue
		}
		lines++
		for _, s := range issued {
			if s != "" && strings.Contains(line, s) {
				leaked++
				break
			}
		}
	}
	return lines, leaked, nil
}
