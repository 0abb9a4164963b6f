package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func validConfig() Config {
	c := Default()
	c.OrgID = "org-test123"
	return c
}

func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var cfgErr *Error
	if !errors.As(err, &cfgErr) {
		t.Fatalf("want *config.Error, got %v", err)
	}
	return cfgErr.Problems
}

func hasProblem(problems []string, field string) bool {
	for _, p := range problems {
		if strings.HasPrefix(p, field+": ") {
			return true
		}
	}
	return false
}

func TestDefaultNeedsOnlyAnOrgID(t *testing.T) {
	problems := problemsOf(t, Default().Validate())
	if len(problems) != 1 || !hasProblem(problems, "orgId") {
		t.Fatalf("default config problems = %q, want only orgId", problems)
	}
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("default config with an org id: %v", err)
	}
}

func TestDefaultsAreCautious(t *testing.T) {
	c := Default()
	for name, dryRun := range map[string]bool{
		"keyRotation":   c.KeyRotation.DryRun,
		"inviteCleanup": c.InviteCleanup.DryRun,
		"offboarding":   c.Offboarding.DryRun,
	} {
		if !dryRun {
			t.Errorf("%s.dryRun defaults to false; jobs that delete or revoke must start in dry run", name)
		}
	}
	if c.AuditExport.DryRun {
		t.Error("auditExport.dryRun defaults to true; the export only reads the organization and should run")
	}
	if c.KeyRotation.RevokeAdminKeys || c.KeyRotation.DeleteStaleServiceAccounts || c.AllowOwners {
		t.Error("destructive opt-ins (revokeAdminKeys, deleteStaleServiceAccounts, allowOwners) must default to false")
	}
	if c.AuditExport.ObjectLock.Mode != ObjectLockCompliance || c.AuditExport.ObjectLock.RetentionDays < 365 {
		t.Errorf("object lock defaults to %+v, want COMPLIANCE for at least 365 days", c.AuditExport.ObjectLock)
	}
	if c.Tracing {
		t.Error("X-Ray tracing must be off by default")
	}
	if c.MaxDeletions != 25 {
		t.Errorf("maxDeletions = %d, want the documented 25", c.MaxDeletions)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := validConfig()
	c.StackName = "1bad"
	c.Account = "123"
	c.OpenAIBaseURL = "http://api.openai.com/v1"
	c.LogRetentionDays = 42
	c.Protected.Emails = []string{"not-an-email"}
	c.Protected.Domains = []string{"@example.com"}
	c.Protected.IDs = []string{"a,b"}
	c.KeyRotation.Timeout = "16m"
	c.KeyRotation.Schedule.Expression = "every day"
	c.KeyRotation.Schedule.Timezone = "Mars/Olympus"
	c.InviteCleanup.InviteMaxAge = "two weeks"
	c.AuditExport.Prefix = "/leading"
	c.AuditExport.ObjectLock.Mode = "LEGAL"
	c.AuditExport.Lifecycle.InfrequentAccessDays = 10
	c.AuditExport.Lifecycle.ExpireDays = 30
	c.AuditExport.GlueTable = "Audit-Log"
	c.Offboarding.MaxReceiveCount = 0
	c.Offboarding.BatchSize = 11
	c.Offboarding.JournalPrefix = "offboarding"
	c.AdminKeySecret.RotationSchedule = "rate(2 hours)"
	c.AdminKeySecret.ExistingSecretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin" // no suffix
	c.ServiceAccountKeys = []ServiceAccountKey{
		{ID: "billing", ProjectID: "proj_1", ServiceAccountID: "svc_acct_1", ServiceAccountName: "billing"},
		{ID: "billing", ProjectID: "p1", ServiceAccountName: "x", RotationSchedule: "weekly"},
	}
	c.Alarms.Emails = []string{"ops"}

	problems := problemsOf(t, c.Validate())
	for _, field := range []string{
		"stackName", "account", "openaiBaseUrl", "logRetentionDays",
		"protected.emails[0]", "protected.domains[0]", "protected.ids[0]",
		"keyRotation.timeout", "keyRotation.schedule.expression", "keyRotation.schedule.timezone",
		"inviteCleanup.inviteMaxAge", "auditExport.prefix", "auditExport.objectLock.mode",
		"auditExport.lifecycle.infrequentAccessDays", "auditExport.lifecycle.expireDays",
		"auditExport.glueTable", "offboarding.maxReceiveCount", "offboarding.batchSize",
		"offboarding.journalPrefix", "adminKeySecret.rotationSchedule", "adminKeySecret.existingSecretArn",
		"serviceAccountKeys[1].id", "serviceAccountKeys[1].projectId", "serviceAccountKeys[1].serviceAccountId",
		"serviceAccountKeys[1].rotationSchedule", "alarms.emails[0]",
	} {
		if !hasProblem(problems, field) {
			t.Errorf("no problem reported for %s; got:\n%s", field, strings.Join(problems, "\n"))
		}
	}
	if hasProblem(problems, "serviceAccountKeys[0].id") {
		t.Error("the first declaration of a service-account id was reported as a duplicate")
	}
}

func TestValidateAuditPrefix(t *testing.T) {
	for prefix, ok := range map[string]bool{
		"openai-audit-logs": true, "audit/openai.v1": true,
		"": false, "/leading": false, "trailing/": false, "a//b": false,
		"_hidden": false, "audit/_state": false, "org_id=x": false, "../up": false, "a/./b": false, "a b": false,
	} {
		c := validConfig()
		c.AuditExport.Prefix = prefix
		if got := !hasProblem(problemList(c.Validate()), "auditExport.prefix"); got != ok {
			t.Errorf("prefix %q accepted = %v, want %v", prefix, got, ok)
		}
	}
}

// problemList is problemsOf for an error that may be nil.
func problemList(err error) []string {
	var cfgErr *Error
	if errors.As(err, &cfgErr) {
		return cfgErr.Problems
	}
	return nil
}

func TestValidateAcceptsExistingSecrets(t *testing.T) {
	c := validConfig()
	c.AdminKeySecret.ExistingSecretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:security/openai-admin-AbC123"
	c.ServiceAccountKeys = []ServiceAccountKey{{
		ID: "billing", ProjectID: "proj_1", ServiceAccountID: "svc_acct_1", ServiceAccountName: "billing",
		ExistingSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:billing-key-Zz9Yy8",
	}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateLifecycleOrdering(t *testing.T) {
	c := validConfig()
	c.AuditExport.Lifecycle = Lifecycle{InfrequentAccessDays: 30, GlacierInstantRetrievalDays: 45}
	if !hasProblem(problemsOf(t, c.Validate()), "auditExport.lifecycle.glacierInstantRetrievalDays") {
		t.Error("GLACIER_IR 15 days after STANDARD_IA was accepted; S3 rejects it")
	}
	c.AuditExport.Lifecycle = Lifecycle{InfrequentAccessDays: 0, GlacierInstantRetrievalDays: 1, ExpireDays: 400}
	if err := c.Validate(); err != nil {
		t.Errorf("straight to GLACIER_IR, expiring after the lock: %v", err)
	}
}

func TestValidateAccountAndRegionGoTogether(t *testing.T) {
	c := validConfig()
	c.Region = "eu-west-1"
	if !hasProblem(problemsOf(t, c.Validate()), "account") {
		t.Error("region without account accepted")
	}
	c.Account = "123456789012"
	if err := c.Validate(); err != nil {
		t.Errorf("account and region: %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"14d": 14 * 24 * time.Hour, "0d": 0, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute, "30s": 30 * time.Second,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "1.5d", "two weeks", "14 d"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
}

func TestNames(t *testing.T) {
	c := validConfig()
	c.StackName = "Orgwarden-Staging"
	if got := c.FunctionName("keyrotation"); got != "Orgwarden-Staging-keyrotation" {
		t.Errorf("FunctionName = %q", got)
	}
	if got := c.AdminKeySecretName(); got != "orgwarden-staging/admin-key" {
		t.Errorf("AdminKeySecretName = %q", got)
	}
	c.AdminKeySecret.Name = "security/openai-admin"
	if got := c.AdminKeySecretName(); got != "security/openai-admin" {
		t.Errorf("explicit AdminKeySecretName = %q", got)
	}
	k := ServiceAccountKey{ID: "billing"}
	if got := c.ServiceAccountSecretName(k); got != "orgwarden-staging/service-accounts/billing" {
		t.Errorf("ServiceAccountSecretName = %q", got)
	}
	if got := c.ServiceAccountRotationSchedule(k); got != c.AdminKeySecret.RotationSchedule {
		t.Errorf("service-account rotation defaults to %q, want the admin key's %q", got, c.AdminKeySecret.RotationSchedule)
	}
	k.RotationSchedule = "rate(7 days)"
	if got := c.ServiceAccountRotationSchedule(k); got != "rate(7 days)" {
		t.Errorf("explicit service-account rotation = %q", got)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "orgwarden.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFromContextLayersOverrideInOrder(t *testing.T) {
	file := writeFile(t, `{"orgId": "org-fromfile", "logLevel": "debug", "keyRotation": {"memoryMb": 512}}`)
	cfg, err := FromContext(map[string]any{
		// Unrelated CDK context must be ignored.
		"@aws-cdk/aws-iam:minimizePolicies": true,
		ContextKey: map[string]any{
			"orgId":       "org-fromobject",
			"logLevel":    "warn",
			"keyRotation": map[string]any{"dryRun": false, "memoryMb": 1024},
		},
		FileContextKey:       file,
		"orgwarden.logLevel": "error",
		"orgwarden.auditExport.objectLock.retentionDays": "730",
		"orgwarden.inviteCleanup.dryRun":                 "false",
		"orgwarden.auditExport.prefix":                   "2024",
		"orgwarden.alarms.emails":                        "sec@example.com, ops@example.com",
		"orgwarden.protected.ids":                        `["user_1","key_2"]`,
		"orgwarden.keyRotation.schedule.enabled":         false,
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"orgId (file over object)", cfg.OrgID, "org-fromfile"},
		{"logLevel (override over file)", cfg.LogLevel, "error"},
		{"keyRotation.dryRun (object, untouched by file)", cfg.KeyRotation.DryRun, false},
		{"keyRotation.memoryMb (file over object)", cfg.KeyRotation.MemoryMB, 512},
		{"keyRotation.timeout (default kept)", cfg.KeyRotation.Timeout, "5m"},
		{"retentionDays (number from string)", cfg.AuditExport.ObjectLock.RetentionDays, 730},
		{"inviteCleanup.dryRun (bool from string)", cfg.InviteCleanup.DryRun, false},
		{"prefix (numeric-looking string stays a string)", cfg.AuditExport.Prefix, "2024"},
		{"alarm emails (comma list)", strings.Join(cfg.Alarms.Emails, "|"), "sec@example.com|ops@example.com"},
		{"protected ids (JSON list)", strings.Join(cfg.Protected.IDs, "|"), "user_1|key_2"},
		{"schedule.enabled (native bool)", cfg.KeyRotation.Schedule.Enabled, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestFromContextAcceptsJSONText(t *testing.T) {
	cfg, err := FromContext(map[string]any{ContextKey: `{"orgId":"org-abc","offboarding":{"maxReceiveCount":7}}`})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OrgID != "org-abc" || cfg.Offboarding.MaxReceiveCount != 7 {
		t.Errorf("got orgId %q maxReceiveCount %d", cfg.OrgID, cfg.Offboarding.MaxReceiveCount)
	}
}

func TestFromContextRejectsTyposAndBadValues(t *testing.T) {
	for name, tc := range map[string]struct {
		ctx  map[string]any
		want string
	}{
		"unknown override field": {
			map[string]any{"orgwarden.orgId": "org-a", "orgwarden.keyRotaton.dryRun": "false"},
			`unknown field "keyRotaton"`,
		},
		"unknown object field": {
			map[string]any{ContextKey: map[string]any{"orgId": "org-a", "dryrun": true}},
			`unknown field "dryrun"`,
		},
		"unknown file field": {
			map[string]any{FileContextKey: writeFile(t, `{"orgId":"org-a","bucket":"x"}`)},
			`unknown field "bucket"`,
		},
		"missing file": {
			map[string]any{FileContextKey: filepath.Join(t.TempDir(), "absent.json")},
			"reading configuration file",
		},
		"wrong type": {
			map[string]any{"orgwarden.orgId": "org-a", "orgwarden.offboarding.batchSize": "many"},
			`context "orgwarden.offboarding.batchSize"`,
		},
		"empty path segment": {
			map[string]any{"orgwarden..orgId": "org-a"},
			"empty field name",
		},
		"invalid after loading": {
			map[string]any{"orgwarden.orgId": "org-a", "orgwarden.auditExport.objectLock.mode": "NONE"},
			"auditExport.objectLock.mode",
		},
		"missing org id": {
			map[string]any{},
			"orgId: required",
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := FromContext(tc.ctx)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestFromFile(t *testing.T) {
	cfg, err := FromFile(writeFile(t, `{"orgId":"org-file","serviceAccountKeys":[{"id":"billing","projectId":"proj_1","serviceAccountId":"svc_acct_1","serviceAccountName":"billing-app"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.ServiceAccountKeys) != 1 || cfg.ServiceAccountKeys[0].ServiceAccountName != "billing-app" {
		t.Errorf("service-account keys = %+v", cfg.ServiceAccountKeys)
	}
}

// TestPhysicalNamesDeriveFromTheStack: one stack per organization in one
// account and region must not collide on any name the configuration makes.
func TestPhysicalNamesDeriveFromTheStack(t *testing.T) {
	a, b := validConfig(), validConfig()
	a.StackName, b.StackName = "Orgwarden-Acme", "Orgwarden-Beta"
	names := func(c Config) []string {
		return []string{c.GlueDatabaseName(), c.AdminKeySecretName(), c.ReadOnlyAdminKeySecretName(), c.FunctionName("keyrotation")}
	}
	seen := map[string]bool{}
	for _, n := range append(names(a), names(b)...) {
		if seen[n] {
			t.Errorf("%q is used by both stacks", n)
		}
		seen[n] = true
	}
	if got := a.GlueDatabaseName(); got != "orgwarden_acme" || !glueNamePattern.MatchString(got) {
		t.Errorf("Glue database %q", got)
	}
	if got := Default().GlueDatabaseName(); got != "orgwarden" {
		t.Errorf("default Glue database %q, want orgwarden (unchanged for existing stacks)", got)
	}
}

func TestValidateOperationsAndSenders(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Config)
		field string // "" = valid
	}{
		{"default", func(*Config) {}, ""},
		{"evidence lock off (trial)", func(c *Config) { c.AuditExport.ObjectLock.Mode = ObjectLockOff }, ""},
		{"evidence lock typo", func(c *Config) { c.AuditExport.ObjectLock.Mode = "NONE" }, "auditExport.objectLock.mode"},
		{"three receives", func(c *Config) { c.Offboarding.MaxReceiveCount = 3 }, "offboarding.maxReceiveCount"},
		{"receives outlast retention", func(c *Config) {
			c.Offboarding.Timeout, c.Offboarding.MaxReceiveCount = "15m", 200
		}, "offboarding.maxReceiveCount"},
		{"age alarm past retention", func(c *Config) { c.Offboarding.OldestMessageAlarm = "6d" }, "offboarding.oldestMessageAlarm"},
		{"senders", func(c *Config) {
			c.Offboarding.Senders = OffboardingSenders{
				EventBridgeRuleArns: []string{"arn:aws:events:eu-west-1:123456789012:rule/hr-bus/offboarding"},
				SnsTopicArns:        []string{"arn:aws:sns:eu-west-1:123456789012:okta-offboarding"},
				RoleArns:            []string{"arn:aws:iam::123456789012:role/ticketing/offboarder"},
			}
		}, ""},
		{"sender is a user", func(c *Config) {
			c.Offboarding.Senders.RoleArns = []string{"arn:aws:iam::123456789012:user/alice"}
		}, "offboarding.senders.roleArns[0]"},
		{"sender rule is a topic", func(c *Config) {
			c.Offboarding.Senders.EventBridgeRuleArns = []string{"arn:aws:sns:eu-west-1:123456789012:okta"}
		}, "offboarding.senders.eventBridgeRuleArns[0]"},
		{"break-glass wildcard", func(c *Config) { c.BreakGlassPrincipalArns = []string{"*"} }, "breakGlassPrincipalArns[0]"},
		{"read-only key is the read-write one", func(c *Config) {
			c.ReadOnlyAdminKeySecret = ReadOnlyAdminKeySecret{Enabled: true, Name: c.AdminKeySecretName()}
		}, "readOnlyAdminKeySecret.name"},
		{"summary email", func(c *Config) { c.SummaryNotifications.Emails = []string{"not an address"} }, "summaryNotifications.emails[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.edit(&c)
			err := c.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if problems := problemsOf(t, err); !hasProblem(problems, tt.field) {
				t.Errorf("problems %q do not name %s", problems, tt.field)
			}
		})
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	if _, err := FromFile("../config.example.json"); err != nil {
		t.Fatalf("infra/config.example.json (make synth uses it): %v", err)
	}
}
