package stack_test

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/infra/fnenv"
	"github.com/orgwarden/orgwarden/infra/stack"
)

// The stack is synthesized once per test binary: starting jsii and synthesizing
// take seconds, every assertion after that is cheap.
var (
	cfg       config.Config
	outdir    string
	tpl       assertions.Template
	resources map[string]resource
	// parameters are the template's deploy-time parameters.
	parameters map[string]map[string]any
	// metadata is the cloud assembly's construct metadata: path -> entries.
	metadata map[string][]metadataEntry
)

type resource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	Metadata       map[string]any `json:"Metadata"`
	DeletionPolicy string         `json:"DeletionPolicy"`
	DependsOn      any            `json:"DependsOn"`
}

type metadataEntry struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

// testConfig is the default configuration plus the few settings a real deployment
// adds, and a couple of non-defaults to show they reach the template.
func testConfig(artifactDir string) config.Config {
	c := config.Default()
	c.OrgID = "org-test"
	c.ArtifactDir = artifactDir
	c.Alarms.Emails = []string{"security@example.com"}
	c.Protected.Emails = []string{"ceo@example.com"}
	c.Offboarding.MaxReceiveCount = 6
	c.BreakGlassPrincipalArns = []string{breakGlass}
	c.ReadOnlyAdminKeySecret.Enabled = true
	c.Offboarding.Senders = config.OffboardingSenders{
		EventBridgeRuleArns: []string{"arn:aws:events:eu-west-1:123456789012:rule/hr-bus/offboarding"},
		SnsTopicArns:        []string{"arn:aws:sns:eu-west-1:123456789012:okta-offboarding"},
		RoleArns:            []string{"arn:aws:iam::123456789012:role/ticketing/offboarder"},
	}
	c.ServiceAccountKeys = []config.ServiceAccountKey{{
		ID: "billing", ProjectID: "proj_billing", ServiceAccountID: "svc_acct_billing",
		ServiceAccountName: "billing-app", RotationSchedule: "rate(7 days)",
	}, {
		ID: "reporting", ProjectID: "proj_reporting", ServiceAccountID: "svc_acct_reporting",
		ServiceAccountName: "reporting", ExistingSecretArn: existingSecretArn,
	}}
	return c
}

// breakGlass may still destroy the audit key and read the admin keys.
const breakGlass = "arn:aws:iam::123456789012:role/break-glass"

// existingSecretArn is a secret created out of band that the stack rotates.
const existingSecretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/reporting-key-AbC123"

// placeholderZips writes build/<fn>.zip holding a bootstrap that names its function,
// so a test can check each function deploys its own artefact.
func placeholderZips(dir string) error {
	for _, fn := range fnenv.Functions {
		f, err := os.Create(filepath.Join(dir, fn+".zip"))
		if err != nil {
			return err
		}
		w := zip.NewWriter(f)
		entry, err := w.Create("bootstrap")
		if err == nil {
			_, err = fmt.Fprintf(entry, "#!/bin/sh\n# placeholder for %s\n", fn)
		}
		if err == nil {
			err = w.Close()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing placeholder %s.zip: %w", fn, err)
		}
	}
	return nil
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	defer jsii.Close()
	dir, err := os.MkdirTemp("", "orgwarden-infra-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := synthesize(dir); err != nil {
		fmt.Fprintln(os.Stderr, "synthesizing the stack:", err)
		return 1
	}
	return m.Run()
}

func synthesize(dir string) error {
	build := filepath.Join(dir, "build")
	if err := os.Mkdir(build, 0o755); err != nil {
		return err
	}
	if err := placeholderZips(build); err != nil {
		return err
	}
	cfg = testConfig(build)
	outdir = filepath.Join(dir, "cdk.out")

	app := stack.NewApp(outdir)
	// The CLI turns these on; tests find resources by construct path and assets by path.
	app.Node().SetContext(jsii.String("aws:cdk:enable-path-metadata"), true)
	app.Node().SetContext(jsii.String("aws:cdk:enable-asset-metadata"), true)
	s, err := stack.New(app, cfg)
	if err != nil {
		return err
	}
	app.Synth(nil)

	artifact := *s.ArtifactId()
	templateJSON, err := os.ReadFile(filepath.Join(outdir, artifact+".template.json"))
	if err != nil {
		return err
	}
	var template struct {
		Resources  map[string]resource       `json:"Resources"`
		Parameters map[string]map[string]any `json:"Parameters"`
	}
	if err := json.Unmarshal(templateJSON, &template); err != nil {
		return fmt.Errorf("decoding the template: %w", err)
	}
	resources, parameters = template.Resources, template.Parameters
	tpl = assertions.Template_FromString(jsii.String(string(templateJSON)), nil)
	metadata, err = readMetadata(outdir, artifact)
	return err
}

// readMetadata collects the stack's construct metadata (where cdk-nag reports), from
// the manifest or from the separate file large assemblies use.
func readMetadata(outdir, artifact string) (map[string][]metadataEntry, error) {
	raw, err := os.ReadFile(filepath.Join(outdir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	var manifest struct {
		Artifacts map[string]struct {
			Metadata               map[string][]metadataEntry `json:"metadata"`
			AdditionalMetadataFile string                     `json:"additionalMetadataFile"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		return nil, fmt.Errorf("decoding manifest.json: %w", err)
	}
	a, ok := manifest.Artifacts[artifact]
	if !ok {
		return nil, fmt.Errorf("manifest.json has no artifact %q", artifact)
	}
	md := map[string][]metadataEntry{}
	for path, entries := range a.Metadata {
		md[path] = append(md[path], entries...)
	}
	if a.AdditionalMetadataFile != "" {
		raw, err := os.ReadFile(filepath.Join(outdir, a.AdditionalMetadataFile))
		if err != nil {
			return nil, err
		}
		var extra map[string][]metadataEntry
		if err := json.Unmarshal(raw, &extra); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", a.AdditionalMetadataFile, err)
		}
		for path, entries := range extra {
			md[path] = append(md[path], entries...)
		}
	}
	return md, nil
}

// assert turns a failed assertions call (a jsii panic) into a test error.
func assert(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// logicalID finds a resource by its construct path below the stack, e.g.
// "AuditBucket/Resource".
func logicalID(t *testing.T, path string) string {
	t.Helper()
	want := cfg.StackName + "/" + path
	for id, r := range resources {
		if r.Metadata["aws:cdk:path"] == want {
			return id
		}
	}
	t.Fatalf("no resource at construct path %s", want)
	return ""
}

func ref(id string) map[string]any    { return map[string]any{"Ref": id} }
func getAtt(id string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, "Arn"}} }

func ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// canonical renders a template fragment as comparable JSON.
func canonical(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(haystack, needle string) bool { return strings.Contains(haystack, needle) }
