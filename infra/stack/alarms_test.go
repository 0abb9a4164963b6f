package stack_test

import (
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/infra/fnenv"
	"github.com/orgwarden/orgwarden/infra/stack"
)

func TestAlarmTopic(t *testing.T) {
	topic := logicalID(t, "AlarmTopic/Resource")
	if got := canonical(resources[topic].Properties["KmsMasterKeyId"]); got != canonical(getAtt(logicalID(t, "AlarmTopicKey/Resource"))) {
		t.Errorf("alarm topic key = %s", got)
	}
	assertTLSOnly(t, "AlarmTopic/Policy/Resource", "sns:Publish")
	// The address is a deploy-time parameter, defaulting to the configured one.
	assert(t, "email subscription", func() {
		tpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
			"Protocol": "email", "Endpoint": ref(stack.AlarmEmailParameter), "TopicArn": ref(topic),
		})
	})
	p := parameters[stack.AlarmEmailParameter]
	if p["Type"] != "String" || p["Default"] != cfg.Alarms.Emails[0] || p["AllowedPattern"] == nil {
		t.Errorf("alarm email parameter = %v", p)
	}
	// CloudWatch must be able to use the topic's key, or alarms are silently dropped.
	keyPolicy := canonical(resources[logicalID(t, "AlarmTopicKey/Resource")].Properties["KeyPolicy"])
	if !contains(keyPolicy, `"Service":"cloudwatch.amazonaws.com"`) {
		t.Errorf("alarm key policy does not admit CloudWatch: %s", keyPolicy)
	}
}

// alarm asserts an alarm on metric (namespace, name, dimensions) notifying the topic.
func alarm(t *testing.T, what string, props map[string]any) {
	t.Helper()
	props["AlarmActions"] = []any{ref(logicalID(t, "AlarmTopic/Resource"))}
	assert(t, what, func() { tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), props) })
}

func TestFunctionErrorAlarms(t *testing.T) {
	for _, fn := range fnenv.Functions {
		alarm(t, fn+" errors", map[string]any{
			"Namespace":          "AWS/Lambda",
			"MetricName":         "Errors",
			"Dimensions":         []any{map[string]any{"Name": "FunctionName", "Value": ref(logicalID(t, functionPaths[fn]+"/Resource"))}},
			"Statistic":          "Sum",
			"Threshold":          1,
			"ComparisonOperator": "GreaterThanOrEqualToThreshold",
		})
	}
}

func TestDeadLetterQueueAlarms(t *testing.T) {
	for _, path := range []string{"OffboardingDeadLetterQueue", "ScheduleDeadLetterQueue", "FailedRunsQueue"} {
		alarm(t, path+" depth", map[string]any{
			"Namespace":  "AWS/SQS",
			"MetricName": "ApproximateNumberOfMessagesVisible",
			"Dimensions": []any{map[string]any{
				"Name": "QueueName", "Value": map[string]any{"Fn::GetAtt": []any{logicalID(t, path+"/Resource"), "QueueName"}},
			}},
			"Threshold":          0,
			"ComparisonOperator": "GreaterThanThreshold",
		})
	}
}

func TestExportLagAlarm(t *testing.T) {
	threshold, _ := config.ParseDuration(cfg.AuditExport.LagAlarmThreshold)
	alarm(t, "export lag", map[string]any{
		"Namespace":          stack.MetricsNamespace,
		"MetricName":         "ExportCoverageAgeSeconds",
		"Dimensions":         []any{map[string]any{"Name": stack.FunctionDim, "Value": fnenv.AuditExport}},
		"Statistic":          "Maximum",
		"Threshold":          threshold.Seconds(),
		"ComparisonOperator": "GreaterThanThreshold",
		// An export that stopped running reports nothing: that must alarm too.
		"TreatMissingData": "breaching",
	})
}

func TestCounterAlarms(t *testing.T) {
	for _, c := range []struct{ fn, metric string }{
		{fnenv.KeyRotation, "RotationFailures"},
		{fnenv.KeyRotation, "CapExceeded"},
		{fnenv.InviteCleanup, "CapExceeded"},
		{fnenv.AuditExport, "ForeignObjects"},
		{fnenv.AuditExport, "DetectionErrors"},
	} {
		alarm(t, c.fn+" "+c.metric, map[string]any{
			"Namespace":          stack.MetricsNamespace,
			"MetricName":         c.metric,
			"Dimensions":         []any{map[string]any{"Name": stack.FunctionDim, "Value": c.fn}},
			"Statistic":          "Sum",
			"Threshold":          1,
			"ComparisonOperator": "GreaterThanOrEqualToThreshold",
			"TreatMissingData":   "notBreaching",
		})
	}
}

func TestEveryAlarmNotifies(t *testing.T) {
	topic := canonical([]any{ref(logicalID(t, "AlarmTopic/Resource"))})
	alarms := ofType("AWS::CloudWatch::Alarm")
	if len(alarms) != 15 {
		t.Errorf("%d alarms, want 15 (5 function errors, 2 DLQs, failed runs, oldest offboarding request, lag, foreign objects, rotation failures, 2 caps, detection errors)", len(alarms))
	}
	for id, a := range alarms {
		if canonical(a.Properties["AlarmActions"]) != topic {
			t.Errorf("alarm %s does not notify the alarm topic", id)
		}
	}
}
