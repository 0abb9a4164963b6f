package stack_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/infra/fnenv"
)

func TestOffboardingQueues(t *testing.T) {
	dlq := logicalID(t, "OffboardingDeadLetterQueue/Resource")
	timeout, _ := config.ParseDuration(cfg.Offboarding.Timeout)
	assert(t, "offboarding queue", func() {
		tpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
			"QueueName":            "orgwarden-offboarding",
			"SqsManagedSseEnabled": true,
			"VisibilityTimeout":    6 * timeout.Seconds(),
			"RedrivePolicy": map[string]any{
				"deadLetterTargetArn": getAtt(dlq),
				"maxReceiveCount":     cfg.Offboarding.MaxReceiveCount,
			},
		})
	})
	for _, path := range []string{"OffboardingQueue", "OffboardingDeadLetterQueue", "ScheduleDeadLetterQueue"} {
		r := resources[logicalID(t, path+"/Resource")]
		if r.Properties["SqsManagedSseEnabled"] != true {
			t.Errorf("%s is not encrypted at rest", path)
		}
		assertTLSOnly(t, path+"/Policy/Resource", "sqs:*")
	}
	if got := resources[dlq].Properties["MessageRetentionPeriod"]; got != float64(14*24*3600) {
		t.Errorf("offboarding DLQ retention = %v, want 14 days", got)
	}
}

func TestOffboardingEventSource(t *testing.T) {
	assert(t, "event source mapping", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
			"EventSourceArn":        getAtt(logicalID(t, "OffboardingQueue/Resource")),
			"FunctionName":          ref(logicalID(t, "Offboarding/Resource")),
			"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
			"BatchSize":             cfg.Offboarding.BatchSize,
			"ScalingConfig":         map[string]any{"MaximumConcurrency": cfg.Offboarding.MaxConcurrency},
		})
	})
	assert(t, "one mapping", func() { tpl.ResourceCountIs(jsii.String("AWS::Lambda::EventSourceMapping"), jsii.Number(1)) })
}

func TestSchedules(t *testing.T) {
	assert(t, "four schedules", func() { tpl.ResourceCountIs(jsii.String("AWS::Scheduler::Schedule"), jsii.Number(4)) })
	group := logicalID(t, "ScheduleGroup/Resource")
	scheduleDLQ := logicalID(t, "ScheduleDeadLetterQueue/Resource")
	jobs := []struct {
		fn, job  string
		schedule config.Schedule
	}{
		{fnenv.KeyRotation, "keysweep", cfg.KeyRotation.Schedule},
		{fnenv.InviteCleanup, "invitecleanup", cfg.InviteCleanup.Schedule},
		{fnenv.AuditExport, "auditexport", cfg.AuditExport.Schedule},
	}
	for _, j := range jobs {
		schedule := resources[logicalID(t, functionPaths[j.fn]+"Schedule/Resource")]
		if !contains(canonical(schedule.DependsOn), `"`+group+`"`) {
			t.Errorf("%s schedule does not wait for its group: DependsOn %v", j.job, schedule.DependsOn)
		}
		assert(t, j.job, func() {
			tpl.HasResourceProperties(jsii.String("AWS::Scheduler::Schedule"), map[string]any{
				"Name":                       "orgwarden-" + j.job,
				"GroupName":                  "orgwarden",
				"ScheduleExpression":         j.schedule.Expression,
				"ScheduleExpressionTimezone": j.schedule.Timezone,
				"State":                      "ENABLED",
				"FlexibleTimeWindow": map[string]any{
					"Mode": "FLEXIBLE", "MaximumWindowInMinutes": j.schedule.FlexibleWindowMinutes,
				},
				"Target": map[string]any{
					"Arn":              getAtt(logicalID(t, functionPaths[j.fn]+"/Resource")),
					"RoleArn":          getAtt(logicalID(t, functionPaths[j.fn]+"SchedulerRole/Resource")),
					"DeadLetterConfig": map[string]any{"Arn": getAtt(scheduleDLQ)},
					"RetryPolicy":      map[string]any{"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 20},
					"Input":            fnenv.ScheduleInput,
				},
			})
		})
		// The Scheduler role trusts only this account's orgwarden schedule group.
		role := resources[logicalID(t, functionPaths[j.fn]+"SchedulerRole/Resource")]
		trust := canonical(role.Properties["AssumeRolePolicyDocument"])
		for _, want := range []string{`"scheduler.amazonaws.com"`, `"aws:SourceAccount":{"Ref":"AWS::AccountId"}`, `"aws:SourceArn":` + canonical(getAtt(group))} {
			if !contains(trust, want) {
				t.Errorf("%s scheduler role trust lacks %s: %s", j.job, want, trust)
			}
		}
	}
}

func TestSecrets(t *testing.T) {
	keyRotation := logicalID(t, "KeyRotation/Resource")
	secrets := []struct {
		path, name, typ, schedule string
	}{
		{"AdminKey", cfg.AdminKeySecretName(), "admin_key", cfg.AdminKeySecret.RotationSchedule},
		{"ServiceAccountKey-billing", "orgwarden/service-accounts/billing", "service_account_key", "rate(7 days)"},
	}
	assert(t, "a rotation schedule per secret", func() {
		tpl.ResourceCountIs(jsii.String("AWS::SecretsManager::RotationSchedule"), jsii.Number(len(secrets)+1))
	})
	assert(t, "created secrets only (and the read-only admin key)", func() {
		tpl.ResourceCountIs(jsii.String("AWS::SecretsManager::Secret"), jsii.Number(len(secrets)+1))
	})
	for _, s := range secrets {
		id := logicalID(t, s.path+"/Secret/Resource")
		r := resources[id]
		if r.Properties["Name"] != s.name || r.DeletionPolicy != "Retain" {
			t.Errorf("%s: name %v, deletion policy %q", s.path, r.Properties["Name"], r.DeletionPolicy)
		}
		gen, _ := r.Properties["GenerateSecretString"].(map[string]any)
		var initial map[string]string
		if err := json.Unmarshal([]byte(gen["SecretStringTemplate"].(string)), &initial); err != nil {
			t.Fatalf("%s: initial value: %v", s.path, err)
		}
		if initial["type"] != s.typ || initial["api_key"] != "" {
			t.Errorf("%s: initial value %v: want type %s and no key", s.path, initial, s.typ)
		}
		assert(t, s.path+" rotation", func() {
			tpl.HasResource(jsii.String("AWS::SecretsManager::RotationSchedule"), map[string]any{
				"Properties": map[string]any{
					"SecretId":                  ref(id),
					"RotationLambdaARN":         getAtt(keyRotation),
					"RotationRules":             map[string]any{"ScheduleExpression": s.schedule},
					"RotateImmediatelyOnUpdate": false,
				},
				"DependsOn": []any{logicalID(t, s.path+"/InvokePermission")},
			})
		})
		assert(t, s.path+" invoke permission", func() {
			tpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
				"Action":        "lambda:InvokeFunction",
				"FunctionName":  getAtt(keyRotation),
				"Principal":     "secretsmanager.amazonaws.com",
				"SourceArn":     ref(id),
				"SourceAccount": ref("AWS::AccountId"),
			})
		})
	}
	// A secret created out of band is rotated by ARN, not created.
	assert(t, "existing secret rotation", func() {
		tpl.HasResource(jsii.String("AWS::SecretsManager::RotationSchedule"), map[string]any{
			"Properties": map[string]any{
				"SecretId":          existingSecretArn,
				"RotationLambdaARN": getAtt(keyRotation),
				"RotationRules":     map[string]any{"ScheduleExpression": cfg.AdminKeySecret.RotationSchedule},
			},
			"DependsOn": []any{logicalID(t, "ServiceAccountKey-reporting/InvokePermission")},
		})
	})
	assert(t, "existing secret invoke permission", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
			"FunctionName": getAtt(keyRotation), "Principal": "secretsmanager.amazonaws.com", "SourceArn": existingSecretArn,
		})
	})
	sa := resources[logicalID(t, "ServiceAccountKey-billing/Secret/Resource")]
	if !contains(canonical(sa.Properties), `\"project_id\":\"proj_billing\"`) {
		t.Errorf("service-account secret does not carry its project: %s", canonical(sa.Properties))
	}
}

func TestSummaryBus(t *testing.T) {
	assert(t, "bus", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Events::EventBus"), map[string]any{"Name": "orgwarden-summaries"})
	})
	assert(t, "only one bus", func() { tpl.ResourceCountIs(jsii.String("AWS::Events::EventBus"), jsii.Number(1)) })
}
