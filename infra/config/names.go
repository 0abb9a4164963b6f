package config

import (
	"strings"
	"time"
)

// Physical names derive from the stack name so that two deployments (staging and
// production, say) can live in one account and region.

// FunctionName is the Lambda function name of one of the four functions.
func (c Config) FunctionName(function string) string {
	return c.StackName + "-" + function
}

// AdminKeySecretName is the Secrets Manager name of the admin-key secret.
func (c Config) AdminKeySecretName() string {
	if c.AdminKeySecret.Name != "" {
		return c.AdminKeySecret.Name
	}
	return strings.ToLower(c.StackName) + "/admin-key"
}

// ServiceAccountSecretName is the Secrets Manager name of a declared service-account key secret.
func (c Config) ServiceAccountSecretName(k ServiceAccountKey) string {
	return strings.ToLower(c.StackName) + "/service-accounts/" + k.ID
}

// ServiceAccountRotationSchedule is k's rotation schedule, defaulting to the admin key's.
func (c Config) ServiceAccountRotationSchedule(k ServiceAccountKey) string {
	if k.RotationSchedule != "" {
		return k.RotationSchedule
	}
	return c.AdminKeySecret.RotationSchedule
}

// ReadOnlyAdminKeySecretName is the Secrets Manager name of the read-only admin-key secret.
func (c Config) ReadOnlyAdminKeySecretName() string {
	if c.ReadOnlyAdminKeySecret.Name != "" {
		return c.ReadOnlyAdminKeySecret.Name
	}
	return strings.ToLower(c.StackName) + "/admin-key-read-only"
}

// GlueDatabaseName is the Glue database of the audit tables: configured, or
// derived from the stack name so that one stack per organization can share
// an account and region.
func (c Config) GlueDatabaseName() string {
	if c.AuditExport.GlueDatabase != "" {
		return c.AuditExport.GlueDatabase
	}
	return strings.ReplaceAll(strings.ToLower(c.StackName), "-", "_")
}

// Trial reports a stack meant to be deleted: no Object Lock, and buckets,
// keys, secrets and log groups are destroyed with it.
func (c Config) Trial() bool {
	return c.AuditExport.ObjectLock.Mode == ObjectLockOff
}

// OffboardingRetention is how long the offboarding queue keeps a request.
// Its dead-letter queue keeps 14 days counted from the original enqueue
// (SQS keeps that timestamp when it moves a message), so a request dead-
// lettered at the latest after OffboardingRetention still has a week there.
const OffboardingRetention = 7 * 24 * time.Hour

// OffboardingVisibility follows AWS's advice for SQS event sources: six times
// the function timeout (at most 12 hours), so a message is not redelivered
// while retries are still running.
func (c Config) OffboardingVisibility() time.Duration {
	timeout, _ := ParseDuration(c.Offboarding.Timeout) // validated
	return min(6*timeout, 12*time.Hour)
}
