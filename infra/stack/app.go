package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// featureFlags are the CDK feature flags that change what this stack synthesizes,
// set in code so that `cdk synth` and the tests build the same template. Values are
// the ones aws-cdk-lib 2.270.0 recommends for new projects.
var featureFlags = map[string]any{
	"@aws-cdk/core:checkSecretUsage":                          true,
	"@aws-cdk/core:target-partitions":                         []any{"aws", "aws-cn"},
	"@aws-cdk/core:enablePartitionLiterals":                   true,
	"@aws-cdk/core:validateSnapshotRemovalPolicy":             true,
	"@aws-cdk/core:includePrefixInUniqueNameGeneration":       true,
	"@aws-cdk/core:explicitStackTags":                         true,
	"@aws-cdk/core:aspectPrioritiesMutating":                  true,
	"@aws-cdk/aws-iam:minimizePolicies":                       true,
	"@aws-cdk/aws-iam:importedRoleStackSafeDefaultPolicyName": true,
	"@aws-cdk/aws-kms:aliasNameRef":                           true,
	"@aws-cdk/aws-kms:reduceCrossAccountRegionPolicyScope":    true,
	"@aws-cdk/aws-s3:createDefaultLoggingPolicy":              true,
	"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy":         true,
	"@aws-cdk/aws-s3:publicAccessBlockedByDefault":            true,
	"@aws-cdk/aws-lambda:useCdkManagedLogGroup":               true,
	"@aws-cdk/aws-events:requireEventBusPolicySid":            true,
	"@aws-cdk/aws-sns-subscriptions:restrictSqsDescryption":   true,
	// Usage telemetry stays off for a security tool.
	"@aws-cdk/core:enableAdditionalMetadataCollection": false,
}

// NewApp returns the CDK app with this stack's feature flags and the cdk-nag
// AwsSolutions checks applied, so every synthesis (CLI or test) is checked.
// outdir may be empty: the CDK CLI then supplies it through CDK_OUTDIR.
func NewApp(outdir string) awscdk.App {
	ctx := map[string]any{}
	for k, v := range featureFlags {
		ctx[k] = v
	}
	props := &awscdk.AppProps{
		Context:            &ctx,
		AnalyticsReporting: jsii.Bool(false),
	}
	if outdir != "" {
		props.Outdir = jsii.String(outdir)
	}
	app := awscdk.NewApp(props)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return app
}
