// Package fnenv builds the environment each Lambda function receives, following the
// contract in docs/architecture.md ("Environment variables"), and names the payload
// its schedules send. It is plain Go with no CDK import so it can be tested quickly
// and cross-checked against the functions' own configuration parsers
// (infra/crosscheck); the stack passes CDK tokens as the resource strings.
package fnenv

import (
	"cmp"
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
	Inventory     = "inventory"
)

// Functions lists every function in a stable order.
var Functions = []string{KeyRotation, InviteCleanup, AuditExport, Offboarding, Inventory}

// ScheduleInput is the payload every EventBridge Scheduler schedule sends: a
// normal run. shared/sweep.ParseScheduleEvent accepts {} or {"dry_run": true} and
// refuses anything else; keyrotation tells it from a rotation step by its shape.
const ScheduleInput = "{}"

// RetireTagPrefix starts the secret tags keyrotation writes to record a rotated-out
// credential awaiting deletion; its role may tag and untag managed secrets with such
// keys only.
const RetireTagPrefix = "orgwarden:retire:"

// ConditionalWriteProbe is the object the audit export writes beside its
// checkpoint, once per container, to prove the bucket honours conditional
// writes (export.ProbeName): the export role may write it and the checkpoint.
const ConditionalWriteProbe = "conditional-write-probe"

// SecretPlaceholderField is the JSON field of the random value CloudFormation
// puts in a rotated secret it creates, in place of a key; keyrotation treats
// such a secret as not provisioned yet.
const SecretPlaceholderField = "bootstrap_placeholder"

// AuditStateBucketVar names the bucket holding the export checkpoint: the
// checkpoint cannot live in the Object Lock audit bucket (every overwrite would
// leave a locked version behind), see infra/README.md.
const AuditStateBucketVar = "ORGWARDEN_AUDIT_STATE_BUCKET"

// AuditStateKMSKeyVar names the key encrypting the checkpoint: the state key,
// not the audit key, so that a role allowed to write state cannot write
// evidence-encrypted objects and the other way round.
const AuditStateKMSKeyVar = "ORGWARDEN_AUDIT_STATE_KMS_KEY_ID"

// RotationDryRunVar switches Secrets Manager rotation apart from the sweep's
// ORGWARDEN_DRY_RUN.
const RotationDryRunVar = "ORGWARDEN_ROTATION_DRY_RUN"

// ReportPrefix is where the functions write their full run reports in the
// report bucket (shared/config's default); each role may write under it only.
const ReportPrefix = "orgwarden-reports/"

// Resources are the deployed names the functions need. In the stack they are CDK
// tokens that CloudFormation resolves at deploy time.
type Resources struct {
	AdminKeySecretARN string
	// ReadOnlyAdminKeySecretARN is the read-only admin key's secret, given
	// instead of AdminKeySecretARN to the functions UsesReadOnlyKey names.
	ReadOnlyAdminKeySecretARN string
	SummaryBusName            string
	AuditBucket               string
	AuditStateBucket          string
	AuditKMSKeyARN            string
	AuditStateKMSKeyARN       string
	JournalBucket             string
	// ReportBucket receives every run's full report (JSON and CSV) under
	// ReportPrefix; the summary on the bus links it.
	ReportBucket string
	DLQURL       string
	// ManagedSecretARNs are the secrets keyrotation rotates: the admin key and every
	// declared service-account key, as ManagedSecretIDs names them.
	ManagedSecretARNs []string
}

// UsesReadOnlyKey reports whether function fn gets the read-only admin key:
// when one is configured, the audit export (it only reads) and every job
// that cannot change anything in its configuration (dry run; for
// keyrotation, the sweep and rotation both).
func UsesReadOnlyKey(fn string, cfg config.Config) bool {
	if !cfg.ReadOnlyAdminKeySecret.Enabled {
		return false
	}
	switch fn {
	case AuditExport, Inventory:
		return true
	case InviteCleanup:
		return cfg.InviteCleanup.DryRun
	case Offboarding:
		return cfg.Offboarding.DryRun
	case KeyRotation:
		return cfg.KeyRotation.DryRun && cfg.KeyRotation.RotationDryRun
	}
	return false
}

// ManagedSecretIDs names the secrets keyrotation rotates as the environment
// lists them: a secret the stack creates by its name (known at synthesis,
// a third of an ARN's length, and accepted as a SecretId), one created out of
// band by its complete ARN.
func ManagedSecretIDs(cfg config.Config) []string {
	ids := []string{cmp.Or(cfg.AdminKeySecret.ExistingSecretArn, cfg.AdminKeySecretName())}
	for _, k := range cfg.ServiceAccountKeys {
		ids = append(ids, cmp.Or(k.ExistingSecretArn, cfg.ServiceAccountSecretName(k)))
	}
	return ids
}

// Worst-case lengths of what CloudFormation substitutes for a token: the
// longest partition (aws-us-gov), a generous region name, an S3 bucket name
// at S3's limit and the China endpoint suffix.
const (
	worstPartition = "aws-us-gov"
	worstRegionLen = 20
	maxBucketLen   = 63
	worstAccount   = "123456789012"
)

// WorstCase returns the longest values CloudFormation can substitute for the
// stack's resources, so that the environment's size is checked as deployed
// rather than as unresolved tokens (about 20 bytes each).
func WorstCase(cfg config.Config) Resources {
	region := cmp.Or(cfg.Region, strings.Repeat("r", worstRegionLen))
	arn := func(service, resource string) string {
		return "arn:" + worstPartition + ":" + service + ":" + region + ":" + worstAccount + ":" + resource
	}
	secret := func(existing, name string) string {
		return cmp.Or(existing, arn("secretsmanager", "secret:"+name+"-AbCdEf"))
	}
	bucket := strings.Repeat("b", maxBucketLen)
	key := arn("kms", "key/"+strings.Repeat("k", 36))
	lower := strings.ToLower(cfg.StackName)
	return Resources{
		AdminKeySecretARN:         secret(cfg.AdminKeySecret.ExistingSecretArn, cfg.AdminKeySecretName()),
		ReadOnlyAdminKeySecretARN: secret(cfg.ReadOnlyAdminKeySecret.ExistingSecretArn, cfg.ReadOnlyAdminKeySecretName()),
		SummaryBusName:            SummaryBusName(cfg),
		AuditBucket:               bucket,
		AuditStateBucket:          bucket,
		AuditKMSKeyARN:            key,
		AuditStateKMSKeyARN:       key,
		JournalBucket:             bucket,
		ReportBucket:              bucket,
		DLQURL:                    "https://sqs." + region + ".amazonaws.com.cn/" + worstAccount + "/" + lower + "-offboarding-dlq",
		ManagedSecretARNs:         ManagedSecretIDs(cfg),
	}
}

// SummaryBusName is the name of the bus receiving run summaries.
func SummaryBusName(cfg config.Config) string { return strings.ToLower(cfg.StackName) + "-summaries" }

// required are the variables a function cannot start without.
var required = map[string][]string{
	KeyRotation:   {"OPENAI_ADMIN_KEY_SECRET_ARN"},
	InviteCleanup: {"OPENAI_ADMIN_KEY_SECRET_ARN"},
	AuditExport:   {"OPENAI_ADMIN_KEY_SECRET_ARN", "ORGWARDEN_ORG_ID", "ORGWARDEN_AUDIT_BUCKET", AuditStateBucketVar},
	Offboarding:   {"OPENAI_ADMIN_KEY_SECRET_ARN", "ORGWARDEN_DLQ_URL", "ORGWARDEN_JOURNAL_BUCKET"},
	Inventory:     {"OPENAI_ADMIN_KEY_SECRET_ARN", "ORGWARDEN_ORG_ID", "ORGWARDEN_AUDIT_BUCKET"},
}

// lambdaEnvLimit is Lambda's cap on the total size of a function's environment.
const lambdaEnvLimit = 4096

// For returns the environment of function fn.
func For(fn string, cfg config.Config, res Resources) (map[string]string, error) {
	env, err := build(fn, cfg, res)
	if err != nil {
		return nil, err
	}
	// The stack passes tokens; measure what CloudFormation will substitute.
	deployed, err := build(fn, cfg, WorstCase(cfg))
	if err != nil {
		return nil, err
	}
	if size := Size(deployed); size > lambdaEnvLimit {
		return nil, fmt.Errorf("%s: environment is up to %d bytes once deployed, over Lambda's %d-byte limit (shorten the protected lists)", fn, size, lambdaEnvLimit)
	}
	return env, nil
}

// DeployedSize is the largest size function fn's environment can have once
// CloudFormation has resolved every resource name in it.
func DeployedSize(fn string, cfg config.Config) (int, error) {
	env, err := build(fn, cfg, WorstCase(cfg))
	return Size(env), err
}

func build(fn string, cfg config.Config, res Resources) (map[string]string, error) {
	var env map[string]string
	if UsesReadOnlyKey(fn, cfg) {
		res.AdminKeySecretARN = res.ReadOnlyAdminKeySecretARN
	}
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
		env[RotationDryRunVar] = strconv.FormatBool(k.RotationDryRun)
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
		env[AuditStateKMSKeyVar] = res.AuditStateKMSKeyARN
		if d := a.Detect; d.Enabled {
			env["ORGWARDEN_DETECT"] = "true"
			env["ORGWARDEN_DETECT_BUS"] = res.SummaryBusName
			env["ORGWARDEN_DETECT_ALLOWED_DOMAINS"] = strings.Join(d.AllowedDomains, ",")
			env["ORGWARDEN_DETECT_ASFF"] = strconv.FormatBool(d.ASFF)
			env["ORGWARDEN_DETECT_JOURNAL_BUCKET"] = res.JournalBucket
			env["ORGWARDEN_DETECT_JOURNAL_PREFIX"] = cfg.Offboarding.JournalPrefix
		}
	case Offboarding:
		env = common(cfg, cfg.Offboarding.DryRun, res)
		env["ORGWARDEN_DLQ_URL"] = res.DLQURL
		env["ORGWARDEN_JOURNAL_BUCKET"] = res.JournalBucket
		env["ORGWARDEN_JOURNAL_PREFIX"] = cfg.Offboarding.JournalPrefix
	case Inventory:
		env = common(cfg, false, res) // it only reads the organization
		env["ORGWARDEN_AUDIT_BUCKET"] = res.AuditBucket
		env["ORGWARDEN_AUDIT_KMS_KEY_ID"] = res.AuditKMSKeyARN
		env["ORGWARDEN_INVENTORY_PREFIX"] = cfg.Inventory.Prefix
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
		"ORGWARDEN_ORG_ID":             cfg.OrgID,
		"ORGWARDEN_REPORT_BUCKET":      res.ReportBucket,
		"ORGWARDEN_REPORT_PREFIX":      ReportPrefix,
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
