package stack_test

import (
	"archive/zip"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/infra/fnenv"
	"github.com/orgwarden/orgwarden/infra/stack"
)

var functionPaths = map[string]string{
	fnenv.KeyRotation:   "KeyRotation",
	fnenv.InviteCleanup: "InviteCleanup",
	fnenv.AuditExport:   "AuditExport",
	fnenv.Offboarding:   "Offboarding",
	fnenv.Inventory:     "Inventory",
}

func TestFunctions(t *testing.T) {
	assert(t, "five functions", func() { tpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(5)) })
	settings := map[string]config.Function{
		fnenv.KeyRotation:   cfg.KeyRotation.Function,
		fnenv.InviteCleanup: cfg.InviteCleanup.Function,
		fnenv.AuditExport:   cfg.AuditExport.Function,
		fnenv.Offboarding:   cfg.Offboarding.Function,
		fnenv.Inventory:     cfg.Inventory.Function,
	}
	for _, fn := range fnenv.Functions {
		timeout, _ := config.ParseDuration(settings[fn].Timeout)
		props := map[string]any{
			"FunctionName":  cfg.FunctionName(fn),
			"Runtime":       "provided.al2023",
			"Architectures": []any{"arm64"},
			"Handler":       "bootstrap",
			"MemorySize":    settings[fn].MemoryMB,
			"Timeout":       timeout.Seconds(),
			"Role":          getAtt(logicalID(t, functionPaths[fn]+"Role/Resource")),
			"LoggingConfig": map[string]any{"LogGroup": ref(logicalID(t, functionPaths[fn]+"Logs/Resource"))},
			// X-Ray is off unless configured.
			"TracingConfig": assertions.Match_Absent(),
		}
		if fn == fnenv.AuditExport || fn == fnenv.Inventory {
			props["ReservedConcurrentExecutions"] = 1
		} else {
			props["ReservedConcurrentExecutions"] = assertions.Match_Absent()
		}
		assert(t, fn, func() { tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), props) })
	}
}

// TestEachFunctionDeploysItsOwnZip opens the asset staged for each function and
// checks it is that function's build/<name>.zip.
func TestEachFunctionDeploysItsOwnZip(t *testing.T) {
	for _, fn := range fnenv.Functions {
		r := resources[logicalID(t, functionPaths[fn]+"/Resource")]
		asset, _ := r.Metadata["aws:asset:path"].(string)
		if !strings.HasSuffix(asset, ".zip") {
			t.Errorf("%s: asset path %q is not a zip file asset", fn, asset)
			continue
		}
		z, err := zip.OpenReader(filepath.Join(outdir, asset))
		if err != nil {
			t.Errorf("%s: %v", fn, err)
			continue
		}
		var body string
		for _, f := range z.File {
			if f.Name == "bootstrap" {
				rc, _ := f.Open()
				b, _ := io.ReadAll(rc)
				rc.Close()
				body = string(b)
			}
		}
		z.Close()
		if !strings.Contains(body, "placeholder for "+fn+"\n") {
			t.Errorf("%s deploys the wrong artefact: bootstrap = %q", fn, body)
		}
	}
}

func TestLogGroups(t *testing.T) {
	for _, fn := range fnenv.Functions {
		id := logicalID(t, functionPaths[fn]+"Logs/Resource")
		r := resources[id]
		if r.Properties["LogGroupName"] != "/aws/lambda/"+cfg.FunctionName(fn) {
			t.Errorf("%s log group name = %v", fn, r.Properties["LogGroupName"])
		}
		if r.Properties["RetentionInDays"] != float64(cfg.LogRetentionDays) {
			t.Errorf("%s log retention = %v, want %d", fn, r.Properties["RetentionInDays"], cfg.LogRetentionDays)
		}
		if r.DeletionPolicy != "Retain" {
			t.Errorf("%s log group deletion policy = %q, want Retain", fn, r.DeletionPolicy)
		}
		// They hold people's emails: encrypted with the stack's logs key.
		if canonical(r.Properties["KmsKeyId"]) != canonical(getAtt(logicalID(t, "LogsKey/Resource"))) {
			t.Errorf("%s log group key = %s", fn, canonical(r.Properties["KmsKeyId"]))
		}
	}
}

// TestFunctionEnvironments checks that each function receives exactly the
// environment fnenv builds, with the stack's own resources behind each name.
func TestFunctionEnvironments(t *testing.T) {
	resourcesFor := map[string]map[string]any{
		// Every function is in dry run, so each reads the read-only key.
		"OPENAI_ADMIN_KEY_SECRET_ARN": ref(logicalID(t, "ReadOnlyAdminKey/Secret/Resource")),
		"ORGWARDEN_SUMMARY_BUS":       ref(logicalID(t, "SummaryBus/Resource")),
		"ORGWARDEN_AUDIT_BUCKET":      ref(logicalID(t, "AuditBucket/Resource")),
		fnenv.AuditStateBucketVar:     ref(logicalID(t, "StateBucket/Resource")),
		"ORGWARDEN_AUDIT_KMS_KEY_ID":  getAtt(logicalID(t, "AuditKey/Resource")),
		// The checkpoint goes under the state key, never the audit key.
		fnenv.AuditStateKMSKeyVar:  getAtt(logicalID(t, "StateKey/Resource")),
		"ORGWARDEN_JOURNAL_BUCKET": ref(logicalID(t, "StateBucket/Resource")),
		// Detection: findings on the summary bus, the journal in the state bucket.
		"ORGWARDEN_DETECT_BUS":            ref(logicalID(t, "SummaryBus/Resource")),
		"ORGWARDEN_DETECT_JOURNAL_BUCKET": ref(logicalID(t, "StateBucket/Resource")),
		"ORGWARDEN_REPORT_BUCKET":         ref(logicalID(t, "StateBucket/Resource")),
		"ORGWARDEN_DLQ_URL":               ref(logicalID(t, "OffboardingDeadLetterQueue/Resource")),
	}
	// Managed secrets are listed by name (literal), or by ARN when created out of band.
	if want := "orgwarden/admin-key,orgwarden/service-accounts/billing," + existingSecretArn; strings.Join(fnenv.ManagedSecretIDs(cfg), ",") != want {
		t.Errorf("managed secrets %v, want %s", fnenv.ManagedSecretIDs(cfg), want)
	}

	// fnenv with placeholder resources tells which literal values to expect.
	placeholders := fnenv.Resources{
		AdminKeySecretARN: "x", ReadOnlyAdminKeySecretARN: "x", SummaryBusName: "x", AuditBucket: "x", AuditStateBucket: "x",
		AuditKMSKeyARN: "x", AuditStateKMSKeyARN: "x", JournalBucket: "x", ReportBucket: "x", DLQURL: "x", ManagedSecretARNs: fnenv.ManagedSecretIDs(cfg),
	}
	for _, fn := range fnenv.Functions {
		want, err := fnenv.For(fn, cfg, placeholders)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := resources[logicalID(t, functionPaths[fn]+"/Resource")].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		for _, k := range sortedKeys(want) {
			expected := any(want[k])
			if r, ok := resourcesFor[k]; ok {
				expected = r
			}
			if canonical(got[k]) != canonical(expected) {
				t.Errorf("%s: %s = %s, want %s", fn, k, canonical(got[k]), canonical(expected))
			}
		}
		for _, k := range sortedKeys(got) {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: unexpected variable %s", fn, k)
			}
		}
	}
}

func TestDryRunDefaultsReachTheFunctions(t *testing.T) {
	want := map[string]string{
		fnenv.KeyRotation: "true", fnenv.InviteCleanup: "true", fnenv.Offboarding: "true", fnenv.AuditExport: "false",
	}
	for fn, dry := range want {
		assert(t, fn+" dry run", func() {
			tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
				"FunctionName": cfg.FunctionName(fn),
				"Environment":  map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"ORGWARDEN_DRY_RUN": dry})},
			})
		})
	}
}

// TestNoKeyMaterialInTemplate: the admin key is referenced by secret ARN only.
func TestNoKeyMaterialInTemplate(t *testing.T) {
	text := canonical(resources)
	for _, needle := range []string{"sk-admin", "sk-svcacct", "sk-proj", `"OPENAI_ADMIN_KEY"`} {
		if strings.Contains(text, needle) {
			t.Errorf("template contains %q", needle)
		}
	}
}

func TestArtifactsNamesEveryMissingZip(t *testing.T) {
	c := testConfig(t.TempDir())
	_, err := stack.Artifacts(c)
	if err == nil {
		t.Fatal("no error for an empty artefact directory")
	}
	for _, fn := range fnenv.Functions {
		if !strings.Contains(err.Error(), fn+".zip") {
			t.Errorf("error does not name %s.zip: %v", fn, err)
		}
	}
	if !strings.Contains(err.Error(), "make build") {
		t.Errorf("error does not say how to fix it: %v", err)
	}
}

func TestNewRejectsInvalidConfiguration(t *testing.T) {
	c := testConfig(t.TempDir())
	c.OrgID = ""
	// Validation happens before any construct is created, so the nil scope is never used.
	if _, err := stack.New(nil, c); err == nil || !strings.Contains(err.Error(), "orgId") {
		t.Fatalf("New with an invalid configuration: %v", err)
	}
}
