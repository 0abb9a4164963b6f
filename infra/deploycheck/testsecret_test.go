package deploycheck

import (
	"archive/zip"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/infra/fnenv"
	"github.com/orgwarden/orgwarden/infra/stack"
	"github.com/orgwarden/orgwarden/shared/app"
	sharedconfig "github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/testenv/awslocal"
	"github.com/orgwarden/orgwarden/testenv/awslocal/eventbridge/eventbridgetest"
	"github.com/orgwarden/orgwarden/testenv/awslocal/s3/s3test"
	"github.com/orgwarden/orgwarden/testenv/awslocal/secretsmanager/secretsmanagertest"
	"github.com/orgwarden/orgwarden/testenv/logtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

// synthesize builds the stack a first deployment builds: the default
// configuration (every job in dry run) with an organization and one
// service-account key secret, and returns its resources.
func synthesize(t *testing.T) (config.Config, map[string]resource) {
	t.Helper()
	dir := t.TempDir()
	build := filepath.Join(dir, "build")
	if err := os.Mkdir(build, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, fn := range fnenv.Functions {
		f, err := os.Create(filepath.Join(build, fn+".zip"))
		if err != nil {
			t.Fatal(err)
		}
		w := zip.NewWriter(f)
		if _, err := w.Create("bootstrap"); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	cfg := config.Default()
	cfg.OrgID, cfg.ArtifactDir = "org-deploycheck", build
	cfg.ServiceAccountKeys = []config.ServiceAccountKey{{ID: "billing", ProjectID: "proj_billing", ServiceAccountID: "svc_acct_billing", ServiceAccountName: "billing-app"}}

	out := filepath.Join(dir, "cdk.out")
	a := stack.NewApp(out)
	s, err := stack.New(a, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.Synth(nil)
	raw, err := os.ReadFile(filepath.Join(out, *s.ArtifactId()+".template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]resource `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &tpl); err != nil {
		t.Fatal(err)
	}
	return cfg, tpl.Resources
}

// generated is what CloudFormation stores for GenerateSecretString: the
// template with a random alphanumeric value under GenerateStringKey.
func generated(t *testing.T, gen map[string]any) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(gen["SecretStringTemplate"].(string)), &doc); err != nil {
		t.Fatal(err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	n := int(gen["PasswordLength"].(float64))
	var b strings.Builder
	for range n {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	doc[gen["GenerateStringKey"].(string)] = b.String()
	value, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(value)
}

// resolve substitutes what CloudFormation would for a template value, with
// the emulator's ARNs for the secrets.
func resolve(t *testing.T, res map[string]resource, arns map[string]string, v any) string {
	t.Helper()
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if id, ok := x["Ref"].(string); ok {
			switch res[id].Type {
			case "AWS::SecretsManager::Secret":
				return arns[id]
			case "AWS::Events::EventBus":
				return res[id].Properties["Name"].(string)
			case "AWS::S3::Bucket":
				// CloudFormation names it from the logical id; S3 wants lower case.
				return strings.ToLower(id)
			}
		}
		if join, ok := x["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range join[1].([]any) {
				parts = append(parts, resolve(t, res, arns, p))
			}
			return strings.Join(parts, join[0].(string))
		}
	}
	t.Fatalf("keyrotation's environment holds %v, which this replay cannot resolve", v)
	return ""
}

// TestCreateTimeTestSecretPasses replays, for every rotation schedule of a
// first deployment, the testSecret call Secrets Manager makes when it
// creates the schedule: AWSPENDING on a new version (holding the current
// value), testSecret, AWSPENDING removed. A failure here is a stack that
// rolls back on its first deployment.
func TestCreateTimeTestSecretPasses(t *testing.T) {
	cfg, res := synthesize(t)
	sm := secretsmanagertest.New(t)
	eb := eventbridgetest.New(t)
	s3srv := s3test.New(t)
	smc := sm.Client()

	// The buckets the functions write to (their run reports).
	for id, r := range res {
		if r.Type == "AWS::S3::Bucket" {
			if _, err := s3srv.Client().CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(strings.ToLower(id))}); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The secrets CloudFormation creates, with the placeholder it generates.
	arns := map[string]string{}
	for id, r := range res {
		if r.Type != "AWS::SecretsManager::Secret" {
			continue
		}
		out, err := smc.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{
			Name:         aws.String(r.Properties["Name"].(string)),
			SecretString: aws.String(generated(t, r.Properties["GenerateSecretString"].(map[string]any))),
		})
		if err != nil {
			t.Fatal(err)
		}
		arns[id] = aws.ToString(out.ARN)
	}

	// keyrotation as the template configures it.
	var env map[string]string
	for _, r := range res {
		if r.Type == "AWS::Lambda::Function" && r.Properties["FunctionName"] == cfg.FunctionName(fnenv.KeyRotation) {
			env = map[string]string{}
			for k, v := range r.Properties["Environment"].(map[string]any)["Variables"].(map[string]any) {
				env[k] = resolve(t, res, arns, v)
			}
		}
	}
	if env == nil {
		t.Fatal("no keyrotation function in the template")
	}
	if env["ORGWARDEN_DRY_RUN"] != "true" || env[fnenv.RotationDryRunVar] != "true" {
		t.Fatalf("the default deployment is not in dry run: %v", env)
	}
	env["AWS_ENDPOINT_URL_SECRETS_MANAGER"], env["AWS_ENDPOINT_URL_EVENTBRIDGE"], env["AWS_ENDPOINT_URL_S3"] = sm.URL, eb.URL, s3srv.URL
	env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_REGION"] = awslocal.AccessKeyID, awslocal.SecretAccessKey, awslocal.Region
	out := &logtest.Buffer{}
	h, err := rotation.FromEnv(t.Context(), sharedconfig.MapEnv(env), app.Options{Out: out})
	if err != nil {
		t.Fatalf("keyrotation refuses the template's environment: %v", err)
	}
	invoke := func(payload map[string]string) ([]byte, error) {
		b, _ := json.Marshal(payload)
		return lambda.NewHandler(h.Handle).Invoke(t.Context(), b)
	}

	schedules := 0
	for id, r := range res {
		if r.Type != "AWS::SecretsManager::RotationSchedule" {
			continue
		}
		schedules++
		secretID, _ := r.Properties["SecretId"].(map[string]any)["Ref"].(string)
		arn := arns[secretID]
		if arn == "" {
			t.Fatalf("%s rotates %v, not a secret the stack creates", id, r.Properties["SecretId"])
		}
		if r.Properties["RotateImmediatelyOnUpdate"] != false {
			t.Fatalf("%s rotates on deploy: %v", id, r.Properties)
		}
		t.Run(id, func(t *testing.T) {
			if _, err := smc.RotateSecret(t.Context(), &secretsmanager.RotateSecretInput{
				SecretId: aws.String(arn), RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:000000000000:function:" + cfg.FunctionName(fnenv.KeyRotation)),
				RotateImmediately: aws.Bool(false),
			}); err != nil {
				t.Fatal(err)
			}
			cur, err := smc.GetSecretValue(t.Context(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
			if err != nil {
				t.Fatal(err)
			}
			token := fmt.Sprintf("0ddba11a-0000-4000-8000-%012d", schedules)
			if _, err := smc.PutSecretValue(t.Context(), &secretsmanager.PutSecretValueInput{
				SecretId: aws.String(arn), ClientRequestToken: aws.String(token), SecretString: cur.SecretString, VersionStages: []string{"AWSPENDING"},
			}); err != nil {
				t.Fatal(err)
			}
			result, err := invoke(map[string]string{"SecretId": arn, "ClientRequestToken": token, "Step": "testSecret"})
			if err != nil {
				t.Fatalf("testSecret at schedule creation fails, the stack would roll back: %v", err)
			}
			if !strings.Contains(string(result), `"outcome":"nothing_to_do"`) {
				t.Errorf("testSecret answered %s", result)
			}
			if _, err := smc.UpdateSecretVersionStage(t.Context(), &secretsmanager.UpdateSecretVersionStageInput{
				SecretId: aws.String(arn), VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: aws.String(token),
			}); err != nil {
				t.Fatal(err)
			}
			// Still a dry run: a real rotation step is refused.
			if _, err := invoke(map[string]string{"SecretId": arn, "ClientRequestToken": token, "Step": "createSecret"}); err == nil {
				t.Error("createSecret ran in the default (dry-run) deployment")
			}
		})
	}
	if schedules != 2 {
		t.Errorf("%d rotation schedules, want the admin key's and the service account's", schedules)
	}
}
