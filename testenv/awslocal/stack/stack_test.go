package stack_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/orgwarden/orgwarden/shared/awsconfig"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/testenv/awslocal/stack"
	"github.com/orgwarden/orgwarden/testenv/awslocal/stack/stacktest"
)

// TestEnvReachesEveryEmulator loads clients the way the functions do
// (shared/awsconfig on config.LoadDefaultConfig) from nothing but the
// stack's environment, and reaches every emulator with them.
func TestEnvReachesEveryEmulator(t *testing.T) {
	st := stacktest.New(t, stack.Options{})
	for _, kv := range st.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")

	ctx := t.Context()
	clients, err := awsconfig.Load(ctx, config.OSEnv())
	if err != nil {
		t.Fatal(err)
	}

	if _, err := clients.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("audit")}); err != nil {
		t.Fatalf("s3: %v", err)
	}
	if _, err := clients.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("audit"), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
		t.Fatalf("s3 put: %v", err)
	}
	if _, err := st.S3.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("audit"), Key: aws.String("k")}); err != nil {
		t.Errorf("object not in the stack's S3: %v", err)
	}

	if _, err := clients.SecretsManager.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")}); err != nil {
		t.Fatalf("secrets manager: %v", err)
	}
	if st.SecretsManager.Count("CreateSecret") != 1 {
		t.Error("CreateSecret did not reach the stack's Secrets Manager")
	}

	if _, err := clients.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q")}); err != nil {
		t.Fatalf("sqs: %v", err)
	}
	if st.SQS.Count("CreateQueue") != 1 {
		t.Error("CreateQueue did not reach the stack's SQS")
	}

	if _, err := clients.EventBridge.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{Source: aws.String("orgwarden.test"), DetailType: aws.String("t"), Detail: aws.String(`{}`)},
	}}); err != nil {
		t.Fatalf("eventbridge: %v", err)
	}
	if len(st.EventBridge.Events()) != 1 {
		t.Error("PutEvents did not reach the stack's EventBridge")
	}
}

func TestEnvForChildProcesses(t *testing.T) {
	st := stacktest.New(t, stack.Options{})
	env := st.Env()
	m := st.EnvMap()
	if len(env) != len(m) {
		t.Fatalf("Env has %d entries, EnvMap %d", len(env), len(m))
	}
	for _, k := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_EVENTBRIDGE"} {
		if !strings.HasPrefix(m[k], "http://127.0.0.1:") {
			t.Errorf("%s = %q", k, m[k])
		}
	}
	if m["AWS_REGION"] != "us-east-1" || m["AWS_ACCESS_KEY_ID"] == "" || m["AWS_SECRET_ACCESS_KEY"] == "" {
		t.Errorf("credentials and region: %v", m)
	}
}
