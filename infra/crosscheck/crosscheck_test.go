package crosscheck

import (
	"slices"
	"testing"

	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation/secretdoc"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard"
	"github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/infra/fnenv"
	sharedconfig "github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/sweep"
)

// deployed are resource values shaped like the ones CloudFormation substitutes.
var deployed = fnenv.Resources{
	AdminKeySecretARN:         "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orgwarden/admin-key-AbCdEf",
	SummaryBusName:            "orgwarden-summaries",
	AuditBucket:               "orgwarden-auditbucketb01e0ae8-1x2y3z4w5v6u",
	AuditStateBucket:          "orgwarden-statebucket446e0578-9a8b7c6d5e4f",
	AuditKMSKeyARN:            "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
	AuditStateKMSKeyARN:       "arn:aws:kms:eu-west-1:123456789012:key/9f8e7d6c-5b4a-3210-fedc-ba9876543210",
	ReadOnlyAdminKeySecretARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:orgwarden/admin-key-read-only-AbCdEf",
	JournalBucket:             "orgwarden-statebucket446e0578-9a8b7c6d5e4f",
	ReportBucket:              "orgwarden-statebucket446e0578-9a8b7c6d5e4f",
	DLQURL:                    "https://sqs.eu-west-1.amazonaws.com/123456789012/orgwarden-offboarding-dlq",
	// Names, as the stack lists the secrets it creates (fnenv.ManagedSecretIDs).
	ManagedSecretARNs: []string{"orgwarden/admin-key", "orgwarden/service-accounts/billing"},
}

func stackConfig() config.Config {
	c := config.Default()
	c.OrgID = "org-crosscheck"
	c.Protected.Emails = []string{"ceo@example.com", "cto@example.com"}
	c.Protected.Domains = []string{"example.com"}
	c.Protected.IDs = []string{"user_keep"}
	c.Protected.Names = []string{"break-glass"}
	c.Protected.Projects = []string{"proj_keep"}
	c.MaxDeletions = 7
	return c
}

func reader(t *testing.T, fn string, cfg config.Config) *sharedconfig.Reader {
	t.Helper()
	env, err := fnenv.For(fn, cfg, deployed)
	if err != nil {
		t.Fatal(err)
	}
	return sharedconfig.NewReader(sharedconfig.MapEnv(env))
}

// TestCommonVariablesParse: every function's shared settings read back as the
// stack configured them.
func TestCommonVariablesParse(t *testing.T) {
	cfg := stackConfig()
	for _, fn := range fnenv.Functions {
		r := reader(t, fn, cfg)
		common := sharedconfig.ReadCommon(r)
		if err := r.Err(); err != nil {
			t.Fatalf("%s: shared/config rejects the stack's environment: %v", fn, err)
		}
		if common.AdminKeySecretARN != deployed.AdminKeySecretARN || common.AdminKey != "" {
			t.Errorf("%s: admin key from %q (inline key set: %v)", fn, common.AdminKeySecretARN, common.AdminKey != "")
		}
		if common.SummaryBus != deployed.SummaryBusName || common.MaxDeletions != 7 || common.Rules.AllowOwners {
			t.Errorf("%s: summary bus %q, max deletions %d, allow owners %v", fn, common.SummaryBus, common.MaxDeletions, common.Rules.AllowOwners)
		}
		p := common.Rules.Protection
		if !slices.Equal(p.Emails, cfg.Protected.Emails) || !slices.Equal(p.Domains, cfg.Protected.Domains) ||
			!slices.Equal(p.IDs, cfg.Protected.IDs) || !slices.Equal(p.Names, cfg.Protected.Names) ||
			!slices.Equal(p.Projects, cfg.Protected.Projects) {
			t.Errorf("%s: protection read back as %+v", fn, p)
		}
	}
	for fn, want := range map[string]bool{
		fnenv.KeyRotation: true, fnenv.InviteCleanup: true, fnenv.Offboarding: true, fnenv.AuditExport: false,
	} {
		r := reader(t, fn, cfg)
		if got := sharedconfig.ReadCommon(r).DryRun; got != want {
			t.Errorf("%s: dry run read back as %v, want %v", fn, got, want)
		}
	}
}

// TestScheduleInputIsANormalRun: what the schedules send is accepted, and is not a
// preview (the configured dry run alone decides).
func TestScheduleInputIsANormalRun(t *testing.T) {
	ev, err := sweep.ParseScheduleEvent([]byte(fnenv.ScheduleInput))
	if err != nil {
		t.Fatalf("shared/sweep refuses the schedule input %s: %v", fnenv.ScheduleInput, err)
	}
	if ev.DryRun || ev.EventBridge != nil {
		t.Errorf("schedule input parsed as %+v, want a plain run", ev)
	}
}

func TestOffboardingParses(t *testing.T) {
	cfg := stackConfig()
	r := reader(t, fnenv.Offboarding, cfg)
	got := offboard.ReadConfig(r)
	if err := r.Err(); err != nil {
		t.Fatalf("offboarding rejects the stack's environment: %v", err)
	}
	if got.DLQURL != deployed.DLQURL || got.JournalBucket != deployed.JournalBucket || got.JournalPrefix != cfg.Offboarding.JournalPrefix {
		t.Errorf("offboarding read %+v", got)
	}
}

// TestRetirementTagPrefix: the stack lets keyrotation write exactly the tags it
// writes, and the export exactly the objects it writes beside its checkpoint.
func TestRetirementTagPrefix(t *testing.T) {
	if fnenv.SecretPlaceholderField != secretdoc.PlaceholderField {
		t.Errorf("the stack's secrets start with %q, keyrotation recognises %q", fnenv.SecretPlaceholderField, secretdoc.PlaceholderField)
	}
	if fnenv.ConditionalWriteProbe != export.ProbeName {
		t.Errorf("the stack lets the export write its probe at %q, the export writes %q", fnenv.ConditionalWriteProbe, export.ProbeName)
	}
	if fnenv.RetireTagPrefix != secretdoc.RetireTagPrefix {
		t.Errorf("stack grants tags %q*, keyrotation writes %q...", fnenv.RetireTagPrefix, secretdoc.RetireTagPrefix)
	}
}
