package rotation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation/secretdoc"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/awsconfig"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/shared/secrets"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	"github.com/orgwarden/orgwarden/testenv/awslocal/eventbridge"
	"github.com/orgwarden/orgwarden/testenv/awslocal/eventbridge/eventbridgetest"
	smlocal "github.com/orgwarden/orgwarden/testenv/awslocal/secretsmanager"
	"github.com/orgwarden/orgwarden/testenv/awslocal/secretsmanager/secretsmanagertest"
	"github.com/orgwarden/orgwarden/testenv/logtest"
)

// t0 is the emulator's clock at the start of every test.
var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

const (
	rotationFn = "arn:aws:lambda:us-east-1:000000000000:function:orgwarden-keyrotation"
	bus        = "orgwarden-summaries"
)

// fixture is an organization on the Admin API emulator, a local Secrets
// Manager holding the deployment's admin key, and a local EventBridge.
type fixture struct {
	t   *testing.T
	emu *adminapitest.Server
	sm  *smlocal.Server
	smc *secretsmanager.Client
	eb  *eventbridge.Server
	out *logtest.Buffer

	adminSecret string // ARN of the deployment's admin-key secret
	selfKeyID   string
	common      config.Common
	cfg         rotation.Config
}

func newFixture(t *testing.T, opts adminapi.Options, emuOpts ...adminapitest.Option) *fixture {
	t.Helper()
	opts.Clock = func() time.Time { return t0 }
	opts.Faults.RetryAfter = 10 * time.Millisecond
	emu := adminapitest.New(t, opts, emuOpts...)
	f := &fixture{
		t: t, emu: emu, out: &logtest.Buffer{},
		sm: secretsmanagertest.New(t, smlocal.WithClock(emu.Emulator.Now)),
		eb: eventbridgetest.New(t),
	}
	f.smc = f.sm.Client()
	id, value, err := emu.Emulator.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "orgwarden deployment", LastUsedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	f.selfKeyID = id
	f.adminSecret = f.createSecret("orgwarden/admin-key", secretdoc.Doc{Type: secretdoc.TypeAdminKey, APIKey: logging.Secret(value), KeyID: id})
	f.common = config.Common{
		BaseURL: emu.URL, MaxConcurrency: 4, HTTPTimeout: 10 * time.Second, MaxRetries: 2,
		MaxRetryDelay: 50 * time.Millisecond, LogLevel: slog.LevelDebug, SummaryBus: bus, MaxDeletions: 25,
	}
	f.cfg = rotation.Config{Grace: 24 * time.Hour, StaleUnused: 90 * 24 * time.Hour, StaleNeverUsed: 30 * 24 * time.Hour, AdminKeyUnused: 90 * 24 * time.Hour}
	t.Cleanup(f.assertNoKeyMaterialInOutput)
	return f
}

func (f *fixture) createSecret(name string, d secretdoc.Doc) string {
	f.t.Helper()
	value, err := d.Marshal()
	if err != nil {
		f.t.Fatal(err)
	}
	out, err := f.smc.CreateSecret(f.t.Context(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.ARN)
}

// handler builds a keyrotation handler as a fresh Lambda container would:
// its admin key is read from the secret's AWSCURRENT on first use.
func (f *fixture) handler() *rotation.Handler {
	deps := &app.Deps{
		Function: rotation.Function, Common: f.common, Out: f.out,
		Log:  logging.New(f.out, slog.LevelDebug).With("function", rotation.Function),
		AWS:  &awsconfig.Clients{SecretsManager: f.smc, EventBridge: f.eb.Client()},
		Keys: secrets.NewCached(f.smc, f.adminSecret, time.Hour),
	}
	return rotation.New(deps, f.cfg, rotation.WithClock(f.emu.Emulator.Now))
}

// invoke runs the handler on a payload through aws-lambda-go, as Lambda does.
func invoke(ctx context.Context, h *rotation.Handler, payload any) ([]byte, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	return lambda.NewHandler(h.Handle).Invoke(ctx, b)
}

// stepHook runs around each rotation step Secrets Manager invokes; it may
// replace the outcome of the step (err) with its own.
type stepHook func(ev smlocal.RotationEvent, phase string, err error) error

// useRotation makes Secrets Manager invoke h for every rotation step, with
// hooks called before ("before", nil) and after ("after", err) each step.
func (f *fixture) useRotation(h *rotation.Handler, hooks ...stepHook) {
	f.sm.SetRotationInvoker(func(ctx context.Context, fn string, ev smlocal.RotationEvent) error {
		if fn != rotationFn {
			return fmt.Errorf("invoked %s", fn)
		}
		var err error
		for _, hook := range hooks {
			if err = hook(ev, "before", nil); err != nil {
				return err
			}
		}
		_, err = invoke(ctx, h, ev)
		for _, hook := range hooks {
			err = hook(ev, "after", err)
		}
		return err
	})
}

// rotate asks Secrets Manager to rotate the secret now, with token when
// given (a retry of the same rotation), and returns the attempt.
func (f *fixture) rotate(arn, token string) smlocal.RotationAttempt {
	f.t.Helper()
	in := &secretsmanager.RotateSecretInput{SecretId: aws.String(arn), RotationLambdaARN: aws.String(rotationFn)}
	if token != "" {
		in.ClientRequestToken = aws.String(token)
	}
	_, err := f.smc.RotateSecret(f.t.Context(), in)
	if err != nil && !strings.Contains(err.Error(), "previous rotation isn't complete") {
		f.t.Fatalf("RotateSecret: %v", err)
	}
	attempts := f.sm.Rotations()
	return attempts[len(attempts)-1]
}

// version returns the id and parsed value of the version with stage.
func (f *fixture) version(arn, stage string) (string, secretdoc.Doc) {
	f.t.Helper()
	out, err := f.smc.GetSecretValue(f.t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String(stage)})
	if err != nil {
		f.t.Fatalf("read %s of %s: %v", stage, arn, err)
	}
	d, err := secretdoc.Parse(aws.ToString(out.SecretString))
	if err != nil {
		f.t.Fatal(err)
	}
	return aws.ToString(out.VersionId), d
}

func (f *fixture) describe(arn string) *secretsmanager.DescribeSecretOutput {
	f.t.Helper()
	d, err := f.smc.DescribeSecret(f.t.Context(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(arn)})
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

// versionWith returns the version id carrying stage, or "".
func versionWith(d *secretsmanager.DescribeSecretOutput, stage string) string {
	for id, stages := range d.VersionIdsToStages {
		if slices.Contains(stages, stage) {
			return id
		}
	}
	return ""
}

// keyWorks checks a secret's value against the emulator: an admin key must
// list admin keys; a service-account key must authenticate (the emulator
// answers 403, not 401, for a valid project key on an admin endpoint) and
// be listed, owned by its service account, with access to the project.
func (f *fixture) keyWorks(d secretdoc.Doc) error {
	if d.Type == secretdoc.TypeAdminKey {
		c := f.emu.SDKClient(option.WithAdminAPIKey(d.APIKey.Reveal()))
		_, err := c.Admin.Organization.AdminAPIKeys.List(f.t.Context(), openai.AdminOrganizationAdminAPIKeyListParams{})
		return err
	}
	req, _ := http.NewRequestWithContext(f.t.Context(), http.MethodGet, f.emu.URL+"/organization/projects", nil)
	req.Header.Set("Authorization", "Bearer "+d.APIKey.Reveal())
	res, err := f.emu.HTTP.Client().Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		return fmt.Errorf("service-account key answered %d, want 403 (known key, not an admin key)", res.StatusCode)
	}
	for _, k := range f.emu.Emulator.ProjectAPIKeys(d.ProjectID) {
		if k.ID == d.KeyID {
			if k.OwnerID != d.ServiceAccountID || k.OwnerProjectAccess != "active" {
				return fmt.Errorf("key %s: owner %s access %s", k.ID, k.OwnerID, k.OwnerProjectAccess)
			}
			return nil
		}
	}
	return fmt.Errorf("key %s is not in project %s", d.KeyID, d.ProjectID)
}

// keyDead checks that a value no longer authenticates at all.
func (f *fixture) keyDead(value logging.Secret) error {
	req, _ := http.NewRequestWithContext(f.t.Context(), http.MethodGet, f.emu.URL+"/organization/projects", nil)
	req.Header.Set("Authorization", "Bearer "+value.Reveal())
	res, err := f.emu.HTTP.Client().Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("old key answered %d, want 401", res.StatusCode)
	}
	return nil
}

// assertNoKeyMaterialInOutput scans every log and metric line for any key
// value the emulator ever accepted or issued.
func (f *fixture) assertNoKeyMaterialInOutput() {
	out := f.out.String()
	for _, s := range f.emu.Emulator.IssuedSecrets() {
		if strings.Contains(out, s) {
			f.t.Errorf("output contains key material %s...", s[:12])
		}
	}
	for _, ev := range f.eb.Events() {
		for _, s := range f.emu.Emulator.IssuedSecrets() {
			if strings.Contains(string(ev.Detail), s) {
				f.t.Errorf("summary event contains key material %s...", s[:12])
			}
		}
	}
}

// logLines returns the JSON log lines with the given message.
func (f *fixture) logLines(msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(f.out.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["message"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// metric returns the last value of an EMF metric written.
func (f *fixture) metric(name string) (float64, bool) {
	var (
		v  float64
		ok bool
	)
	for _, line := range strings.Split(f.out.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["_aws"] == nil {
			continue
		}
		if x, has := m[name].(float64); has {
			v, ok = x, true
		}
	}
	return v, ok
}

// count counts the emulator's requests by method and path pattern.
func (f *fixture) count(method, pattern string) int {
	return f.emu.Emulator.CountRequests(method, pattern)
}

func appOptions(f *fixture) app.Options { return app.Options{Out: f.out} }
