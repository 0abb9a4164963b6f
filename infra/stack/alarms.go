package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/infra/fnenv"
)

// AlarmEmailParameter is the deploy-time parameter naming who receives alarms.
const AlarmEmailParameter = "AlarmEmail"

// MetricsNamespace and the Function dimension are the functions' EMF contract
// (docs/architecture.md, "Metrics").
const (
	MetricsNamespace = "Orgwarden"
	FunctionDim      = "Function"
)

// alarms creates the encrypted alarm topic and the alarms: errors of every function,
// DLQ depth, audit export lag and foreign objects, rotation failures and
// deletion caps hit.
func (b *builder) alarms() {
	s, cfg := b.stack, b.cfg
	lower := strings.ToLower(cfg.StackName)

	// CloudWatch cannot publish to a topic under the AWS-managed SNS key, hence a
	// customer managed key whose policy lets CloudWatch use it for this account.
	key := b.newKey("AlarmTopicKey", "orgwarden: encrypts the alarm and summary topics", "alarms")
	// EventBridge publishes run summaries to a topic under the same key.
	for sid, service := range map[string]string{"CloudWatchAlarmsPublish": "cloudwatch.amazonaws.com", "EventBridgeSummariesPublish": "events.amazonaws.com"} {
		key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(sid),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(service), nil)},
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey"),
			Resources:  jsii.Strings("*"), // in a key policy, "*" is this key
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": *s.Account()}},
		}), nil)
	}
	b.topicKey = key

	topic := awssns.NewTopic(s, jsii.String("AlarmTopic"), &awssns.TopicProps{
		TopicName:   jsii.String(lower + "-alarms"),
		DisplayName: jsii.String("orgwarden alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  jsii.Strings(*topic.TopicArn()),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": *s.Account()}},
	}))
	// The first address is a deploy-time parameter: with none configured,
	// CloudFormation asks for it instead of deploying alarms nobody receives.
	emailProps := &awscdk.CfnParameterProps{
		Type:                  jsii.String("String"),
		Description:           jsii.String("Email address that receives orgwarden's alarms (it must confirm the subscription)"),
		AllowedPattern:        jsii.String(`^[^@\s]+@[^@\s]+\.[^@\s]+$`),
		ConstraintDescription: jsii.String("an email address"),
	}
	if len(cfg.Alarms.Emails) > 0 {
		emailProps.Default = cfg.Alarms.Emails[0]
	}
	email := awscdk.NewCfnParameter(s, jsii.String(AlarmEmailParameter), emailProps)
	topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(email.ValueAsString(), nil))
	for _, e := range cfg.Alarms.Emails[min(1, len(cfg.Alarms.Emails)):] {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
	}
	b.alarmTopic = topic
	action := awscloudwatchactions.NewSnsAction(topic)

	add := func(id, name, description string, props *awscloudwatch.AlarmProps) {
		props.AlarmName = jsii.String(lower + "-" + name)
		props.AlarmDescription = jsii.String(description)
		awscloudwatch.NewAlarm(s, jsii.String(id), props).AddAlarmAction(action)
	}
	fiveMinutes := awscdk.Duration_Minutes(jsii.Number(5))

	for _, name := range fnenv.Functions {
		add(constructIDs[name]+"ErrorsAlarm", name+"-errors", "orgwarden "+name+" failed (Lambda Errors)", &awscloudwatch.AlarmProps{
			Metric: b.fns[name].fn.MetricErrors(&awscloudwatch.MetricOptions{
				Period: fiveMinutes, Statistic: jsii.String("Sum"),
			}),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}

	dlqs := []struct {
		id, name, description string
		queue                 awssqs.Queue
	}{
		{"OffboardingDlqAlarm", "offboarding-dlq", "Offboarding messages reached the dead-letter queue: someone may still have access", b.offboardingDLQ},
		{"ScheduleDlqAlarm", "schedule-dlq", "EventBridge Scheduler could not start a job; see the schedule dead-letter queue", b.scheduleDLQ},
		{"FailedRunsAlarm", "failed-runs", "A scheduled run failed after Lambda's retries; its event and error are in the failed-runs queue", b.failedRuns},
	}
	for _, d := range dlqs {
		add(d.id, d.name, d.description, &awscloudwatch.AlarmProps{
			Metric: d.queue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
				Period: fiveMinutes, Statistic: jsii.String("Maximum"),
			}),
			Threshold:          jsii.Number(0),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}

	// A request waiting this long is not being processed (function failing,
	// throttled, or its mapping disabled): someone who left still has access.
	oldest, _ := config.ParseDuration(cfg.Offboarding.OldestMessageAlarm) // validated
	add("OffboardingAgeAlarm", "offboarding-oldest-message", "An offboarding request has waited more than "+cfg.Offboarding.OldestMessageAlarm+" in the queue", &awscloudwatch.AlarmProps{
		Metric: b.offboardingQueue.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{
			Period: fiveMinutes, Statistic: jsii.String("Maximum"),
		}),
		Threshold:          jsii.Number(oldest.Seconds()),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})

	lag, _ := config.ParseDuration(cfg.AuditExport.LagAlarmThreshold) // validated
	// The alarm watches how far the export is complete (ExportCoverageAgeSeconds),
	// not the age of the newest event (ExportLagSeconds), which grows whenever the
	// organization is quiet. Missing data is breaching: an export that stopped
	// running reports nothing at all.
	add("AuditExportLagAlarm", "auditexport-lag", "The audit export is complete only up to more than "+cfg.AuditExport.LagAlarmThreshold+" ago, or has stopped reporting", &awscloudwatch.AlarmProps{
		Metric:             b.metric(fnenv.AuditExport, "ExportCoverageAgeSeconds", "Maximum", awscdk.Duration_Hours(jsii.Number(1))),
		Threshold:          jsii.Number(lag.Seconds()),
		EvaluationPeriods:  jsii.Number(2),
		DatapointsToAlarm:  jsii.Number(2),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
	})

	counters := []struct {
		id, name, function, metric, description string
	}{
		{"RotationFailuresAlarm", "keyrotation-rotation-failures", fnenv.KeyRotation, "RotationFailures", "A secret rotation step failed"},
		{"KeySweepCapAlarm", "keyrotation-cap-exceeded", fnenv.KeyRotation, "CapExceeded", "The key sweep stopped: more deletions than maxDeletions"},
		{"InviteCleanupCapAlarm", "invitecleanup-cap-exceeded", fnenv.InviteCleanup, "CapExceeded", "The invite cleanup stopped: more deletions than maxDeletions"},
		// Something other than this export wrote an object at a key it was
		// about to write (a forgery, or a second export into the same prefix):
		// the export wrote elsewhere and is complete, but someone must look.
		{"AuditExportForeignObjectAlarm", "auditexport-foreign-objects", fnenv.AuditExport, "ForeignObjects", "The audit export found an object it had not written at a key it was about to write (runbook: foreign object)"},
		{"DetectionErrorsAlarm", "auditexport-detection-errors", fnenv.AuditExport, "DetectionErrors", "Detection on the audit stream failed (the export itself is unaffected); the next run evaluates the same events again"},
	}
	for _, c := range counters {
		add(c.id, c.name, c.description, &awscloudwatch.AlarmProps{
			Metric:             b.metric(c.function, c.metric, "Sum", fiveMinutes),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}
}

// metric is one of the functions' EMF metrics.
func (b *builder) metric(function, name, statistic string, period awscdk.Duration) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:     jsii.String(MetricsNamespace),
		MetricName:    jsii.String(name),
		DimensionsMap: &map[string]*string{FunctionDim: jsii.String(function)},
		Statistic:     jsii.String(statistic),
		Period:        period,
	})
}
