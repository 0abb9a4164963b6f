package rotation

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation/secretdoc"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/metrics"
	"github.com/orgwarden/orgwarden/shared/summary"
	"github.com/orgwarden/orgwarden/shared/sweep"
)

// Handler is the keyrotation Lambda handler.
type Handler struct {
	deps *app.Deps
	cfg  Config
	now  func() time.Time
}

// Option adjusts a Handler.
type Option func(*Handler)

// WithClock replaces time.Now, e.g. with an emulator's clock in tests and
// the demo, so key ages and grace periods are judged by the same time.
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// New returns a handler over deps.
func New(deps *app.Deps, cfg Config, opts ...Option) *Handler {
	h := &Handler{deps: deps, cfg: cfg, now: time.Now}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Result is what one invocation returns; it is also its published summary.
type Result struct {
	Rotation *RotationSummary `json:"rotation,omitempty"`
	Sweep    *SweepSummary    `json:"sweep,omitempty"`
}

// RotationSummary is the summary of one rotation step.
type RotationSummary struct {
	Kind  string `json:"kind"` // "rotation"
	RunID string `json:"run_id"`
	StepResult
	DurationMs int64 `json:"duration_ms"`
}

// Handle serves one invocation: a rotation step or a sweep.
func (h *Handler) Handle(ctx context.Context, ev Event) (*Result, error) {
	switch {
	case ev.Rotation != nil:
		s, err := h.Rotate(ctx, ev)
		return &Result{Rotation: s}, err
	case ev.Schedule != nil:
		s, err := h.Sweep(ctx, ev.Schedule.DryRun)
		return &Result{Sweep: s}, err
	}
	return nil, errors.New("keyrotation: empty event")
}

// ErrDryRunRotation refuses a rotation in dry-run mode: every step changes
// a key or a secret, so there is nothing a rotation could preview.
var ErrDryRunRotation = errors.New("rotation refused: rotation is in dry run (ORGWARDEN_ROTATION_DRY_RUN, or ORGWARDEN_DRY_RUN when that is unset), and a rotation changes keys; set ORGWARDEN_ROTATION_DRY_RUN=false to rotate while the sweep stays in dry run")

// rotationDryRun: ORGWARDEN_ROTATION_DRY_RUN when set, so rotation can be
// switched on while the sweep still previews; otherwise ORGWARDEN_DRY_RUN.
func (h *Handler) rotationDryRun() bool {
	if h.cfg.RotationDryRun != nil {
		return *h.cfg.RotationDryRun
	}
	return h.deps.Common.DryRun
}

// configurationTest recognises the testSecret call Secrets Manager makes
// when a rotation schedule is created without rotating (RotateImmediately
// false, as the stack does): it labels AWSPENDING a version no createSecret
// wrote (without a value, or holding the current value), runs testSecret
// alone, then removes the label. Nothing was minted, so there is nothing to
// test, in a dry run or not; the same holds for a secret still holding the
// stack's placeholder. Anything else is a real step, and any read error
// leaves the decision to it.
func (h *Handler) configurationTest(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) (string, bool) {
	if ev.Step != StepTest || ev.SecretID == "" || ev.ClientRequestToken == "" {
		return "", false
	}
	sm := h.deps.AWS.SecretsManager
	cur, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(ev.SecretID), VersionStage: aws.String(stageCurrent),
	})
	if err != nil {
		return "", false
	}
	if secretdoc.Unprovisioned(aws.ToString(cur.SecretString)) {
		return "secret not provisioned yet: nothing to test", true
	}
	desc, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ev.SecretID)})
	if err != nil {
		return "", false
	}
	stages := desc.VersionIdsToStages[ev.ClientRequestToken]
	if !slices.Contains(stages, stagePending) || slices.Contains(stages, stageCurrent) {
		return "", false
	}
	pending, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(ev.SecretID), VersionId: aws.String(ev.ClientRequestToken), VersionStage: aws.String(stagePending),
	})
	if isNotFound(err) {
		return "the pending version holds no value (a rotation configuration test): nothing to test", true
	}
	if err != nil {
		return "", false
	}
	c, cerr := secretdoc.Parse(aws.ToString(cur.SecretString))
	p, perr := secretdoc.Parse(aws.ToString(pending.SecretString))
	// The whole credential, not only its id: a pending version naming the
	// current key id beside other key material is a foreign or stale value,
	// and must meet testSecret's proof, not be waved through to finishSecret.
	if cerr == nil && perr == nil && c.CredentialID() != "" && p.CredentialID() == c.CredentialID() &&
		p.APIKey != "" && p.APIKey == c.APIKey {
		return "the pending version holds the current credential (a rotation configuration test): nothing was minted, nothing to test", true
	}
	return "", false
}

// Rotate runs one rotation step and publishes its summary.
func (h *Handler) Rotate(ctx context.Context, ev Event) (*RotationSummary, error) {
	ctx, runID := app.StartRun(ctx)
	start := time.Now() // wall time: the injected clock judges ages, not durations
	sum := &RotationSummary{Kind: "rotation", RunID: runID}
	var err error
	if detail, ok := h.configurationTest(ctx, *ev.Rotation); ok {
		// Before the dry-run gate: creating a rotation schedule runs this
		// test, and the stack's first deployment (dry run by default) must pass.
		sum.StepResult = resultOf(*ev.Rotation)
		sum.Outcome, sum.Detail = OutcomeNothingToDo, detail
		h.deps.Log.InfoContext(ctx, "rotation step", "step", StepTest, "secret", ev.Rotation.SecretID, "detail", detail)
	} else if h.rotationDryRun() {
		sum.StepResult = resultOf(*ev.Rotation)
		sum.Outcome, sum.Error = OutcomeFailed, ErrDryRunRotation.Error()
		err = ErrDryRunRotation
	} else {
		sum.StepResult, err = h.rotate(ctx, ev)
	}
	sum.DurationMs = time.Since(start).Milliseconds()

	rec := h.deps.Metrics()
	if err != nil {
		rec.Count("RotationFailures", 1)
	} else {
		rec.Count("RotationSteps", 1)
	}
	rec.Add("RunDurationMs", float64(sum.DurationMs), metrics.Milliseconds)
	// A step whose outcome is "done" changed a key or the secret.
	st := summary.Status{Changed: sum.Outcome == OutcomeDone, Failed: err != nil}
	return sum, errors.Join(err, sweep.Publish(ctx, h.deps.Summary(), rec, sum, st))
}

// ErrUnprovisioned refuses to rotate a secret that still holds the stack's
// placeholder instead of a key.
var ErrUnprovisioned = errors.New("the secret holds no key yet (the stack's placeholder): store the current key in it (infra/README.md) before its first rotation")

func (h *Handler) rotate(ctx context.Context, ev Event) (StepResult, error) {
	// A secret the stack has just created holds a placeholder, and creating
	// its rotation schedule makes Secrets Manager run testSecret at once:
	// that configuration test passes (the function is reachable and allowed
	// in), so the deployment succeeds; any real rotation step refuses until
	// an operator has stored a key.
	if unprovisioned, err := h.unprovisioned(ctx, ev.Rotation.SecretID); err == nil && unprovisioned {
		res := resultOf(*ev.Rotation)
		if ev.Rotation.Step == StepTest {
			res.Outcome, res.Detail = OutcomeNothingToDo, "secret not provisioned yet: nothing to test"
			h.deps.Log.InfoContext(ctx, "rotation step", "step", StepTest, "secret", ev.Rotation.SecretID, "detail", res.Detail)
			return res, nil
		}
		res.Outcome, res.Error = OutcomeFailed, ErrUnprovisioned.Error()
		return res, ErrUnprovisioned
	}
	// The rotation's own switch decides, not the sweep's dry run: a copy of
	// the dependencies with that switch (here off) as the client's dry run.
	deps := *h.deps
	deps.Common.DryRun = h.rotationDryRun()
	client, err := deps.AdminClient(ctx, false)
	if err != nil {
		res := resultOf(*ev.Rotation)
		res.Outcome, res.Error = OutcomeFailed, err.Error()
		return res, err
	}
	r := &Rotator{
		SM: h.deps.AWS.SecretsManager, Admin: client, Grace: h.cfg.Grace, Now: h.now, Log: h.deps.Log,
		BaseURL: h.deps.Common.BaseURL, Timeout: h.deps.Common.HTTPTimeout,
	}
	return r.Step(ctx, *ev.Rotation)
}

// unprovisioned reports whether the secret's AWSCURRENT value is the stack's
// placeholder. Errors are left to the rotation step, which reads the secret
// again and reports them in context.
func (h *Handler) unprovisioned(ctx context.Context, secretID string) (bool, error) {
	out, err := h.deps.AWS.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(secretID), VersionStage: aws.String(stageCurrent),
	})
	if err != nil {
		return false, err
	}
	return secretdoc.Unprovisioned(aws.ToString(out.SecretString)), nil
}
