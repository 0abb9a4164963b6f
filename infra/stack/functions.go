package stack

import (
	"fmt"
	"path"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/infra/fnenv"
)

// function is one Lambda function with the role and log group it alone uses.
type function struct {
	fn       awslambda.Function
	role     awsiam.Role
	logGroup awslogs.LogGroup
}

// constructIDs name each function's constructs (and so its CloudFormation logical ids).
var constructIDs = map[string]string{
	fnenv.KeyRotation:   "KeyRotation",
	fnenv.InviteCleanup: "InviteCleanup",
	fnenv.AuditExport:   "AuditExport",
	fnenv.Offboarding:   "Offboarding",
	fnenv.Inventory:     "Inventory",
}

var descriptions = map[string]string{
	fnenv.KeyRotation:   "orgwarden: rotates the admin and service-account key secrets and sweeps stale API keys",
	fnenv.InviteCleanup: "orgwarden: deletes pending invites older than the configured age",
	fnenv.AuditExport:   "orgwarden: exports OpenAI audit logs to the audit bucket",
	fnenv.Offboarding:   "orgwarden: removes departing people from the organization (SQS)",
	fnenv.Inventory:     "orgwarden: writes a daily snapshot of the organization to the audit bucket",
}

// functionConfig returns the per-function settings of fn.
func functionConfig(cfg config.Config, fn string) config.Function {
	switch fn {
	case fnenv.KeyRotation:
		return cfg.KeyRotation.Function
	case fnenv.InviteCleanup:
		return cfg.InviteCleanup.Function
	case fnenv.AuditExport:
		return cfg.AuditExport.Function
	case fnenv.Inventory:
		return cfg.Inventory.Function
	default:
		return cfg.Offboarding.Function
	}
}

// functions creates the four functions and grants each one its own resources only.
func (b *builder) functions(zips map[string]string) error {
	res := fnenv.Resources{
		AdminKeySecretARN:   *b.adminKey.Secret.SecretArn(),
		SummaryBusName:      *b.summaryBus.EventBusName(),
		AuditBucket:         *b.auditBucket.BucketName(),
		AuditStateBucket:    *b.stateBucket.BucketName(),
		AuditKMSKeyARN:      *b.auditKey.KeyArn(),
		AuditStateKMSKeyARN: *b.stateKey.KeyArn(),
		JournalBucket:       *b.stateBucket.BucketName(),
		ReportBucket:        *b.stateBucket.BucketName(),
		DLQURL:              *b.offboardingDLQ.QueueUrl(),
		// Names, known at synthesis: the list stays short (fnenv.For measures it).
		ManagedSecretARNs: fnenv.ManagedSecretIDs(b.cfg),
	}
	if b.readOnlyAdminKey != nil {
		res.ReadOnlyAdminKeySecretARN = *b.readOnlyAdminKey.Secret.SecretArn()
	}
	b.logsKey = b.newKey("LogsKey", "orgwarden: encrypts the functions' log groups (they hold people's emails)", "logs")
	b.logsKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchLogsOfTheseFunctions"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logs."+*b.stack.Region()+".amazonaws.com"), nil)},
		Actions: jsii.Strings("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo",
			"kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"),
		Resources: jsii.Strings("*"), // in a key policy, "*" is this key
		Conditions: &map[string]any{"ArnLike": map[string]any{
			"kms:EncryptionContext:aws:logs:arn": "arn:" + *b.stack.Partition() + ":logs:" + *b.stack.Region() + ":" + *b.stack.Account() +
				":log-group:/aws/lambda/" + b.cfg.FunctionName("*"),
		}},
	}), nil)

	b.fns = map[string]*function{}
	for _, name := range fnenv.Functions {
		env, err := fnenv.For(name, b.cfg, res)
		if err != nil {
			return fmt.Errorf("environment of %s: %w", name, err)
		}
		b.fns[name] = b.newFunction(name, env, zips[name])
	}

	// Every function publishes its run summary; none may publish anywhere else.
	for _, name := range fnenv.Functions {
		b.fns[name].role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("events:PutEvents"),
			Resources: jsii.Strings(*b.summaryBus.EventBusArn()),
		}))
	}
	// Every function writes its full run report under its own folder of the
	// report prefix in the state bucket (shared/summary), and reads nothing there.
	for _, name := range fnenv.Functions {
		role := b.fns[name].role
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("s3:PutObject"),
			Resources: jsii.Strings(*b.stateBucket.ArnForObjects(jsii.String(fnenv.ReportPrefix + name + "/*"))),
		}))
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("kms:GenerateDataKey"),
			Resources:  jsii.Strings(*b.stateKey.KeyArn()),
			Conditions: b.s3ViaService(),
		}))
	}
	// Admin keys are granted in grantAdminKeys, once keyrotation's rotation
	// grant exists.

	// auditexport: this organization's data objects and digests in the audit
	// bucket (no delete, no bucket configuration, create-only by bucket policy),
	// and its one checkpoint object in the state bucket, under the state key.
	// Objects over 5 MiB go up in parts; a failed upload is aborted
	// (AbortMultipartUpload discards parts, never a stored object).
	export := b.fns[fnenv.AuditExport]
	data, digests, checkpoint := b.exportKeys()
	evidence := []string{data + "*", digests + "*"}
	if b.cfg.AuditExport.Detect.Enabled {
		// Detection's findings (and their ASFF documents), create-only too.
		evidence = append(evidence, b.findingsPrefix()+"*")
	}
	for _, st := range b.objectStatementsFor(b.auditBucket, b.auditKey, evidence, evidence, "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload") {
		export.role.AddToPolicy(st)
	}
	// Beside the checkpoint, the probe object the export writes once per
	// container to prove the bucket honours conditional writes.
	state := []string{checkpoint, path.Join(path.Dir(checkpoint), fnenv.ConditionalWriteProbe)}
	lists := state
	if b.cfg.AuditExport.Detect.Enabled {
		// Detection keeps its window state beside the checkpoint, and reads
		// (only reads) the offboarding journal for activity after removal.
		state = append(state, path.Join(path.Dir(checkpoint), "detect.json"))
		lists = append(slices.Clone(state), b.cfg.Offboarding.JournalPrefix+"*")
		export.role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("s3:GetObject"),
			Resources: jsii.Strings(*b.stateBucket.ArnForObjects(jsii.String(b.cfg.Offboarding.JournalPrefix + "*"))),
		}))
	}
	for _, st := range b.objectStatementsFor(b.stateBucket, b.stateKey, state, lists, "s3:GetObject", "s3:PutObject") {
		export.role.AddToPolicy(st)
	}

	// inventory: this organization's table partitions and manifests in the
	// audit bucket, read and written (no delete; conditional writes only,
	// by bucket policy: requireConditionalInventory).
	inv := b.fns[fnenv.Inventory]
	inventory := b.inventoryKeys()
	for _, st := range b.objectStatementsFor(b.auditBucket, b.auditKey, inventory, inventory, "s3:GetObject", "s3:PutObject") {
		inv.role.AddToPolicy(st)
	}

	// offboarding: journals under the journal prefix, bad input straight to its DLQ.
	// List on the prefix makes a missing journal a 404 rather than a 403.
	off := b.fns[fnenv.Offboarding]
	for _, st := range b.objectStatements(b.stateBucket, b.stateKey, b.cfg.Offboarding.JournalPrefix, "s3:GetObject", "s3:PutObject") {
		off.role.AddToPolicy(st)
	}
	off.role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("sqs:SendMessage"),
		Resources: jsii.Strings(*b.offboardingDLQ.QueueArn()),
	}))
	off.fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(b.offboardingQueue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(float64(b.cfg.Offboarding.BatchSize)),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          jsii.Number(float64(b.cfg.Offboarding.MaxConcurrency)),
	}))

	// A scheduled run that still fails after Lambda's two retries lands in
	// the failed-runs queue (alarmed) with its error, instead of vanishing.
	for _, j := range b.scheduledJobs() {
		b.fns[j.function].fn.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
			OnFailure:     awslambdadestinations.NewSqsDestination(b.failedRuns),
			RetryAttempts: jsii.Number(2),
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(1)),
		})
	}
	return nil
}

// exportKeys are the object keys of this organization's export, as
// functions/auditexport/export/layout writes them: the data prefix, the
// digest prefix and the checkpoint key.
func (b *builder) exportKeys() (data, digests, checkpoint string) {
	prefix, org := b.cfg.AuditExport.Prefix, "org_id="+b.cfg.OrgID
	return prefix + "/" + org + "/", prefix + "/_digests/" + org + "/", prefix + "/_state/" + org + "/checkpoint.json"
}

// findingsPrefix is where detection writes findings in the audit bucket
// (functions/auditexport/detect.FindingsPrefix).
func (b *builder) findingsPrefix() string {
	return b.cfg.AuditExport.Prefix + "/_findings/org_id=" + b.cfg.OrgID + "/"
}

// inventoryKeys are the key patterns of this organization's inventory, as
// functions/inventory/snapshot.Layout writes them: every table's
// partitions and the manifests.
func (b *builder) inventoryKeys() []string {
	root, org := b.cfg.Inventory.Prefix+"/inventory/", "org_id="+b.cfg.OrgID+"/"
	return []string{root + "table=*/" + org + "*", root + "_manifests/" + org + "*"}
}

// newFunction creates function name: arm64 on provided.al2023 running the bootstrap
// from zip, with a role that may write to its own log group and nothing else yet.
func (b *builder) newFunction(name string, env map[string]string, zip string) *function {
	s, cfg := b.stack, b.cfg
	id := constructIDs[name]
	fc := functionConfig(cfg, name)
	functionName := cfg.FunctionName(name)

	logGroup := awslogs.NewLogGroup(s, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/lambda/" + functionName),
		Retention:     retention(cfg.LogRetentionDays),
		RemovalPolicy: b.removal(),
	})
	// Set on the resource: the L2 binding would grant logs.amazonaws.com
	// wildcard actions; the key's policy (functions()) names the exact ones.
	logGroup.Node().DefaultChild().(awslogs.CfnLogGroup).SetKmsKeyId(b.logsKey.KeyArn())
	// Own role rather than AWSLambdaBasicExecutionRole, whose log permissions span
	// every log group in the account.
	role := awsiam.NewRole(s, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("orgwarden " + name + " function"),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(*logGroup.LogGroupArn()),
	}))

	environment := map[string]*string{}
	for _, k := range fnenv.Keys(env) {
		environment[k] = jsii.String(env[k])
	}
	timeout, _ := config.ParseDuration(fc.Timeout) // validated
	tracing := awslambda.Tracing_DISABLED
	if cfg.Tracing {
		tracing = awslambda.Tracing_ACTIVE
	}
	props := &awslambda.FunctionProps{
		FunctionName: jsii.String(functionName),
		Description:  jsii.String(descriptions[name]),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(zip), nil),
		MemorySize:   jsii.Number(float64(fc.MemoryMB)),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(timeout.Seconds())),
		Environment:  &environment,
		Role:         role,
		LogGroup:     logGroup,
		Tracing:      tracing,
	}
	if name == fnenv.AuditExport || name == fnenv.Inventory {
		// One run at a time: export runs share the checkpoint; inventory
		// runs of one day write the same keys.
		props.ReservedConcurrentExecutions = jsii.Number(1)
	}
	fn := awslambda.NewFunction(s, jsii.String(id), props)
	return &function{fn: fn, role: role, logGroup: logGroup}
}

var retentionDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

func retention(days int) awslogs.RetentionDays {
	return retentionDays[days] // validated against the same list
}
