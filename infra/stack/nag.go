package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/orgwarden/orgwarden/infra/fnenv"
)

// suppressNagFindings records, each with its reason, the cdk-nag AwsSolutions
// findings this stack accepts. Every IAM5 suppression names the exact resource
// pattern it covers, so a new wildcard anywhere else still fails the check.
func (b *builder) suppressNagFindings() {
	suppress := func(scope constructs.IConstruct, id, reason string, appliesTo ...string) {
		s := &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)}
		if len(appliesTo) > 0 {
			list := make([]any, len(appliesTo))
			for i, a := range appliesTo {
				list[i] = a
			}
			s.AppliesTo = &list
		}
		cdknag.NagSuppressions_AddResourceSuppressions(scope, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(true))
	}

	suppress(b.scheduleDLQ, "AwsSolutions-SQS3",
		"This queue is the dead-letter queue of the EventBridge Scheduler schedules (Target.DeadLetterConfig), which the rule does not recognise; a DLQ behind a DLQ would only hide failures, and its depth is alarmed.")

	data, digests, _ := b.exportKeys()
	suppress(b.fns[fnenv.AuditExport].role, "AwsSolutions-IAM5",
		"Data objects and digests get keys derived from the date and generation, known only under this organization's two prefixes; create-only by bucket policy, no delete.",
		"Resource::<"+b.logicalID(b.auditBucket)+".Arn>/"+data+"*",
		"Resource::<"+b.logicalID(b.auditBucket)+".Arn>/"+digests+"*")
	if b.cfg.AuditExport.Detect.Enabled {
		suppress(b.fns[fnenv.AuditExport].role, "AwsSolutions-IAM5",
			"Detection writes one finding per key derived from its id under this organization's findings prefix (create-only by bucket policy, no delete), and only reads the offboarding journal, whose record keys it lists.",
			"Resource::<"+b.logicalID(b.auditBucket)+".Arn>/"+b.findingsPrefix()+"*",
			"Resource::<"+b.logicalID(b.stateBucket)+".Arn>/"+b.cfg.Offboarding.JournalPrefix+"*")
	}
	inv := b.inventoryKeys()
	suppress(b.fns[fnenv.Inventory].role, "AwsSolutions-IAM5",
		"Inventory objects get keys derived from the table and day, under this organization's partitions and manifests only; written conditionally by bucket policy, no delete.",
		"Resource::<"+b.logicalID(b.auditBucket)+".Arn>/"+inv[0],
		"Resource::<"+b.logicalID(b.auditBucket)+".Arn>/"+inv[1])
	suppress(b.failedRuns, "AwsSolutions-SQS3",
		"This queue is the functions' on-failure destination, itself the end of the line; a DLQ behind it would only hide failures, and its depth is alarmed.")
	if b.readOnlyAdminKey != nil && b.readOnlyAdminKey.Created {
		suppress(b.readOnlyAdminKey.Scope, "AwsSolutions-SMG4",
			"Only an organization owner can create a read-only admin key (dashboard), so no function can mint its successor; rotate it by hand.")
	}
	suppress(b.fns[fnenv.Offboarding].role, "AwsSolutions-IAM5",
		"Offboarding writes one journal per person under the journal prefix (keys derived from the request), and reads them back for restore; nothing outside that prefix.",
		"Resource::<"+b.logicalID(b.stateBucket)+".Arn>/"+b.cfg.Offboarding.JournalPrefix+"*")

	for _, name := range fnenv.Functions {
		suppress(b.fns[name].role, "AwsSolutions-IAM5",
			"Each run writes its full report under this function's folder of the report prefix, named by date and run id (unknown in advance); write only, never read back.",
			"Resource::<"+b.logicalID(b.stateBucket)+".Arn>/"+fnenv.ReportPrefix+name+"/*")
	}

	// The Scheduler L2 target grants lambda:InvokeFunction on the function and on
	// its qualified ARNs (versions, aliases): the same function, nothing else.
	for _, j := range b.scheduledJobs() {
		suppress(b.schedulerRoles[j.function], "AwsSolutions-IAM5",
			"EventBridge Scheduler may invoke the scheduled function and its qualified versions or aliases (ARN:*), and no other function.",
			"Resource::<"+b.logicalID(b.fns[j.function].fn)+".Arn>:*")
	}

	if b.cfg.Tracing {
		for _, name := range fnenv.Functions {
			suppress(b.fns[name].role, "AwsSolutions-IAM5",
				"X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions.",
				"Resource::*")
		}
	}
}

// logicalID is the CloudFormation logical id of c's main resource, as cdk-nag
// prints it in appliesTo strings.
func (b *builder) logicalID(c constructs.IConstruct) string {
	el := c.Node().DefaultChild().(awscdk.CfnElement)
	id, _ := b.stack.Resolve(b.stack.GetLogicalId(el)).(string)
	return id
}
