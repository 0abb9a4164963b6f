package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/shared/summary"
)

// SummaryPattern matches the run summaries that reach people: a run that
// changed something, failed, or exceeded a cap. shared/summary has no common
// field saying so, so it matches each function's own fields (docs: the
// functions' summaries) and the outcome of per-message summaries:
//   - keyrotation sweep: counts.revoked, counts.failed, keys.cap_exceeded, errors
//   - invitecleanup: counts.deleted, counts.failed, invites.cap_exceeded, errors
//   - keyrotation rotation step, offboarding: outcome (failed, offboarded,
//     incomplete, refused), error, dead_lettered
//   - auditexport: error
//
// A dry run changes nothing, but its planned deletions held by the cap are
// exactly what an operator must see, so dry runs are not excluded.
var SummaryPattern = map[string]any{
	"source": []any{summary.Source},
	"$or": []any{
		detail("counts", "revoked", positive()),
		detail("counts", "deleted", positive()),
		detail("counts", "failed", positive()),
		detail("keys", "cap_exceeded", []any{true}),
		detail("invites", "cap_exceeded", []any{true}),
		detail("errors", "", exists()),
		detail("error", "", exists()),
		detail("dead_lettered", "", []any{true}),
		detail("outcome", "", []any{"failed", "offboarded", "incomplete", "refused"}),
	},
}

func positive() []any { return []any{map[string]any{"numeric": []any{">", 0}}} }
func exists() []any   { return []any{map[string]any{"exists": true}} }

// detail is {"detail": {field: match}} or {"detail": {field: {sub: match}}}.
func detail(field, sub string, match []any) map[string]any {
	var v any = match
	if sub != "" {
		v = map[string]any{sub: match}
	}
	return map[string]any{"detail": map[string]any{field: v}}
}

// summaryNotifications routes SummaryPattern's summaries from the summary bus
// to an encrypted SNS topic that people subscribe to: email here, or chat by
// subscribing an AWS Chatbot configuration to the SummaryTopicArn output.
func (b *builder) summaryNotifications() {
	if !b.cfg.SummaryNotifications.Enabled {
		return
	}
	s := b.stack
	lower := strings.ToLower(b.cfg.StackName)
	topic := awssns.NewTopic(s, jsii.String("SummaryTopic"), &awssns.TopicProps{
		TopicName:   jsii.String(lower + "-summaries"),
		DisplayName: jsii.String("orgwarden run summaries"),
		MasterKey:   b.topicKey,
		EnforceSSL:  jsii.Bool(true),
	})
	rule := awsevents.NewCfnRule(s, jsii.String("SummaryRule"), &awsevents.CfnRuleProps{
		Name:         jsii.String(lower + "-summaries-to-people"),
		Description:  jsii.String("orgwarden runs that changed something, failed or exceeded a cap"),
		EventBusName: b.summaryBus.EventBusName(),
		EventPattern: SummaryPattern,
		State:        jsii.String("ENABLED"),
		Targets: &[]any{&awsevents.CfnRule_TargetProperty{
			Arn: topic.TopicArn(),
			Id:  jsii.String("SummaryTopic"),
		}},
	})
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("SummaryRulePublishes"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  jsii.Strings(*topic.TopicArn()),
		Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": *rule.AttrArn()}},
	}))
	for _, e := range b.cfg.SummaryNotifications.Emails {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
	}
	b.summaryTopic = topic
}
