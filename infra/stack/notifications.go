package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/summaryrule"
)

// SummaryPattern is the rule's event pattern (infra/summaryrule).
var SummaryPattern = summaryrule.Pattern

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
