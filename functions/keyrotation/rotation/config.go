// Package rotation is the keyrotation function: Secrets Manager rotation of
// orgwarden's admin key and of service-account keys, and a scheduled sweep
// that revokes stale keys and completes the deferred deletion of rotated-out
// credentials. One handler serves both, chosen by the event's shape (Event).
package rotation

import (
	"context"
	"strings"
	"time"

	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
)

// Function is the function's name in logs, metrics and summaries.
const Function = "keyrotation"

// Config is keyrotation's own configuration (docs/architecture.md).
type Config struct {
	// Grace is how long a rotated-out credential keeps working.
	Grace time.Duration
	// StaleUnused: project keys not used for this long are revoked.
	StaleUnused time.Duration
	// StaleNeverUsed: never-used project keys older than this are revoked.
	StaleNeverUsed time.Duration
	// AdminKeyUnused: admin keys unused for this long are reported.
	AdminKeyUnused time.Duration
	// RevokeAdminKeys also revokes those admin keys.
	RevokeAdminKeys bool
	// DeleteStaleServiceAccounts deletes service accounts whose keys are all stale.
	DeleteStaleServiceAccounts bool
	// ManagedSecrets are the secrets whose deferred retirements the sweep
	// completes, by ARN or name (both are a Secrets Manager SecretId).
	ManagedSecrets []string
	// RotationDryRun, when set (ORGWARDEN_ROTATION_DRY_RUN), decides whether
	// rotation steps are refused, independently of the sweep's
	// ORGWARDEN_DRY_RUN; unset, ORGWARDEN_DRY_RUN decides both.
	RotationDryRun *bool
}

const day = 24 * time.Hour

// ReadConfig reads keyrotation's variables; check r.Err() afterwards.
func ReadConfig(r *config.Reader) Config {
	return Config{
		Grace:                      r.Duration("ORGWARDEN_ROTATION_GRACE", 24*time.Hour, 0, 365*day),
		StaleUnused:                r.Duration("ORGWARDEN_STALE_KEY_UNUSED", 90*day, day, 3650*day),
		StaleNeverUsed:             r.Duration("ORGWARDEN_STALE_KEY_NEVER_USED", 30*day, day, 3650*day),
		AdminKeyUnused:             r.Duration("ORGWARDEN_ADMIN_KEY_UNUSED", 90*day, day, 3650*day),
		RevokeAdminKeys:            r.Bool("ORGWARDEN_REVOKE_ADMIN_KEYS", false),
		DeleteStaleServiceAccounts: r.Bool("ORGWARDEN_DELETE_STALE_SERVICE_ACCOUNTS", false),
		ManagedSecrets:             r.List("ORGWARDEN_MANAGED_SECRET_ARNS"),
		RotationDryRun:             optionalBool(r, RotationDryRunVar),
	}
}

// RotationDryRunVar switches rotation's dry run apart from the sweep's.
const RotationDryRunVar = "ORGWARDEN_ROTATION_DRY_RUN"

// optionalBool reads a boolean that may be unset (nil).
func optionalBool(r *config.Reader, name string) *bool {
	if v, ok := r.Lookup()(name); !ok || strings.TrimSpace(v) == "" {
		return nil
	}
	b := r.Bool(name, true)
	return &b
}

// FromEnv builds the handler from the environment, as main.go does at
// Lambda init. Every configuration problem is reported in one error.
// options are for the CLI's demo (WithClock).
func FromEnv(ctx context.Context, env config.Lookup, opts app.Options, options ...Option) (*Handler, error) {
	r := config.NewReader(env)
	cfg := ReadConfig(r)
	deps, err := app.Load(ctx, Function, r, opts)
	if err != nil {
		return nil, err
	}
	return New(deps, cfg, options...), nil
}
