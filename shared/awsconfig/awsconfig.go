// Package awsconfig loads the AWS SDK configuration the functions and the
// CLI share, and builds service clients from it.
//
// Endpoints come from the SDK's standard variables (AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_SQS,
// AWS_ENDPOINT_URL_EVENTBRIDGE), so the same binary talks to AWS in Lambda
// and to loopback emulators in tests, the demo and the end-to-end suite.
//
// The variables are read through a config.Lookup rather than only from the
// process environment, so that in-process callers (the demo, tests) can
// point one function at its own emulators without touching os.Environ. In
// Lambda the lookup is the process environment and nothing changes.
package awsconfig

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscfg "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	smithylogging "github.com/aws/smithy-go/logging"

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

// Option adjusts Load.
type Option func(*options)

type options struct{ log *slog.Logger }

// WithLogger routes the SDK's own log lines (retries, a response without a
// checksum to validate, ...) through log as structured records. Without
// it they are dropped: the SDK's default logger writes plain text to
// stderr, which breaks the JSON-only logs every function and the CLI keep.
func WithLogger(log *slog.Logger) Option { return func(o *options) { o.log = log } }

// sdkLogger is the SDK's logging.Logger over slog.
type sdkLogger struct{ logger *slog.Logger }

func (l sdkLogger) Logf(c smithylogging.Classification, format string, v ...any) {
	level := slog.LevelDebug
	if c == smithylogging.Warn {
		level = slog.LevelWarn
	}
	l.logger.Log(context.Background(), level, "aws sdk: "+fmt.Sprintf(format, v...), "source", "aws-sdk-go-v2")
}

// Load reads the AWS configuration and builds every client.
func Load(ctx context.Context, env config.Lookup, optFns ...Option) (*Clients, error) {
	var o options
	for _, fn := range optFns {
		fn(&o)
	}
	var sdkLog smithylogging.Logger = smithylogging.Nop{}
	if o.log != nil {
		sdkLog = sdkLogger{logger: o.log}
	}
	get := func(name string) string {
		v, _ := env(name)
		return v
	}
	// The us-east-1 fallback: local runs against emulators need some region
	// to sign with.
	opts := []func(*awscfg.LoadOptions) error{
		awscfg.WithRegion(cmp.Or(get("AWS_REGION"), get("AWS_DEFAULT_REGION"), "us-east-1")),
		awscfg.WithLogger(sdkLog),
	}
	if id, secret := get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		opts = append(opts, awscfg.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(id, secret, get("AWS_SESSION_TOKEN"))))
	}
	cfg, err := awscfg.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	endpoint := func(service string) *string {
		if v := cmp.Or(get("AWS_ENDPOINT_URL_"+service), get("AWS_ENDPOINT_URL")); v != "" {
			return aws.String(v)
		}
		return nil
	}
	s3Endpoint := endpoint("S3")
	return &Clients{
		Config: cfg,
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			if s3Endpoint != nil {
				o.BaseEndpoint = s3Endpoint
				// Local S3 servers are not reachable as bucket.host subdomains.
				o.UsePathStyle = true
			}
		}),
		SecretsManager: secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) {
			if e := endpoint("SECRETS_MANAGER"); e != nil {
				o.BaseEndpoint = e
			}
		}),
		SQS: sqs.NewFromConfig(cfg, func(o *sqs.Options) {
			if e := endpoint("SQS"); e != nil {
				o.BaseEndpoint = e
			}
		}),
		EventBridge: eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) {
			if e := endpoint("EVENTBRIDGE"); e != nil {
				o.BaseEndpoint = e
			}
		}),
	}, nil
}
