package stack

import (
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/config"
)

type messagingResources struct {
	offboardingQueue awssqs.Queue
	offboardingDLQ   awssqs.Queue
	scheduleDLQ      awssqs.Queue
	// failedRuns receives the scheduled invocations that failed after
	// Lambda's retries (their on-failure destination).
	failedRuns awssqs.Queue
	summaryBus awsevents.EventBus
	alarmTopic awssns.Topic
	// topicKey encrypts the alarm and summary topics.
	topicKey awskms.Key
	// summaryTopic receives the run summaries people should read.
	summaryTopic awssns.Topic
}

// messaging creates the offboarding queue and its DLQ, the DLQ for schedule
// deliveries that fail, and the event bus receiving run summaries.
func (b *builder) messaging() {
	s, cfg := b.stack, b.cfg
	lower := strings.ToLower(cfg.StackName)

	b.offboardingDLQ = awssqs.NewQueue(s, jsii.String("OffboardingDeadLetterQueue"), &awssqs.QueueProps{
		QueueName:       jsii.String(lower + "-offboarding-dlq"),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	b.offboardingQueue = awssqs.NewQueue(s, jsii.String("OffboardingQueue"), &awssqs.QueueProps{
		QueueName:         jsii.String(lower + "-offboarding"),
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(cfg.OffboardingVisibility().Seconds())),
		// Longer than maxReceiveCount visibility timeouts (validated), so a
		// request is dead-lettered before it can expire unseen.
		RetentionPeriod: awscdk.Duration_Seconds(jsii.Number(config.OffboardingRetention.Seconds())),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           b.offboardingDLQ,
			MaxReceiveCount: jsii.Number(float64(cfg.Offboarding.MaxReceiveCount)),
		},
	})
	b.restrictOffboardingSenders()
	b.scheduleDLQ = awssqs.NewQueue(s, jsii.String("ScheduleDeadLetterQueue"), &awssqs.QueueProps{
		QueueName:       jsii.String(lower + "-schedule-dlq"),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	b.failedRuns = awssqs.NewQueue(s, jsii.String("FailedRunsQueue"), &awssqs.QueueProps{
		QueueName:       jsii.String(lower + "-failed-runs"),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})

	b.summaryBus = awsevents.NewEventBus(s, jsii.String("SummaryBus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(lower + "-summaries"),
		Description:  jsii.String("orgwarden run summaries (one event per job run)"),
	})
}

// restrictOffboardingSenders lets only the configured sources send offboarding
// requests: the queue's policy allows them and denies SendMessage to every
// other caller, whatever its IAM policies grant. A request through an allowed
// EventBridge rule or SNS topic carries that source's ARN (aws:SourceArn, set
// by the service, never by the caller); a named role is its aws:PrincipalArn.
// The Deny applies when neither matches; with no sender configured, nobody
// can send.
func (b *builder) restrictOffboardingSenders() {
	q, senders := b.offboardingQueue, b.cfg.Offboarding.Senders
	queueArn := *q.QueueArn()
	allowService := func(sid, service string, arns []string) {
		if len(arns) == 0 {
			return
		}
		q.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(sid),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(service), nil)},
			Actions:    jsii.Strings("sqs:SendMessage"),
			Resources:  jsii.Strings(queueArn),
			Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": arns}},
		}))
	}
	allowService("OffboardingFromEventBridgeRules", "events.amazonaws.com", senders.EventBridgeRuleArns)
	allowService("OffboardingFromSnsTopics", "sns.amazonaws.com", senders.SnsTopicArns)
	if len(senders.RoleArns) > 0 {
		var roles []awsiam.IPrincipal
		for _, arn := range senders.RoleArns {
			roles = append(roles, awsiam.NewArnPrincipal(jsii.String(arn)))
		}
		q.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("OffboardingFromRoles"),
			Principals: &roles,
			Actions:    jsii.Strings("sqs:SendMessage"),
			Resources:  jsii.Strings(queueArn),
		}))
	}

	notAllowed := map[string]any{}
	if sources := append(slices.Clone(senders.EventBridgeRuleArns), senders.SnsTopicArns...); len(sources) > 0 {
		notAllowed["aws:SourceArn"] = sources
	}
	if len(senders.RoleArns) > 0 {
		notAllowed["aws:PrincipalArn"] = senders.RoleArns
	}
	deny := &awsiam.PolicyStatementProps{
		Sid:        jsii.String("OnlyConfiguredSendersOffboard"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("sqs:SendMessage"),
		Resources:  jsii.Strings(queueArn),
	}
	if len(notAllowed) > 0 {
		// Keys under one operator are ANDed; a key absent from the request
		// (no SourceArn for a role, no PrincipalArn for a service) matches
		// a negated operator.
		deny.Conditions = &map[string]any{"ArnNotEquals": notAllowed}
	}
	q.AddToResourcePolicy(awsiam.NewPolicyStatement(deny))
}
