package harness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	infraconfig "github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/infra/fnenv"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/awslocal/stack"
	"github.com/orgwarden/orgwarden/testenv/runtimeapi"
)

// World is one deployment of orgwarden on loopback: an organization on the
// Admin API emulator, and the buckets, queues, secret and bus the CDK stack
// creates, on the local AWS emulators. Every function's environment comes
// from the stack's own builder (infra/fnenv) applied to the stack's
// configuration, so the binaries see what they would see in AWS, with the
// endpoints pointing here.
type World struct {
	// Config is the stack configuration; its defaults are infra/config's.
	Config   infraconfig.Config
	Emulator *adminapi.Emulator
	// APIURL is the emulator's base URL, ending in /v1.
	APIURL string
	AWS    *stack.Stack
	Res    Resources
}

// Resources are what the world provisioned.
type Resources struct {
	fnenv.Resources
	AdminKeyID string
	// QueueName and QueueURL are the offboarding queue, DLQName its
	// dead-letter queue (Resources.DLQURL).
	QueueName, QueueURL, DLQName string
}

// WorldOptions describe a world.
type WorldOptions struct {
	// Emulator and APIURL: the Admin API, already served (tests serve it
	// with adminapitest, which validates every request against the spec).
	Emulator *adminapi.Emulator
	APIURL   string
	// Configure adjusts the stack configuration before resources are made.
	Configure func(*infraconfig.Config)
	// Stack passes options to the local AWS emulators.
	Stack stack.Options
}

// OrgID is the organization id every world uses.
const OrgID = "org-E2E000000000000000000000"

// NewWorld starts the local AWS emulators and provisions them.
func NewWorld(ctx context.Context, o WorldOptions) (*World, error) {
	if o.Emulator == nil || o.APIURL == "" {
		return nil, errors.New("new world: an emulator and its URL are required")
	}
	cfg := infraconfig.Default()
	cfg.StackName = "orgwarden-e2e"
	cfg.OrgID = OrgID
	cfg.OpenAIBaseURL = o.APIURL
	if o.Configure != nil {
		o.Configure(&cfg)
	}
	st, err := stack.Start(o.Stack)
	if err != nil {
		return nil, fmt.Errorf("new world: %w", err)
	}
	w := &World{Config: cfg, Emulator: o.Emulator, APIURL: o.APIURL, AWS: st}
	if err := w.provision(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("new world: %w", err)
	}
	return w, nil
}

// provision creates what the stack creates: the audit and state buckets,
// the offboarding queue with its dead-letter queue and redrive policy, the
// summary bus (EventBridge needs none locally) and the admin-key secret
// holding a key minted in the organization.
func (w *World) provision(ctx context.Context) error {
	r := Resources{
		Resources: fnenv.Resources{
			SummaryBusName:   "orgwarden-e2e-summaries",
			AuditBucket:      "orgwarden-e2e-audit",
			AuditStateBucket: "orgwarden-e2e-state",
			JournalBucket:    "orgwarden-e2e-state",
		},
		QueueName: "orgwarden-e2e-offboarding",
		DLQName:   "orgwarden-e2e-offboarding-dlq",
	}
	timeout, err := infraconfig.ParseDuration(w.Config.Offboarding.Timeout)
	if err != nil {
		return fmt.Errorf("offboarding timeout: %w", err)
	}
	keyID, value, err := w.Emulator.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "orgwarden-admin", LastUsedAt: time.Now()})
	if err != nil {
		return fmt.Errorf("mint admin key: %w", err)
	}
	out, err := w.AWS.Deploy(ctx, stack.Deployment{
		Buckets: []string{r.AuditBucket, r.AuditStateBucket},
		Queue:   r.QueueName, DLQ: r.DLQName, MaxReceiveCount: w.Config.Offboarding.MaxReceiveCount,
		// As the stack: six times the function timeout (AWS's advice for SQS sources).
		QueueAttributes: map[string]string{"VisibilityTimeout": fmt.Sprint(int(min(6*timeout, 12*time.Hour).Seconds()))},
		AdminKeySecret:  w.Config.AdminKeySecretName(), AdminKeyID: keyID, AdminKey: value,
	})
	if err != nil {
		return err
	}
	r.QueueURL, r.DLQURL = out.QueueURL, out.DLQURL
	r.AdminKeySecretARN, r.AdminKeyID = out.AdminKeySecretARN, keyID
	r.ManagedSecretARNs = []string{r.AdminKeySecretARN}
	w.Res = r
	return nil
}

// AddManagedSecret creates a secret holding value (a secret document) and
// adds it to the secrets keyrotation manages; it returns the ARN.
func (w *World) AddManagedSecret(ctx context.Context, name, value string) (string, error) {
	out, err := w.AWS.SecretsManager.Client().CreateSecret(ctx, &awssm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		return "", fmt.Errorf("create secret %s: %w", name, err)
	}
	arn := aws.ToString(out.ARN)
	w.Res.ManagedSecretARNs = append(w.Res.ManagedSecretARNs, arn)
	return arn, nil
}

// Env is function's environment in this world, as KEY=value pairs: the
// stack's (fnenv.For) plus the local endpoints and credentials, then extra.
func (w *World) Env(function string, extra map[string]string) ([]string, error) {
	env, err := fnenv.For(function, w.Config, w.Res.Resources)
	if err != nil {
		return nil, err
	}
	m := w.AWS.EnvMap()
	maps.Copy(m, env)
	maps.Copy(m, extra)
	out := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return out, nil
}

// FunctionSettings are the Lambda settings of function in the stack.
func (w *World) FunctionSettings(function string) (memoryMB int, timeout time.Duration, err error) {
	var f infraconfig.Function
	switch function {
	case fnenv.KeyRotation:
		f = w.Config.KeyRotation.Function
	case fnenv.InviteCleanup:
		f = w.Config.InviteCleanup.Function
	case fnenv.AuditExport:
		f = w.Config.AuditExport.Function
	case fnenv.Offboarding:
		f = w.Config.Offboarding.Function
	case fnenv.Inventory:
		f = w.Config.Inventory.Function
	default:
		return 0, 0, fmt.Errorf("unknown function %q", function)
	}
	timeout, err = infraconfig.ParseDuration(f.Timeout)
	return f.MemoryMB, timeout, err
}

// FunctionOptions adjust Function.
type FunctionOptions struct {
	// Env is added to the function's environment, overriding it.
	Env map[string]string
	// Timeout overrides the stack's function timeout.
	Timeout time.Duration
}

// Function prepares bootstrap as the Lambda function of that name in this
// world: its name, memory, timeout and environment as the stack sets them.
// No process runs until the first Invoke. Close it when done.
func (w *World) Function(function, bootstrap string, o FunctionOptions) (*runtimeapi.Function, error) {
	memory, timeout, err := w.FunctionSettings(function)
	if err != nil {
		return nil, err
	}
	if o.Timeout > 0 {
		timeout = o.Timeout
	}
	env, err := w.Env(function, o.Env)
	if err != nil {
		return nil, err
	}
	return runtimeapi.NewFunction(runtimeapi.FunctionConfig{
		ProcessConfig: runtimeapi.ProcessConfig{
			Path: bootstrap, FunctionName: w.Config.FunctionName(function), MemoryMB: memory, Env: env,
		},
		Timeout: timeout,
	})
}

// Close stops the local AWS emulators. The Admin API emulator belongs to
// whoever served it.
func (w *World) Close() { w.AWS.Close() }
