package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/fnenv"
)

// outputs are what an operator needs after `cdk deploy`: where to store the admin
// key, where to send offboarding requests, where the audit data is.
func (b *builder) outputs() {
	out := func(id string, value *string, description string) {
		awscdk.NewCfnOutput(b.stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(description)})
	}
	out("AdminKeySecretArn", b.adminKey.Secret.SecretArn(), "Store the admin key here (JSON, see docs/architecture.md) before the first run")
	out("OffboardingQueueUrl", b.offboardingQueue.QueueUrl(), "Send offboarding requests here")
	out("OffboardingDeadLetterQueueUrl", b.offboardingDLQ.QueueUrl(), "Offboarding requests that failed or were malformed")
	out("AuditBucketName", b.auditBucket.BucketName(), "Exported audit logs (Object Lock)")
	out("StateBucketName", b.stateBucket.BucketName(), "Export checkpoint and offboarding journals")
	out("AuditGlueTable", jsii.String(b.cfg.GlueDatabaseName()+"."+b.cfg.AuditExport.GlueTable), "Athena table over the audit logs (and <table>_raw for whole events)")
	out("SummaryBusName", b.summaryBus.EventBusName(), "EventBridge bus receiving run summaries")
	out("AlarmTopicArn", b.alarmTopic.TopicArn(), "Subscribe here for alarms")
	out("FailedRunsQueueUrl", b.failedRuns.QueueUrl(), "Scheduled runs that failed after Lambda's retries, with their error")
	if b.summaryTopic != nil {
		out("SummaryTopicArn", b.summaryTopic.TopicArn(), "Runs that changed something, failed or exceeded a cap (subscribe email or AWS Chatbot)")
	}
	if b.readOnlyAdminKey != nil {
		out("ReadOnlyAdminKeySecretArn", b.readOnlyAdminKey.Secret.SecretArn(), "Store the read-only admin key here (same JSON format)")
	}
	for _, name := range fnenv.Functions {
		out(constructIDs[name]+"FunctionName", b.fns[name].fn.FunctionName(), "Lambda function "+name)
	}
}
