// Package config is the typed configuration of the orgwarden CDK stack: defaults,
// validation and loading from CDK context or a JSON file.
//
// It deliberately does not import the CDK so that it (and the function environment
// built from it in infra/fnenv) can be unit-tested in milliseconds.
package config

// Config is everything an operator can choose about a deployment. The JSON names
// are the keys accepted in CDK context and in configuration files.
type Config struct {
	// StackName is the CloudFormation stack name and the prefix of physical names
	// (functions, log groups, secrets, schedules), so two deployments can share an account.
	StackName string `json:"stackName"`
	// Account and Region pin the stack to an environment. Both empty (the default)
	// synthesizes an environment-agnostic stack, which needs no credentials.
	Account string `json:"account"`
	Region  string `json:"region"`

	// OrgID is the OpenAI organization id: the audit export partitions by it and the
	// Glue table projects it. Required.
	OrgID string `json:"orgId"`
	// ArtifactDir holds the function zips written by `make build` (<name>.zip).
	ArtifactDir string `json:"artifactDir"`

	OpenAIBaseURL    string `json:"openaiBaseUrl"`
	LogLevel         string `json:"logLevel"`
	LogRetentionDays int    `json:"logRetentionDays"`
	// Tracing turns on X-Ray active tracing for every function.
	Tracing bool `json:"tracing"`

	MaxConcurrency int       `json:"maxConcurrency"`
	RateLimit      int       `json:"rateLimit"`
	HTTPTimeout    string    `json:"httpTimeout"`
	MaxRetries     int       `json:"maxRetries"`
	MaxRetryDelay  string    `json:"maxRetryDelay"`
	MaxDeletions   int       `json:"maxDeletions"`
	AllowOwners    bool      `json:"allowOwners"`
	Protected      Protected `json:"protected"`

	KeyRotation   KeyRotation   `json:"keyRotation"`
	InviteCleanup InviteCleanup `json:"inviteCleanup"`
	AuditExport   AuditExport   `json:"auditExport"`
	Offboarding   Offboarding   `json:"offboarding"`
	Inventory     Inventory     `json:"inventory"`

	AdminKeySecret AdminKeySecret `json:"adminKeySecret"`
	// ReadOnlyAdminKeySecret holds a read-only admin key (an owner creates one
	// in the dashboard): the audit export and every job in dry run use it
	// instead of the read-write key.
	ReadOnlyAdminKeySecret ReadOnlyAdminKeySecret `json:"readOnlyAdminKeySecret"`
	ServiceAccountKeys     []ServiceAccountKey    `json:"serviceAccountKeys"`

	// BreakGlassPrincipalArns are the IAM roles or users that may still
	// disable or schedule the deletion of the audit key (which would make the
	// evidence unreadable). Empty: nobody may.
	BreakGlassPrincipalArns []string `json:"breakGlassPrincipalArns"`

	Alarms Alarms `json:"alarms"`
	// SummaryNotifications route run summaries that matter to people.
	SummaryNotifications SummaryNotifications `json:"summaryNotifications"`
}

// ReadOnlyAdminKeySecret is the secret holding a read-only admin key.
type ReadOnlyAdminKeySecret struct {
	Enabled bool `json:"enabled"`
	// Name defaults to <stack name, lower case>/admin-key-read-only.
	Name string `json:"name"`
	// ExistingSecretArn uses a secret created out of band instead.
	ExistingSecretArn string `json:"existingSecretArn"`
}

// SummaryNotifications sends the run summaries that changed something,
// failed or exceeded a cap to an SNS topic (email, chat through AWS Chatbot).
type SummaryNotifications struct {
	Enabled bool `json:"enabled"`
	// Emails subscribe to the summary topic (each must confirm).
	Emails []string `json:"emails"`
}

// Protected lists identities no job may ever touch.
type Protected struct {
	Emails   []string `json:"emails"`
	Domains  []string `json:"domains"`
	IDs      []string `json:"ids"`
	Names    []string `json:"names"`
	Projects []string `json:"projects"`
}

// Function holds what every function has; it is embedded, so its keys sit beside
// the job's own keys in JSON (keyRotation.dryRun, keyRotation.memoryMb, ...).
type Function struct {
	DryRun   bool   `json:"dryRun"`
	MemoryMB int    `json:"memoryMb"`
	Timeout  string `json:"timeout"`
}

// Schedule is an EventBridge Scheduler schedule.
type Schedule struct {
	Enabled bool `json:"enabled"`
	// Expression is a Scheduler expression: cron(...), rate(...) or at(...).
	Expression string `json:"expression"`
	// Timezone is an IANA zone name; cron expressions are evaluated in it.
	Timezone string `json:"timezone"`
	// FlexibleWindowMinutes lets Scheduler spread the start; 0 turns the window off.
	FlexibleWindowMinutes int `json:"flexibleWindowMinutes"`
}

// KeyRotation configures the keyrotation function: Secrets Manager rotation and the
// scheduled stale-key sweep. DryRun governs the sweep, RotationDryRun rotation.
type KeyRotation struct {
	Function
	Schedule Schedule `json:"schedule"`
	// RotationDryRun refuses Secrets Manager rotation steps (the
	// configuration test at deploy time passes); independent of DryRun,
	// which governs the stale-key sweep.
	RotationDryRun             bool   `json:"rotationDryRun"`
	RotationGrace              string `json:"rotationGrace"`
	StaleKeyUnused             string `json:"staleKeyUnused"`
	StaleKeyNeverUsed          string `json:"staleKeyNeverUsed"`
	AdminKeyUnused             string `json:"adminKeyUnused"`
	RevokeAdminKeys            bool   `json:"revokeAdminKeys"`
	DeleteStaleServiceAccounts bool   `json:"deleteStaleServiceAccounts"`
}

// InviteCleanup configures the invitecleanup function.
type InviteCleanup struct {
	Function
	Schedule     Schedule `json:"schedule"`
	InviteMaxAge string   `json:"inviteMaxAge"`
}

// AuditExport configures the auditexport function, the audit bucket and its Glue table.
type AuditExport struct {
	Function
	Schedule         Schedule `json:"schedule"`
	Prefix           string   `json:"prefix"`
	Lookback         string   `json:"lookback"`
	SliceConcurrency int      `json:"sliceConcurrency"`
	RolloverBytes    int64    `json:"rolloverBytes"`
	RolloverEvents   int      `json:"rolloverEvents"`
	// TenantEvents also exports tenant-scoped audit events (tenant_only=true).
	TenantEvents bool `json:"tenantEvents"`
	// LagAlarmThreshold raises the export-lag alarm when ExportLagSeconds exceeds it.
	LagAlarmThreshold string `json:"lagAlarmThreshold"`
	// Detect evaluates the detection rules (functions/auditexport/detect)
	// after every run; findings go to the summary bus and the audit bucket.
	Detect Detect `json:"detect"`

	ObjectLock ObjectLock `json:"objectLock"`
	Lifecycle  Lifecycle  `json:"lifecycle"`
	// AccessLogRetentionDays expires S3 server access logs; 0 keeps them forever.
	AccessLogRetentionDays int `json:"accessLogRetentionDays"`

	// GlueDatabase defaults to the stack name (lower case, _ for -).
	GlueDatabase string `json:"glueDatabase"`
	GlueTable    string `json:"glueTable"`
	// ProjectionStartYear is the first year Athena projects partitions for.
	ProjectionStartYear int `json:"projectionStartYear"`
}

// Detect configures the detections on the audit stream.
type Detect struct {
	Enabled bool `json:"enabled"`
	// AllowedDomains are the email domains invites may go to; empty turns
	// the invite rule off.
	AllowedDomains []string `json:"allowedDomains"`
	// ASFF also writes every finding in the AWS Security Finding Format to
	// the audit bucket, for Security Hub.
	ASFF bool `json:"asff"`
}

// Inventory configures the inventory function: a daily snapshot of the
// organization into the audit bucket (under Prefix/inventory/), and a Glue
// table per inventory table, named GlueTablePrefix + the table's name.
type Inventory struct {
	Function
	Schedule        Schedule `json:"schedule"`
	Prefix          string   `json:"prefix"`
	GlueTablePrefix string   `json:"glueTablePrefix"`
}

// ObjectLock is the default retention of every object version in the audit
// bucket: COMPLIANCE (production), GOVERNANCE, or OFF for a trial stack that
// can be deleted with everything in it.
type ObjectLock struct {
	Mode          string `json:"mode"`
	RetentionDays int    `json:"retentionDays"`
}

// Lifecycle moves audit objects to cheaper storage classes. A zero day count
// disables that step.
type Lifecycle struct {
	InfrequentAccessDays        int `json:"infrequentAccessDays"`
	GlacierInstantRetrievalDays int `json:"glacierInstantRetrievalDays"`
	ExpireDays                  int `json:"expireDays"`
}

// Offboarding configures the offboarding function and its queues.
type Offboarding struct {
	Function
	// MaxReceiveCount is how many failed receives move a message to the DLQ.
	MaxReceiveCount int `json:"maxReceiveCount"`
	BatchSize       int `json:"batchSize"`
	// MaxConcurrency caps the concurrent invocations the SQS event source starts (2..1000).
	MaxConcurrency int    `json:"maxConcurrency"`
	JournalPrefix  string `json:"journalPrefix"`
	// OldestMessageAlarm alarms when a request has waited this long.
	OldestMessageAlarm string `json:"oldestMessageAlarm"`
	// Senders are the only sources allowed to send to the queue.
	Senders OffboardingSenders `json:"senders"`
}

// OffboardingSenders may send offboarding requests; the queue denies
// everyone else, whatever their IAM policies say.
type OffboardingSenders struct {
	// EventBridgeRuleArns are rules (on an HR or Okta bus) targeting the queue.
	EventBridgeRuleArns []string `json:"eventBridgeRuleArns"`
	// SnsTopicArns are topics the queue is subscribed to.
	SnsTopicArns []string `json:"snsTopicArns"`
	// RoleArns are IAM roles that send directly (a ticketing integration, the
	// operator who replays previews or redrives the dead-letter queue).
	RoleArns []string `json:"roleArns"`
}

// AdminKeySecret is the Secrets Manager secret holding the admin key.
type AdminKeySecret struct {
	// Name defaults to <stack name, lower case>/admin-key.
	Name string `json:"name"`
	// ExistingSecretArn uses a secret created out of band (already holding the
	// key) instead of creating one; its complete ARN, with the random suffix.
	ExistingSecretArn string `json:"existingSecretArn"`
	// RotationSchedule is a Secrets Manager schedule expression: rate(N days) or cron(...).
	RotationSchedule string `json:"rotationSchedule"`
}

// ServiceAccountKey declares a service-account key secret that keyrotation rotates.
type ServiceAccountKey struct {
	// ID names the secret (<stack name, lower case>/service-accounts/<id>); letters, digits and dashes.
	ID                 string `json:"id"`
	ProjectID          string `json:"projectId"`
	ServiceAccountID   string `json:"serviceAccountId"`
	ServiceAccountName string `json:"serviceAccountName"`
	// RotationSchedule defaults to the admin key's schedule when empty.
	RotationSchedule string `json:"rotationSchedule"`
	// ExistingSecretArn uses a secret created out of band instead of creating one.
	ExistingSecretArn string `json:"existingSecretArn"`
}

// Alarms configures where alarms go.
type Alarms struct {
	// Emails subscribe to the alarm topic (each address must confirm the subscription).
	Emails []string `json:"emails"`
}

// Object Lock modes.
const (
	ObjectLockCompliance = "COMPLIANCE"
	ObjectLockGovernance = "GOVERNANCE"
	// ObjectLockOff is for a trial: no lock, and every stateful resource is
	// destroyed with the stack.
	ObjectLockOff = "OFF"
)

// Default returns the configuration a cautious first deployment should start from:
// every job that can delete or revoke something in the organization reports only
// (dry run), the audit export (which only reads the organization) runs for real,
// and audit objects are locked in compliance mode for a year.
func Default() Config {
	return Config{
		StackName:        "Orgwarden",
		ArtifactDir:      "build",
		OpenAIBaseURL:    "https://api.openai.com/v1",
		LogLevel:         "info",
		LogRetentionDays: 365,
		MaxConcurrency:   8,
		RateLimit:        20,
		HTTPTimeout:      "30s",
		MaxRetries:       6,
		MaxRetryDelay:    "60s",
		MaxDeletions:     25,
		KeyRotation: KeyRotation{
			Function:          Function{DryRun: true, MemoryMB: 256, Timeout: "5m"},
			Schedule:          Schedule{Enabled: true, Expression: "cron(0 3 * * ? *)", Timezone: "UTC", FlexibleWindowMinutes: 15},
			RotationDryRun:    true,
			RotationGrace:     "24h",
			StaleKeyUnused:    "90d",
			StaleKeyNeverUsed: "30d",
			AdminKeyUnused:    "90d",
		},
		InviteCleanup: InviteCleanup{
			Function:     Function{DryRun: true, MemoryMB: 256, Timeout: "5m"},
			Schedule:     Schedule{Enabled: true, Expression: "cron(30 3 * * ? *)", Timezone: "UTC", FlexibleWindowMinutes: 15},
			InviteMaxAge: "14d",
		},
		AuditExport: AuditExport{
			Function:               Function{DryRun: false, MemoryMB: 512, Timeout: "15m"},
			Schedule:               Schedule{Enabled: true, Expression: "cron(5 * * * ? *)", Timezone: "UTC", FlexibleWindowMinutes: 10},
			Prefix:                 "openai-audit-logs",
			Lookback:               "1h",
			SliceConcurrency:       8,
			RolloverBytes:          67108864,
			RolloverEvents:         100000,
			TenantEvents:           true,
			LagAlarmThreshold:      "3h",
			Detect:                 Detect{Enabled: true},
			ObjectLock:             ObjectLock{Mode: ObjectLockCompliance, RetentionDays: 365},
			Lifecycle:              Lifecycle{InfrequentAccessDays: 30, GlacierInstantRetrievalDays: 90},
			AccessLogRetentionDays: 365,
			GlueTable:              "openai_audit_log",
			ProjectionStartYear:    2023,
		},
		Inventory: Inventory{
			// It only reads the organization: no dry run.
			Function:        Function{DryRun: false, MemoryMB: 512, Timeout: "15m"},
			Schedule:        Schedule{Enabled: true, Expression: "cron(15 4 * * ? *)", Timezone: "UTC", FlexibleWindowMinutes: 15},
			Prefix:          "openai-org",
			GlueTablePrefix: "openai_inventory_",
		},
		Offboarding: Offboarding{
			Function:           Function{DryRun: true, MemoryMB: 256, Timeout: "5m"},
			MaxReceiveCount:    5,
			BatchSize:          5,
			MaxConcurrency:     2,
			JournalPrefix:      "offboarding/",
			OldestMessageAlarm: "1h",
		},
		AdminKeySecret: AdminKeySecret{
			RotationSchedule: "rate(30 days)",
		},
		SummaryNotifications: SummaryNotifications{Enabled: true},
	}
}
