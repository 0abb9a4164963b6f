// Package stack starts every local AWS emulator orgwarden uses (S3, Secrets
// Manager, SQS, EventBridge) on loopback, for the demo and the end-to-end
// suite, and describes them as the environment a child process needs: the
// SDK's standard AWS_ENDPOINT_URL_<SERVICE> variables, fake static
// credentials and the region.
package stack

import (
	"fmt"
	"maps"
	"slices"

	"github.com/orgwarden/orgwarden/testenv/awslocal"
	"github.com/orgwarden/orgwarden/testenv/awslocal/eventbridge"
	"github.com/orgwarden/orgwarden/testenv/awslocal/s3"
	"github.com/orgwarden/orgwarden/testenv/awslocal/secretsmanager"
	"github.com/orgwarden/orgwarden/testenv/awslocal/sqs"
)

// Options passes options through to the individual emulators.
type Options struct {
	SecretsManager []secretsmanager.Option
	SQS            []sqs.Option
	EventBridge    []eventbridge.Option
}

// Stack is the set of running emulators.
type Stack struct {
	S3             *s3.Server
	SecretsManager *secretsmanager.Server
	SQS            *sqs.Server
	EventBridge    *eventbridge.Server
}

// Start starts every emulator. On failure the ones already started are
// closed.
func Start(opts Options) (*Stack, error) {
	st := &Stack{}
	var err error
	if st.S3, err = s3.Start(); err != nil {
		return nil, fmt.Errorf("start stack: %w", err)
	}
	if st.SecretsManager, err = secretsmanager.Start(opts.SecretsManager...); err != nil {
		st.Close()
		return nil, fmt.Errorf("start stack: %w", err)
	}
	if st.SQS, err = sqs.Start(opts.SQS...); err != nil {
		st.Close()
		return nil, fmt.Errorf("start stack: %w", err)
	}
	if st.EventBridge, err = eventbridge.Start(opts.EventBridge...); err != nil {
		st.Close()
		return nil, fmt.Errorf("start stack: %w", err)
	}
	return st, nil
}

// EnvMap is the environment that points the AWS SDK of a child process (or
// of config.LoadDefaultConfig in this one) at the stack.
func (st *Stack) EnvMap() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_S3":              st.S3.URL,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": st.SecretsManager.URL,
		"AWS_ENDPOINT_URL_SQS":             st.SQS.URL,
		"AWS_ENDPOINT_URL_EVENTBRIDGE":     st.EventBridge.URL,
		"AWS_ACCESS_KEY_ID":                awslocal.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":            awslocal.SecretAccessKey,
		"AWS_REGION":                       awslocal.Region,
		"AWS_DEFAULT_REGION":               awslocal.Region,
		// No instance metadata service on a workstation; the SDK must not
		// spend seconds looking for one.
		"AWS_EC2_METADATA_DISABLED": "true",
	}
}

// Env is EnvMap as sorted KEY=value pairs, the form exec.Cmd.Env takes.
func (st *Stack) Env() []string {
	m := st.EnvMap()
	out := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return out
}

// Close stops every emulator that is running.
func (st *Stack) Close() {
	if st.S3 != nil {
		st.S3.Close()
	}
	if st.SecretsManager != nil {
		st.SecretsManager.Close()
	}
	if st.SQS != nil {
		st.SQS.Close()
	}
	if st.EventBridge != nil {
		st.EventBridge.Close()
	}
}
