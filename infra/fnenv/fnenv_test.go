package fnenv

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/infra/config"
)

func testConfig() config.Config {
	c := config.Default()
	c.OrgID = "org-test"
	c.Protected.Emails = []string{"ceo@example.com", "cto@example.com"}
	c.Protected.Domains = []string{"example.com"}
	c.Protected.Projects = []string{"proj_keep"}
	return c
}

func testResources() Resources {
	return Resources{
		AdminKeySecretARN:         "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orgwarden/admin-key-AbCdEf",
		SummaryBusName:            "orgwarden-summaries",
		AuditBucket:               "audit-bucket",
		AuditStateBucket:          "state-bucket",
		AuditKMSKeyARN:            "arn:aws:kms:eu-west-1:123456789012:key/1234",
		AuditStateKMSKeyARN:       "arn:aws:kms:eu-west-1:123456789012:key/5678",
		ReadOnlyAdminKeySecretARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orgwarden/admin-key-read-only-AbCdEf",
		JournalBucket:             "state-bucket",
		ReportBucket:              "state-bucket",
		DLQURL:                    "https://sqs.eu-west-1.amazonaws.com/123456789012/dlq",
		ManagedSecretARNs:         []string{"arn:admin", "arn:billing"},
	}
}

// documentedVars reads docs/architecture.md, the contract between code, CLI and
// CDK: the common variables and, per function, the function-specific ones.
func documentedVars(t *testing.T) (common []string, specific map[string][]string) {
	t.Helper()
	doc, err := os.ReadFile("../../docs/architecture.md")
	if err != nil {
		t.Fatalf("reading the environment contract: %v", err)
	}
	_, section, ok := strings.Cut(string(doc), "## Environment variables")
	if !ok {
		t.Fatal(`docs/architecture.md has no "## Environment variables" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	specific = map[string][]string{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		first := strings.TrimSpace(cells[1])
		second := strings.TrimSpace(cells[2])
		switch {
		case strings.HasPrefix(first, "`"):
			common = append(common, strings.Trim(first, "`"))
		case slices.Contains(Functions, first) && strings.HasPrefix(second, "`"):
			specific[first] = append(specific[first], strings.Trim(second, "`"))
		}
	}
	if len(common) < 10 || len(specific) != len(Functions) {
		t.Fatalf("could not parse the environment tables: common %v, specific %v", common, specific)
	}
	return common, specific
}

func TestEnvironmentMatchesTheDocumentedContract(t *testing.T) {
	common, specific := documentedVars(t)
	cfg, res := testConfig(), testResources()
	// Optional lists are left out when empty; fill them so every variable appears.
	cfg.Protected.IDs = []string{"user_keep"}
	cfg.Protected.Names = []string{"break-glass"}
	cfg.AuditExport.Detect.AllowedDomains = []string{"example.com"}
	for _, fn := range Functions {
		t.Run(fn, func(t *testing.T) {
			env, err := For(fn, cfg, res)
			if err != nil {
				t.Fatal(err)
			}
			allowed := append(slices.Clone(common), specific[fn]...)
			for _, k := range Keys(env) {
				if !slices.Contains(allowed, k) {
					t.Errorf("%s sets %s, which docs/architecture.md does not define for it", fn, k)
				}
			}
			for _, k := range allowed {
				// OPENAI_ADMIN_KEY is for local runs; Lambda reads the key from Secrets Manager.
				if k == "OPENAI_ADMIN_KEY" {
					continue
				}
				if _, ok := env[k]; !ok {
					t.Errorf("%s lacks documented variable %s", fn, k)
				}
			}
		})
	}
}

func TestKeyValueNeverInEnvironment(t *testing.T) {
	for _, fn := range Functions {
		env, err := For(fn, testConfig(), testResources())
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := env["OPENAI_ADMIN_KEY"]; ok {
			t.Errorf("%s: OPENAI_ADMIN_KEY is set; functions must read the key from the secret", fn)
		}
		if env["OPENAI_ADMIN_KEY_SECRET_ARN"] != testResources().AdminKeySecretARN {
			t.Errorf("%s: OPENAI_ADMIN_KEY_SECRET_ARN = %q", fn, env["OPENAI_ADMIN_KEY_SECRET_ARN"])
		}
	}
}

func TestValues(t *testing.T) {
	cfg := testConfig()
	cfg.KeyRotation.DryRun = false
	cfg.KeyRotation.RevokeAdminKeys = true
	cfg.InviteCleanup.InviteMaxAge = "7d"
	cfg.AuditExport.Prefix = "audit/openai"
	res := testResources()

	env := func(fn string) map[string]string {
		t.Helper()
		e, err := For(fn, cfg, res)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	kr, ic, ae, ob := env(KeyRotation), env(InviteCleanup), env(AuditExport), env(Offboarding)

	checks := []struct{ name, got, want string }{
		{"keyrotation dry run follows keyRotation.dryRun", kr["ORGWARDEN_DRY_RUN"], "false"},
		{"invitecleanup dry run follows its own flag", ic["ORGWARDEN_DRY_RUN"], "true"},
		{"offboarding dry run", ob["ORGWARDEN_DRY_RUN"], "true"},
		{"auditexport dry run", ae["ORGWARDEN_DRY_RUN"], "false"},
		{"revoke admin keys", kr["ORGWARDEN_REVOKE_ADMIN_KEYS"], "true"},
		{"delete stale service accounts", kr["ORGWARDEN_DELETE_STALE_SERVICE_ACCOUNTS"], "false"},
		{"managed secrets joined", kr["ORGWARDEN_MANAGED_SECRET_ARNS"], "arn:admin,arn:billing"},
		{"invite max age", ic["ORGWARDEN_INVITE_MAX_AGE"], "7d"},
		{"protected emails joined", ic["ORGWARDEN_PROTECTED_EMAILS"], "ceo@example.com,cto@example.com"},
		{"max deletions", ic["ORGWARDEN_MAX_DELETIONS"], "25"},
		{"org id", ae["ORGWARDEN_ORG_ID"], "org-test"},
		{"audit bucket", ae["ORGWARDEN_AUDIT_BUCKET"], "audit-bucket"},
		{"audit prefix", ae["ORGWARDEN_AUDIT_PREFIX"], "audit/openai"},
		{"audit kms key", ae["ORGWARDEN_AUDIT_KMS_KEY_ID"], res.AuditKMSKeyARN},
		{"audit state bucket", ae[AuditStateBucketVar], "state-bucket"},
		{"rollover bytes", ae["ORGWARDEN_AUDIT_ROLLOVER_BYTES"], "67108864"},
		{"dlq url", ob["ORGWARDEN_DLQ_URL"], res.DLQURL},
		{"journal bucket", ob["ORGWARDEN_JOURNAL_BUCKET"], "state-bucket"},
		{"journal prefix", ob["ORGWARDEN_JOURNAL_PREFIX"], "offboarding/"},
		{"summary bus", ob["ORGWARDEN_SUMMARY_BUS"], "orgwarden-summaries"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	if _, ok := ic["ORGWARDEN_PROTECTED_IDS"]; ok {
		t.Error("empty protected list emitted; empty optional values should be left out")
	}
	if _, ok := ic["ORGWARDEN_AUDIT_BUCKET"]; ok {
		t.Error("invitecleanup received an auditexport variable")
	}
	// Every summary names the organization.
	for name, env := range map[string]map[string]string{"invitecleanup": ic, "auditexport": ae, "offboarding": ob} {
		if env["ORGWARDEN_ORG_ID"] != testConfig().OrgID {
			t.Errorf("%s: ORGWARDEN_ORG_ID = %q, want the organization", name, env["ORGWARDEN_ORG_ID"])
		}
	}
}

func TestErrors(t *testing.T) {
	if _, err := For("payroll", testConfig(), testResources()); err == nil || !strings.Contains(err.Error(), "unknown function") {
		t.Errorf("unknown function: %v", err)
	}

	res := testResources()
	res.DLQURL = ""
	if _, err := For(Offboarding, testConfig(), res); err == nil || !strings.Contains(err.Error(), "ORGWARDEN_DLQ_URL") {
		t.Errorf("missing DLQ URL: %v", err)
	}
	res = testResources()
	res.AuditStateBucket = ""
	if _, err := For(AuditExport, testConfig(), res); err == nil || !strings.Contains(err.Error(), AuditStateBucketVar) {
		t.Errorf("missing state bucket: %v", err)
	}

	cfg := testConfig()
	for i := range 200 {
		cfg.Protected.IDs = append(cfg.Protected.IDs, "user_"+strings.Repeat("x", 20)+string(rune('a'+i%26)))
	}
	if _, err := For(InviteCleanup, cfg, testResources()); err == nil || !strings.Contains(err.Error(), "4096") {
		t.Errorf("oversized environment: %v", err)
	}
}

// TestSizeIsMeasuredAsDeployed: CloudFormation replaces each token (about 20
// bytes) with an ARN or a name of up to a hundred; the limit applies to that.
func TestSizeIsMeasuredAsDeployed(t *testing.T) {
	cfg := testConfig()
	for i := range 30 {
		cfg.ServiceAccountKeys = append(cfg.ServiceAccountKeys, config.ServiceAccountKey{
			ID: fmt.Sprintf("service-account-%02d", i), ProjectID: "proj_x", ServiceAccountID: "svc_acct_x", ServiceAccountName: "x",
		})
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	tokens := Resources{
		AdminKeySecretARN: "${Token[TOKEN.101]}", ReadOnlyAdminKeySecretARN: "${Token[TOKEN.102]}", SummaryBusName: "${Token[TOKEN.103]}",
		AuditBucket: "${Token[TOKEN.104]}", AuditStateBucket: "${Token[TOKEN.105]}", AuditKMSKeyARN: "${Token[TOKEN.106]}",
		AuditStateKMSKeyARN: "${Token[TOKEN.107]}", JournalBucket: "${Token[TOKEN.105]}", DLQURL: "${Token[TOKEN.108]}",
		ManagedSecretARNs: ManagedSecretIDs(cfg),
	}
	env, err := For(KeyRotation, cfg, tokens)
	if err != nil {
		t.Fatalf("30 service-account secrets: %v", err)
	}
	deployed, err := DeployedSize(KeyRotation, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if deployed > 4096 || deployed <= Size(env) {
		t.Errorf("deployed size %d (tokens %d): want above the token size and within 4096", deployed, Size(env))
	}
	// Listed by ARN, as the stack used to, the same secrets overflow once deployed.
	byARN := WorstCase(cfg)
	for i, id := range byARN.ManagedSecretARNs {
		byARN.ManagedSecretARNs[i] = "arn:aws-us-gov:secretsmanager:" + strings.Repeat("r", 20) + ":123456789012:secret:" + id + "-AbCdEf"
	}
	withARNs, err := build(KeyRotation, cfg, byARN)
	if err != nil {
		t.Fatal(err)
	}
	if Size(withARNs) <= 4096 {
		t.Errorf("ARNs of 30 secrets take %d bytes; the test no longer shows why names are listed", Size(withARNs))
	}

	// A configuration that fits as tokens but not as deployed is refused.
	big := testConfig()
	for Size(mustBuild(t, InviteCleanup, big, tokens)) < 4096-60 {
		big.Protected.IDs = append(big.Protected.IDs, fmt.Sprintf("user_%020d", len(big.Protected.IDs)))
	}
	if _, err := For(InviteCleanup, big, tokens); err == nil || !strings.Contains(err.Error(), "once deployed") {
		t.Errorf("an environment over 4 KB once deployed: %v", err)
	}
}

func mustBuild(t *testing.T, fn string, cfg config.Config, res Resources) map[string]string {
	t.Helper()
	env, err := build(fn, cfg, res)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestReadOnlyAdminKey(t *testing.T) {
	res := testResources()
	tests := []struct {
		name string
		edit func(*config.Config)
		want map[string]string // function -> secret ARN
	}{
		{"not configured", func(*config.Config) {}, map[string]string{
			AuditExport: res.AdminKeySecretARN, InviteCleanup: res.AdminKeySecretARN, Offboarding: res.AdminKeySecretARN, KeyRotation: res.AdminKeySecretARN,
		}},
		{"configured, defaults (dry run)", func(c *config.Config) { c.ReadOnlyAdminKeySecret.Enabled = true }, map[string]string{
			AuditExport: res.ReadOnlyAdminKeySecretARN, InviteCleanup: res.ReadOnlyAdminKeySecretARN, Offboarding: res.ReadOnlyAdminKeySecretARN, KeyRotation: res.ReadOnlyAdminKeySecretARN,
		}},
		{"configured, jobs live", func(c *config.Config) {
			c.ReadOnlyAdminKeySecret.Enabled = true
			c.InviteCleanup.DryRun, c.Offboarding.DryRun, c.KeyRotation.RotationDryRun = false, false, false
		}, map[string]string{
			AuditExport: res.ReadOnlyAdminKeySecretARN, InviteCleanup: res.AdminKeySecretARN, Offboarding: res.AdminKeySecretARN, KeyRotation: res.AdminKeySecretARN,
		}},
	}
	for _, tt := range tests {
		cfg := testConfig()
		tt.edit(&cfg)
		for fn, want := range tt.want {
			env, err := For(fn, cfg, res)
			if err != nil {
				t.Fatal(err)
			}
			if env["OPENAI_ADMIN_KEY_SECRET_ARN"] != want {
				t.Errorf("%s: %s reads %s, want %s", tt.name, fn, env["OPENAI_ADMIN_KEY_SECRET_ARN"], want)
			}
		}
	}
}
