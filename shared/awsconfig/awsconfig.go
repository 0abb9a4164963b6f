// Package awsconfig loads the AWS SDK configuration the functions and the
// CLI share, and builds service clients from it.
//
// Endpoints come from the SDK's standard variables (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SECRETS_MANAGER, ...), so the same
// binary talks to AWS in Lambda and to loopback emulators in tests, the demo
// and the end-to-end suite, with no code path of its own for either.
package awsconfig

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscfg "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/orgwarden/orgwarden/shared/config"
)

// Clients are the AWS service clients orgwarden uses.
type Clients struct {
	Config         aws.Config
	S3             *s3.Client
	SecretsManager *secretsmanager.Client
	SQS            *sqs.Client
	EventBridge    *eventbridge.Client
}

// Load reads the default AWS configuration and builds every client. S3 uses
// path-style addressing when an endpoint override is set, since local S3
// servers are not reachable as bucket.host subdomains.
func Load(ctx context.Context, env config.Lookup) (*Clients, error) {
	opts := []func(*awscfg.LoadOptions) error{}
	if _, ok := env("AWS_REGION"); !ok {
		if _, ok := env("AWS_DEFAULT_REGION"); !ok {
			// Local runs against emulators need some region to sign with.
			opts = append(opts, awscfg.WithRegion("us-east-1"))
		}
	}
	cfg, err := awscfg.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	pathStyle := hasEnv(env, "AWS_ENDPOINT_URL_S3") || hasEnv(env, "AWS_ENDPOINT_URL")
	return &Clients{
		Config:         cfg,
		S3:             s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle }),
		SecretsManager: secretsmanager.NewFromConfig(cfg),
		SQS:            sqs.NewFromConfig(cfg),
		EventBridge:    eventbridge.NewFromConfig(cfg),
	}, nil
}

func hasEnv(env config.Lookup, name string) bool {
	v, ok := env(name)
	return ok && v != ""
}
