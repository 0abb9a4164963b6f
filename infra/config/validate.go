package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // validate schedule time zones the same way on every machine
)

// Error lists every problem found in a configuration, so an operator fixes them in one go.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	return "invalid orgwarden configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

type problems []string

func (p *problems) addf(field, format string, args ...any) {
	*p = append(*p, field+": "+fmt.Sprintf(format, args...))
}

var (
	stackNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,39}$`)
	accountPattern   = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	orgIDPattern     = regexp.MustCompile(`^org-[A-Za-z0-9_-]{1,60}$`)
	// Key prefixes: no segment may look like a partition (=) or a hidden folder
	// (leading _), which the export's layout and Athena treat specially.
	prefixPattern     = regexp.MustCompile(`^[A-Za-z0-9-][A-Za-z0-9._-]*(/[A-Za-z0-9-][A-Za-z0-9._-]*)*$`)
	glueNamePattern   = regexp.MustCompile(`^[a-z0-9_]{1,255}$`)
	secretNamePattern = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,400}$`)
	secretIDPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	domainPattern     = regexp.MustCompile(`^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)
	// A complete secret ARN ends with the 6-character suffix Secrets Manager adds.
	secretArnPattern   = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$`)
	ruleArnPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:rule/[A-Za-z0-9._/-]+$`)
	topicArnPattern    = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+(\.fifo)?$`)
	roleArnPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$`)
	principalPattern   = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]+$`)
	smRatePattern      = regexp.MustCompile(`^rate\(([0-9]+) (hour|hours|day|days)\)$`)
	schedulerExprStart = []string{"cron(", "rate(", "at("}
)

// CloudWatch Logs accepts only these retention periods.
var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Validate reports every problem in c; it returns nil or an *Error.
func (c Config) Validate() error {
	var p problems

	if !stackNamePattern.MatchString(c.StackName) {
		p.addf("stackName", "%q must start with a letter and contain only letters, digits and dashes (at most 40)", c.StackName)
	}
	if (c.Account == "") != (c.Region == "") {
		p.addf("account", "set both account and region, or neither (environment-agnostic stack)")
	}
	if c.Account != "" && !accountPattern.MatchString(c.Account) {
		p.addf("account", "%q is not a 12-digit AWS account id", c.Account)
	}
	if c.Region != "" && !regionPattern.MatchString(c.Region) {
		p.addf("region", "%q is not an AWS region name", c.Region)
	}
	if c.OrgID == "" {
		p.addf("orgId", "required: the OpenAI organization id (org-...) the audit export partitions by")
	} else if !orgIDPattern.MatchString(c.OrgID) {
		p.addf("orgId", "%q is not an OpenAI organization id (org-...)", c.OrgID)
	}
	if strings.TrimSpace(c.ArtifactDir) == "" {
		p.addf("artifactDir", "required: the directory holding <function>.zip from `make build`")
	}
	if u, err := url.Parse(c.OpenAIBaseURL); err != nil || u.Scheme != "https" || u.Host == "" {
		p.addf("openaiBaseUrl", "%q must be an https URL", c.OpenAIBaseURL)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		p.addf("logLevel", "%q must be one of debug, info, warn, error", c.LogLevel)
	}
	if !slices.Contains(logRetentionDays, c.LogRetentionDays) {
		p.addf("logRetentionDays", "%d is not a CloudWatch Logs retention period (%v)", c.LogRetentionDays, logRetentionDays)
	}
	p.intRange("maxConcurrency", c.MaxConcurrency, 1, 64)
	p.intRange("rateLimit", c.RateLimit, 0, 1000)
	p.durationRange("httpTimeout", c.HTTPTimeout, time.Second, 15*time.Minute)
	p.intRange("maxRetries", c.MaxRetries, 0, 20)
	p.durationRange("maxRetryDelay", c.MaxRetryDelay, 0, 15*time.Minute)
	p.intRange("maxDeletions", c.MaxDeletions, 0, 100000)
	c.Protected.validate(&p)

	c.KeyRotation.Function.validate(&p, "keyRotation")
	c.KeyRotation.Schedule.validate(&p, "keyRotation.schedule")
	p.durationRange("keyRotation.rotationGrace", c.KeyRotation.RotationGrace, 0, 30*24*time.Hour)
	p.durationRange("keyRotation.staleKeyUnused", c.KeyRotation.StaleKeyUnused, 24*time.Hour, 3650*24*time.Hour)
	p.durationRange("keyRotation.staleKeyNeverUsed", c.KeyRotation.StaleKeyNeverUsed, 24*time.Hour, 3650*24*time.Hour)
	p.durationRange("keyRotation.adminKeyUnused", c.KeyRotation.AdminKeyUnused, 24*time.Hour, 3650*24*time.Hour)

	c.InviteCleanup.Function.validate(&p, "inviteCleanup")
	c.InviteCleanup.Schedule.validate(&p, "inviteCleanup.schedule")
	p.durationRange("inviteCleanup.inviteMaxAge", c.InviteCleanup.InviteMaxAge, time.Hour, 3650*24*time.Hour)

	c.AuditExport.validate(&p)
	c.Inventory.Function.validate(&p, "inventory")
	if c.Inventory.DryRun {
		p.addf("inventory.dryRun", "the inventory only reads the organization: it has no dry run")
	}
	c.Inventory.Schedule.validate(&p, "inventory.schedule")
	if !prefixPattern.MatchString(c.Inventory.Prefix) {
		p.addf("inventory.prefix", "%q must be slash-separated segments of letters, digits, '.', '_' and '-', none starting with '_' or '.', with no leading or trailing slash", c.Inventory.Prefix)
	}
	if c.Inventory.Prefix == c.AuditExport.Prefix || strings.HasPrefix(c.Inventory.Prefix+"/", c.AuditExport.Prefix+"/") {
		p.addf("inventory.prefix", "%q is inside the audit export's prefix %q, whose objects are create-only", c.Inventory.Prefix, c.AuditExport.Prefix)
	}
	if !glueNamePattern.MatchString(c.Inventory.GlueTablePrefix + "x") {
		p.addf("inventory.glueTablePrefix", "%q: Glue table names are lower-case letters, digits and '_'", c.Inventory.GlueTablePrefix)
	}
	c.Offboarding.validate(&p)

	if c.AdminKeySecret.Name != "" && !secretNamePattern.MatchString(c.AdminKeySecret.Name) {
		p.addf("adminKeySecret.name", "%q is not a valid Secrets Manager name", c.AdminKeySecret.Name)
	}
	validateExistingSecret(&p, "adminKeySecret.existingSecretArn", c.AdminKeySecret.ExistingSecretArn)
	if ro := c.ReadOnlyAdminKeySecret; ro.Name != "" && !secretNamePattern.MatchString(ro.Name) {
		p.addf("readOnlyAdminKeySecret.name", "%q is not a valid Secrets Manager name", ro.Name)
	}
	validateExistingSecret(&p, "readOnlyAdminKeySecret.existingSecretArn", c.ReadOnlyAdminKeySecret.ExistingSecretArn)
	if c.ReadOnlyAdminKeySecret.Enabled && c.ReadOnlyAdminKeySecretName() == c.AdminKeySecretName() {
		p.addf("readOnlyAdminKeySecret.name", "%q is the read-write admin key's secret", c.ReadOnlyAdminKeySecret.Name)
	}
	validateArns(&p, "breakGlassPrincipalArns", c.BreakGlassPrincipalArns, principalPattern, "an IAM role or user ARN")
	validateRotationSchedule(&p, "adminKeySecret.rotationSchedule", c.AdminKeySecret.RotationSchedule)
	seen := map[string]bool{}
	for i, k := range c.ServiceAccountKeys {
		field := fmt.Sprintf("serviceAccountKeys[%d]", i)
		if !secretIDPattern.MatchString(k.ID) {
			p.addf(field+".id", "%q must be lower-case letters, digits and dashes", k.ID)
		} else if seen[k.ID] {
			p.addf(field+".id", "%q is declared twice", k.ID)
		}
		seen[k.ID] = true
		if !strings.HasPrefix(k.ProjectID, "proj_") {
			p.addf(field+".projectId", "%q is not a project id (proj_...)", k.ProjectID)
		}
		if strings.TrimSpace(k.ServiceAccountID) == "" {
			p.addf(field+".serviceAccountId", "required")
		}
		if strings.TrimSpace(k.ServiceAccountName) == "" {
			p.addf(field+".serviceAccountName", "required")
		}
		if k.RotationSchedule != "" {
			validateRotationSchedule(&p, field+".rotationSchedule", k.RotationSchedule)
		}
		validateExistingSecret(&p, field+".existingSecretArn", k.ExistingSecretArn)
	}

	for i, e := range c.Alarms.Emails {
		if !isEmail(e) {
			p.addf(fmt.Sprintf("alarms.emails[%d]", i), "%q is not an email address", e)
		}
	}
	for i, e := range c.SummaryNotifications.Emails {
		if !isEmail(e) {
			p.addf(fmt.Sprintf("summaryNotifications.emails[%d]", i), "%q is not an email address", e)
		}
	}

	if len(p) == 0 {
		return nil
	}
	return &Error{Problems: p}
}

func (f Function) validate(p *problems, field string) {
	p.intRange(field+".memoryMb", f.MemoryMB, 128, 10240)
	p.durationRange(field+".timeout", f.Timeout, time.Second, 15*time.Minute)
}

func (s Schedule) validate(p *problems, field string) {
	if !slices.ContainsFunc(schedulerExprStart, func(start string) bool { return strings.HasPrefix(s.Expression, start) }) ||
		!strings.HasSuffix(s.Expression, ")") {
		p.addf(field+".expression", "%q must be a Scheduler expression: cron(...), rate(...) or at(...)", s.Expression)
	}
	if s.Timezone == "" {
		p.addf(field+".timezone", "required (an IANA name such as UTC or Europe/Paris)")
	} else if _, err := time.LoadLocation(s.Timezone); err != nil {
		p.addf(field+".timezone", "%q is not an IANA time zone", s.Timezone)
	}
	p.intRange(field+".flexibleWindowMinutes", s.FlexibleWindowMinutes, 0, 1440)
}

func (pr Protected) validate(p *problems) {
	for i, e := range pr.Emails {
		if !isEmail(e) || strings.Contains(e, ",") {
			p.addf(fmt.Sprintf("protected.emails[%d]", i), "%q is not an email address", e)
		}
	}
	for i, d := range pr.Domains {
		if !domainPattern.MatchString(d) {
			p.addf(fmt.Sprintf("protected.domains[%d]", i), "%q is not a domain name (no @)", d)
		}
	}
	lists := []struct {
		name   string
		values []string
	}{{"ids", pr.IDs}, {"names", pr.Names}, {"projects", pr.Projects}}
	for _, list := range lists {
		for i, v := range list.values {
			if strings.TrimSpace(v) == "" || strings.Contains(v, ",") {
				p.addf(fmt.Sprintf("protected.%s[%d]", list.name, i), "%q must be non-empty and contain no comma", v)
			}
		}
	}
}

func (a AuditExport) validate(p *problems) {
	a.Function.validate(p, "auditExport")
	a.Schedule.validate(p, "auditExport.schedule")
	if !prefixPattern.MatchString(a.Prefix) {
		p.addf("auditExport.prefix", "%q must be slash-separated segments of letters, digits, '.', '_' and '-', none starting with '_' or '.', with no leading or trailing slash", a.Prefix)
	}
	p.durationRange("auditExport.lookback", a.Lookback, 0, 7*24*time.Hour)
	p.intRange("auditExport.sliceConcurrency", a.SliceConcurrency, 1, 64)
	if a.RolloverBytes < 1<<20 || a.RolloverBytes > 5<<30 {
		p.addf("auditExport.rolloverBytes", "%d must be between 1 MiB and 5 GiB", a.RolloverBytes)
	}
	p.intRange("auditExport.rolloverEvents", a.RolloverEvents, 1, 10000000)
	p.durationRange("auditExport.lagAlarmThreshold", a.LagAlarmThreshold, 5*time.Minute, 30*24*time.Hour)

	if !slices.Contains([]string{ObjectLockCompliance, ObjectLockGovernance, ObjectLockOff}, a.ObjectLock.Mode) {
		p.addf("auditExport.objectLock.mode", "%q must be COMPLIANCE (production), GOVERNANCE or OFF (a trial stack, deleted with its data)", a.ObjectLock.Mode)
	}
	p.intRange("auditExport.objectLock.retentionDays", a.ObjectLock.RetentionDays, 1, 36500)

	lc := a.Lifecycle
	if lc.InfrequentAccessDays != 0 && lc.InfrequentAccessDays < 30 {
		p.addf("auditExport.lifecycle.infrequentAccessDays", "%d: S3 needs at least 30 days before STANDARD_IA (0 disables)", lc.InfrequentAccessDays)
	}
	if lc.GlacierInstantRetrievalDays < 0 {
		p.addf("auditExport.lifecycle.glacierInstantRetrievalDays", "%d must not be negative", lc.GlacierInstantRetrievalDays)
	}
	if lc.InfrequentAccessDays > 0 && lc.GlacierInstantRetrievalDays > 0 && lc.GlacierInstantRetrievalDays < lc.InfrequentAccessDays+30 {
		p.addf("auditExport.lifecycle.glacierInstantRetrievalDays", "%d: S3 needs objects in STANDARD_IA for 30 days first (at least %d)", lc.GlacierInstantRetrievalDays, lc.InfrequentAccessDays+30)
	}
	if lc.ExpireDays != 0 && lc.ExpireDays < a.ObjectLock.RetentionDays {
		p.addf("auditExport.lifecycle.expireDays", "%d is shorter than the Object Lock retention (%d days); 0 keeps objects forever", lc.ExpireDays, a.ObjectLock.RetentionDays)
	}
	if lc.ExpireDays != 0 && lc.ExpireDays <= max(lc.InfrequentAccessDays, lc.GlacierInstantRetrievalDays) {
		p.addf("auditExport.lifecycle.expireDays", "%d must come after the last storage-class transition", lc.ExpireDays)
	}
	if a.AccessLogRetentionDays < 0 {
		p.addf("auditExport.accessLogRetentionDays", "%d must not be negative (0 keeps access logs forever)", a.AccessLogRetentionDays)
	}
	if a.GlueDatabase != "" && !glueNamePattern.MatchString(a.GlueDatabase) {
		p.addf("auditExport.glueDatabase", "%q must be lower-case letters, digits and underscores", a.GlueDatabase)
	}
	if !glueNamePattern.MatchString(a.GlueTable) {
		p.addf("auditExport.glueTable", "%q must be lower-case letters, digits and underscores", a.GlueTable)
	}
	p.intRange("auditExport.projectionStartYear", a.ProjectionStartYear, 2020, 2100)
}

func (o Offboarding) validate(p *problems) {
	o.Function.validate(p, "offboarding")
	// Fewer than five receives dead-letters a request on a short outage.
	p.intRange("offboarding.maxReceiveCount", o.MaxReceiveCount, 5, 1000)
	if timeout, err := ParseDuration(o.Timeout); err == nil && o.MaxReceiveCount >= 5 {
		visibility := min(6*timeout, 12*time.Hour)
		if time.Duration(o.MaxReceiveCount)*visibility >= OffboardingRetention {
			p.addf("offboarding.maxReceiveCount", "%d receives %v apart (6 x timeout) outlast the queue's %v retention: a request would expire before it is dead-lettered", o.MaxReceiveCount, visibility, OffboardingRetention)
		}
	}
	p.durationRange("offboarding.oldestMessageAlarm", o.OldestMessageAlarm, time.Minute, OffboardingRetention/2)
	validateArns(p, "offboarding.senders.eventBridgeRuleArns", o.Senders.EventBridgeRuleArns, ruleArnPattern, "an EventBridge rule ARN")
	validateArns(p, "offboarding.senders.snsTopicArns", o.Senders.SnsTopicArns, topicArnPattern, "an SNS topic ARN")
	validateArns(p, "offboarding.senders.roleArns", o.Senders.RoleArns, roleArnPattern, "an IAM role ARN")
	p.intRange("offboarding.batchSize", o.BatchSize, 1, 10)
	p.intRange("offboarding.maxConcurrency", o.MaxConcurrency, 2, 1000)
	if !strings.HasSuffix(o.JournalPrefix, "/") || !prefixPattern.MatchString(strings.TrimSuffix(o.JournalPrefix, "/")) {
		p.addf("offboarding.journalPrefix", "%q must be slash-separated segments ending with a slash (offboarding/)", o.JournalPrefix)
	}
}

func validateArns(p *problems, field string, arns []string, pattern *regexp.Regexp, what string) {
	for i, a := range arns {
		if !pattern.MatchString(a) {
			p.addf(fmt.Sprintf("%s[%d]", field, i), "%q is not %s", a, what)
		}
	}
}

func validateExistingSecret(p *problems, field, arn string) {
	if arn != "" && !secretArnPattern.MatchString(arn) {
		p.addf(field, "%q is not a complete Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf)", arn)
	}
}

// validateRotationSchedule accepts what Secrets Manager accepts: rate(N days) for
// 1..1000 days, rate(N hours) for 4..24 hours, or a cron(...) expression.
func validateRotationSchedule(p *problems, field, expr string) {
	if strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")") {
		return
	}
	m := smRatePattern.FindStringSubmatch(expr)
	if m == nil {
		p.addf(field, "%q must be rate(N days), rate(N hours) or cron(...)", expr)
		return
	}
	n, _ := strconv.Atoi(m[1])
	if strings.HasPrefix(m[2], "day") && (n < 1 || n > 1000) {
		p.addf(field, "%q: Secrets Manager rotates every 1 to 1000 days", expr)
	}
	if strings.HasPrefix(m[2], "hour") && (n < 4 || n > 24) {
		p.addf(field, "%q: Secrets Manager rotates every 4 to 24 hours at most", expr)
	}
}

func (p *problems) intRange(field string, v, lo, hi int) {
	if v < lo || v > hi {
		p.addf(field, "%d must be between %d and %d", v, lo, hi)
	}
}

func (p *problems) durationRange(field, v string, lo, hi time.Duration) {
	d, err := ParseDuration(v)
	if err != nil {
		p.addf(field, "%v", err)
		return
	}
	if d < lo || d > hi {
		p.addf(field, "%q must be between %v and %v", v, lo, hi)
	}
}

func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// ParseDuration reads the duration syntax the functions accept: Go durations
// (90m, 1h30m) plus whole days (14d).
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration (Go syntax such as 90m, or whole days such as 14d)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (Go syntax such as 90m, or whole days such as 14d)", s)
	}
	return d, nil
}
