package stack_test

import (
	"slices"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/infra/fnenv"
	"github.com/orgwarden/orgwarden/infra/stack"
)

// statementWithSid returns the statement with sid in the policy of the
// resource at path.
func statementWithSid(t *testing.T, path, sid string) map[string]any {
	t.Helper()
	id := logicalID(t, path)
	for _, s := range statements() {
		if s.resource == id && s.body["Sid"] == sid {
			return s.body
		}
	}
	t.Fatalf("%s has no statement %s", path, sid)
	return nil
}

func TestAuditKeyCannotBeShredded(t *testing.T) {
	s := statementWithSid(t, "AuditKey/Resource", "NoEvidenceShredding")
	want := map[string]any{
		"Sid": "NoEvidenceShredding", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"}, "Resource": "*",
		"Action":    []any{"kms:DeleteImportedKeyMaterial", "kms:DisableKey", "kms:ScheduleKeyDeletion"},
		"Condition": map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": []any{breakGlass}}},
	}
	if canonical(s) != canonical(want) {
		t.Errorf("audit key guard:\n got  %s\n want %s", canonical(s), canonical(want))
	}
	if got := resources[logicalID(t, "AuditKey/Resource")].Properties["PendingWindowInDays"]; got != float64(30) {
		t.Errorf("audit key deletion window %v, want 30 days", got)
	}
}

func TestEvidenceIsCreateOnly(t *testing.T) {
	s := statementWithSid(t, "AuditBucket/Policy/Resource", "EvidenceIsCreateOnly")
	bucket := getAtt(logicalID(t, "AuditBucket/Resource"))
	object := func(key string) map[string]any {
		return map[string]any{"Fn::Join": []any{"", []any{bucket, "/" + key}}}
	}
	prefix := cfg.AuditExport.Prefix + "/"
	want := map[string]any{
		"Sid": "EvidenceIsCreateOnly", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"}, "Action": "s3:PutObject",
		"Resource": []any{object(prefix + "_digests/*"), object(prefix + "_findings/*"), object(prefix + "org_id=*")},
		"Condition": map[string]any{
			"Null": map[string]any{"s3:if-none-match": "true"},
			"Bool": map[string]any{"s3:ObjectCreationOperation": "true"},
		},
	}
	if canonical(s) != canonical(want) {
		t.Errorf("create-only statement:\n got  %s\n want %s", canonical(s), canonical(want))
	}
}

func TestStateBucketTakesOnlyTheStateKey(t *testing.T) {
	s := statementWithSid(t, "StateBucket/Policy/Resource", "StateKeyOnly")
	want := `{"StringNotEqualsIfExists":{"s3:x-amz-server-side-encryption-aws-kms-key-id":` + canonical(getAtt(logicalID(t, "StateKey/Resource"))) + `}}`
	if s["Effect"] != "Deny" || s["Action"] != "s3:PutObject" || canonical(s["Condition"]) != want {
		t.Errorf("state bucket key statement = %s", canonical(s))
	}
}

// TestOnlyConfiguredSendersOffboard: the queue allows each configured source
// and denies SendMessage to every other caller.
func TestOnlyConfiguredSendersOffboard(t *testing.T) {
	path := "OffboardingQueue/Policy/Resource"
	queue := getAtt(logicalID(t, "OffboardingQueue/Resource"))
	senders := cfg.Offboarding.Senders
	deny := statementWithSid(t, path, "OnlyConfiguredSendersOffboard")
	wantDeny := map[string]any{
		"Sid": "OnlyConfiguredSendersOffboard", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"},
		"Action": "sqs:SendMessage", "Resource": queue,
		"Condition": map[string]any{"ArnNotEquals": map[string]any{
			"aws:SourceArn":    []any{senders.EventBridgeRuleArns[0], senders.SnsTopicArns[0]},
			"aws:PrincipalArn": []any{senders.RoleArns[0]},
		}},
	}
	if canonical(deny) != canonical(wantDeny) {
		t.Errorf("deny:\n got  %s\n want %s", canonical(deny), canonical(wantDeny))
	}
	for sid, want := range map[string]string{
		"OffboardingFromEventBridgeRules": `{"Action":"sqs:SendMessage","Condition":{"ArnEquals":{"aws:SourceArn":["` + senders.EventBridgeRuleArns[0] + `"]}},"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},"Resource":` + canonical(queue) + `,"Sid":"OffboardingFromEventBridgeRules"}`,
		"OffboardingFromSnsTopics":        `{"Action":"sqs:SendMessage","Condition":{"ArnEquals":{"aws:SourceArn":["` + senders.SnsTopicArns[0] + `"]}},"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Resource":` + canonical(queue) + `,"Sid":"OffboardingFromSnsTopics"}`,
		"OffboardingFromRoles":            `{"Action":"sqs:SendMessage","Effect":"Allow","Principal":{"AWS":"` + senders.RoleArns[0] + `"},"Resource":` + canonical(queue) + `,"Sid":"OffboardingFromRoles"}`,
	} {
		if got := canonical(statementWithSid(t, path, sid)); got != want {
			t.Errorf("%s:\n got  %s\n want %s", sid, got, want)
		}
	}
}

// TestAdminKeySecrets: both admin-key secrets are under their own key, and
// each denies its value to every principal but the roles that read it.
func TestAdminKeySecrets(t *testing.T) {
	key := canonical(getAtt(logicalID(t, "AdminKeySecretKey/Resource")))
	role := func(fn string) any { return getAtt(logicalID(t, functionPaths[fn]+"Role/Resource")) }
	readers := map[string][]any{
		// keyrotation rotates the read-write key; everything else is in dry run.
		"AdminKey": {breakGlass, role(fnenv.KeyRotation)},
		"ReadOnlyAdminKey": {breakGlass, role(fnenv.KeyRotation), role(fnenv.InviteCleanup), role(fnenv.AuditExport),
			role(fnenv.Offboarding), role(fnenv.Inventory)},
	}
	for path, allowed := range readers {
		r := resources[logicalID(t, path+"/Secret/Resource")]
		if canonical(r.Properties["KmsKeyId"]) != key {
			t.Errorf("%s key = %s, want the admin-key key", path, canonical(r.Properties["KmsKeyId"]))
		}
		found := false
		for _, p := range ofType("AWS::SecretsManager::ResourcePolicy") {
			if canonical(p.Properties["SecretId"]) != canonical(ref(logicalID(t, path+"/Secret/Resource"))) {
				continue
			}
			found = true
			stmts := p.Properties["ResourcePolicy"].(map[string]any)["Statement"].([]any)
			want := map[string]any{
				"Sid": "OnlyOrgwardenReadsTheAdminKey", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"},
				"Action": "secretsmanager:GetSecretValue", "Resource": "*",
				"Condition": map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": allowed}},
			}
			if len(stmts) != 1 || canonical(stmts[0]) != canonical(want) {
				t.Errorf("%s policy:\n got  %s\n want [%s]", path, canonical(stmts), canonical(want))
			}
		}
		if !found {
			t.Errorf("%s has no resource policy", path)
		}
	}
}

func TestOffboardingOperations(t *testing.T) {
	q := resources[logicalID(t, "OffboardingQueue/Resource")].Properties
	visibility, retention := q["VisibilityTimeout"].(float64), q["MessageRetentionPeriod"].(float64)
	receives := q["RedrivePolicy"].(map[string]any)["maxReceiveCount"].(float64)
	if receives < 5 || receives != float64(cfg.Offboarding.MaxReceiveCount) {
		t.Errorf("maxReceiveCount %v", receives)
	}
	// A request is dead-lettered before it can expire unseen.
	if visibility*receives >= retention {
		t.Errorf("%v receives %vs apart outlast the %vs retention", receives, visibility, retention)
	}
	threshold, _ := config.ParseDuration(cfg.Offboarding.OldestMessageAlarm)
	alarm(t, "oldest offboarding request", map[string]any{
		"Namespace":  "AWS/SQS",
		"MetricName": "ApproximateAgeOfOldestMessage",
		"Dimensions": []any{map[string]any{
			"Name": "QueueName", "Value": map[string]any{"Fn::GetAtt": []any{logicalID(t, "OffboardingQueue/Resource"), "QueueName"}},
		}},
		"Threshold":          threshold.Seconds(),
		"ComparisonOperator": "GreaterThanThreshold",
	})
}

func TestLogsKeyAdmitsOnlyTheseLogGroups(t *testing.T) {
	s := statementWithSid(t, "LogsKey/Resource", "CloudWatchLogsOfTheseFunctions")
	cond := canonical(s["Condition"])
	if !contains(cond, `"kms:EncryptionContext:aws:logs:arn"`) || !contains(cond, ":log-group:/aws/lambda/"+cfg.FunctionName("*")) {
		t.Errorf("logs key condition = %s", cond)
	}
	if !contains(canonical(s["Principal"]), "logs.") {
		t.Errorf("logs key principal = %s", canonical(s["Principal"]))
	}
}

func TestScheduledRunsHaveAnOnFailureDestination(t *testing.T) {
	queue := getAtt(logicalID(t, "FailedRunsQueue/Resource"))
	for _, fn := range []string{fnenv.KeyRotation, fnenv.InviteCleanup, fnenv.AuditExport} {
		assert(t, fn+" on-failure destination", func() {
			tpl.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), map[string]any{
				"FunctionName":         ref(logicalID(t, functionPaths[fn]+"/Resource")),
				"MaximumRetryAttempts": 2,
				"DestinationConfig":    map[string]any{"OnFailure": map[string]any{"Destination": queue}},
			})
		})
	}
	assert(t, "four invoke configs", func() { tpl.ResourceCountIs(jsii.String("AWS::Lambda::EventInvokeConfig"), jsii.Number(4)) })
}

func TestSummaryRuleReachesPeople(t *testing.T) {
	topic := logicalID(t, "SummaryTopic/Resource")
	rule := logicalID(t, "SummaryRule")
	r := resources[rule].Properties
	if canonical(r["EventPattern"]) != canonical(stack.SummaryPattern) {
		t.Errorf("pattern = %s", canonical(r["EventPattern"]))
	}
	if canonical(r["EventBusName"]) != canonical(ref(logicalID(t, "SummaryBus/Resource"))) {
		t.Errorf("rule on bus %s", canonical(r["EventBusName"]))
	}
	if canonical(r["Targets"]) != canonical([]any{map[string]any{"Arn": ref(topic), "Id": "SummaryTopic"}}) {
		t.Errorf("targets = %s", canonical(r["Targets"]))
	}
	s := statementWithSid(t, "SummaryTopic/Policy/Resource", "SummaryRulePublishes")
	if canonical(s["Condition"]) != canonical(map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": getAtt(rule)}}) {
		t.Errorf("topic admits %s", canonical(s))
	}
	if canonical(resources[topic].Properties["KmsMasterKeyId"]) != canonical(getAtt(logicalID(t, "AlarmTopicKey/Resource"))) {
		t.Error("summary topic is not encrypted with the topic key")
	}
	for _, want := range []string{`"counts":{"revoked"`, `"counts":{"deleted"`, `"keys":{"cap_exceeded":[true]}`, `"invites":{"cap_exceeded":[true]}`, `"outcome":["failed"`} {
		if !contains(canonical(stack.SummaryPattern), want) {
			t.Errorf("pattern lacks %s", want)
		}
	}
	if !slices.Contains(sortedKeys(parameters), stack.AlarmEmailParameter) {
		t.Error("no alarm email parameter")
	}
}
