// Package fnenv builds the environment each Lambda function receives, following the
// contract in docs/architecture.md ("Environment variables"), and names the payload
// its schedules send. It is plain Go with no CDK import so it can be tested quickly
// and cross-checked against the functions' own configuration parsers
// (infra/crosscheck); the stack passes CDK tokens as the resource strings.
package fnenv

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/orgwarden/orgwarden/infra/config"
)

// The four functions: folder names under functions/, artefact names in build/.
const (
	KeyRotation   = "keyrotation"
	InviteCleanup = "invitecleanup"
	AuditExport   = "auditexport"
	Offboarding   = "offboarding"
)

// Functions lists every function in a stable order.
var Functions = []string{KeyRotation, InviteCleanup, AuditExport, Offboarding}

// ScheduleInput is the payload every EventBridge Scheduler schedule sends: a
// normal run. shared/sweep.ParseScheduleEvent accepts {} or {"dry_run": true} and
// refuses anything else; keyrotation tells it from a rotation step by its shape.
const ScheduleInput = "{}"

// RetireTagPrefix starts the secret tags keyrotation writes to record a rotated-out
// credential awaiting deletion; its role may tag and untag managed secrets with such
// keys only.
const RetireTagPrefix = "orgwarden:retire:"

// SecretPlaceholderField is the JSON field of the random value CloudFormation
// puts in a rotated secret it creates, in place of a key; keyrotation treats
// such a secret as not provisioned yet.
const SecretPlaceholderField = "bootstrap_placeholder"

// AuditStateBucketVar names the bucket holding the export checkpoint: the
// checkpoint cannot live in the Object Lock audit bucket (every overwrite would
// leave a locked version behind), see infra/README.md.
const AuditStateBucketVar = "ORGWARDEN_AUDIT_STATE_BUCKET"

// Resources are the deployed names the functions need. In the stack they are CDK
// tokens that CloudFormation resolves at deploy time.
type Resources struct {
	AdminKeySecretARN string
	SummaryBusName    string
	AuditBucket       string
	AuditStateBucket  string
	AuditKMSKeyARN    string
	JournalBucket     string
	DLQURL            string
	// ManagedSecretARNs are the secrets keyrotation rotates: the admin key and every
	// declared service-account key.
	ManagedSecretARNs []string
}

// required are the variables a function cannot start without.
var required = map[string][]string{
	KeyRotation:   {"OPENAI_ADMIN_KEY_SECRET_ARN"},
	InviteCleanup: {"OPENAI_ADMIN_KEY_SECRET_ARN"},
	AuditExport:   {"OPENAI_ADMIN_KEY_SECRET_ARN", "ORGWARDEN_ORG_ID", "ORGWARDEN_AUDIT_BUCKET", AuditStateBucketVar},
	Offboarding:   {"OPENAI_ADMIN_KEY_SECRET_ARN", "ORGWARDEN_DLQ_URL", "ORGWARDEN_JOURNAL_BUCKET"},
}

// lambdaEnvLimit is Lambda's cap on the total size of a function's environment.
const lambdaEnvLimit = 4096

// For returns the environment of function fn.
func For(fn string, cfg config.Config, res Resources) (map[string]string, error) {
	var env map[string]string
	switch fn {
	case KeyRotation:
		k := cfg.KeyRotation
		env = common(cfg, k.DryRun, res)
		env["ORGWARDEN_ROTATION_GRACE"] = k.RotationGrace
		env["ORGWARDEN_STALE_KEY_UNUSED"] = k.StaleKeyUnused
		env["ORGWARDEN_STALE_KEY_NEVER_USED"] = k.StaleKeyNeverUsed
		env["ORGWARDEN_ADMIN_KEY_UNUSED"] = k.AdminKeyUnused
		env["ORGWARDEN_REVOKE_ADMIN_KEYS"] = strconv.FormatBool(k.RevokeAdminKeys)
		env["ORGWARDEN_DELETE_STALE_SERVICE_ACCOUNTS"] = strconv.FormatBool(k.DeleteStaleServiceAccounts)
		env["ORGWARDEN_MANAGED_SECRET_ARNS"] = strings.Join(res.ManagedSecretARNs, ",")
	case InviteCleanup:
		env = common(cfg, cfg.InviteCleanup.DryRun, res)
		env["ORGWARDEN_INVITE_MAX_AGE"] = cfg.InviteCleanup.InviteMaxAge
	case AuditExport:
		a := cfg.AuditExport
		env = common(cfg, a.DryRun, res)
		env["ORGWARDEN_ORG_ID"] = cfg.OrgID
		env["ORGWARDEN_AUDIT_BUCKET"] = res.AuditBucket
		env["ORGWARDEN_AUDIT_PREFIX"] = a.Prefix
		env["ORGWARDEN_AUDIT_KMS_KEY_ID"] = res.AuditKMSKeyARN
		env["ORGWARDEN_AUDIT_LOOKBACK"] = a.Lookback
		env["ORGWARDEN_AUDIT_SLICE_CONCURRENCY"] = strconv.Itoa(a.SliceConcurrency)
		env["ORGWARDEN_AUDIT_ROLLOVER_BYTES"] = strconv.FormatInt(a.RolloverBytes, 10)
		env["ORGWARDEN_AUDIT_ROLLOVER_EVENTS"] = strconv.Itoa(a.RolloverEvents)
		env["ORGWARDEN_AUDIT_TENANT_EVENTS"] = strconv.FormatBool(a.TenantEvents)
		env[AuditStateBucketVar] = res.AuditStateBucket
	case Offboarding:
		env = common(cfg, cfg.Offboarding.DryRun, res)
		env["ORGWARDEN_DLQ_URL"] = res.DLQURL
		env["ORGWARDEN_JOURNAL_BUCKET"] = res.JournalBucket
		env["ORGWARDEN_JOURNAL_PREFIX"] = cfg.Offboarding.JournalPrefix
	default:
		return nil, fmt.Errorf("unknown function %q (want one of %s)", fn, strings.Join(Functions, ", "))
	}

	for _, k := range required[fn] {
		if env[k] == "" {
			return nil, fmt.Errorf("%s: %s is required but empty", fn, k)
		}
	}
	// Empty optional values are left out: the functions' defaults are the same.
	for k, v := range env {
		if v == "" {
			delete(env, k)
		}
	}
	if size := Size(env); size > lambdaEnvLimit {
		return nil, fmt.Errorf("%s: environment is %d bytes, over Lambda's %d-byte limit (shorten the protected lists)", fn, size, lambdaEnvLimit)
	}
	return env, nil
}

// common is the part of the environment every function shares (shared/config).
// The admin key is passed by secret ARN only: a key value never enters the template.
func common(cfg config.Config, dryRun bool, res Resources) map[string]string {
	return map[string]string{
		"OPENAI_BASE_URL":              cfg.OpenAIBaseURL,
		"OPENAI_ADMIN_KEY_SECRET_ARN":  res.AdminKeySecretARN,
		"ORGWARDEN_DRY_RUN":            strconv.FormatBool(dryRun),
		"ORGWARDEN_MAX_CONCURRENCY":    strconv.Itoa(cfg.MaxConcurrency),
		"ORGWARDEN_RATE_LIMIT":         strconv.Itoa(cfg.RateLimit),
		"ORGWARDEN_HTTP_TIMEOUT":       cfg.HTTPTimeout,
		"ORGWARDEN_MAX_RETRIES":        strconv.Itoa(cfg.MaxRetries),
		"ORGWARDEN_MAX_RETRY_DELAY":    cfg.MaxRetryDelay,
		"ORGWARDEN_LOG_LEVEL":          cfg.LogLevel,
		"ORGWARDEN_SUMMARY_BUS":        res.SummaryBusName,
		"ORGWARDEN_PROTECTED_EMAILS":   strings.Join(cfg.Protected.Emails, ","),
		"ORGWARDEN_PROTECTED_DOMAINS":  strings.Join(cfg.Protected.Domains, ","),
		"ORGWARDEN_PROTECTED_IDS":      strings.Join(cfg.Protected.IDs, ","),
		"ORGWARDEN_PROTECTED_NAMES":    strings.Join(cfg.Protected.Names, ","),
		"ORGWARDEN_PROTECTED_PROJECTS": strings.Join(cfg.Protected.Projects, ","),
		"ORGWARDEN_MAX_DELETIONS":      strconv.Itoa(cfg.MaxDeletions),
		"ORGWARDEN_ALLOW_OWNERS":       strconv.FormatBool(cfg.AllowOwners),
	}
}

// Size is the environment's size as Lambda counts it: keys plus values.
func Size(env map[string]string) int {
	n := 0
	for k, v := range env {
		n += len(k) + len(v)
	}
	return n
}

// Keys returns env's variable names in order, for stable output and tests.
func Keys(env map[string]string) []string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
