package stack

import (
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/config"
)

type messagingResources struct {
	offboardingQueue awssqs.Queue
	offboardingDLQ   awssqs.Queue
	scheduleDLQ      awssqs.Queue
	summaryBus       awsevents.EventBus
	alarmTopic       awssns.Topic
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
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(visibilitySeconds(cfg.Offboarding.Function))),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           b.offboardingDLQ,
			MaxReceiveCount: jsii.Number(float64(cfg.Offboarding.MaxReceiveCount)),
		},
	})
	b.scheduleDLQ = awssqs.NewQueue(s, jsii.String("ScheduleDeadLetterQueue"), &awssqs.QueueProps{
		QueueName:       jsii.String(lower + "-schedule-dlq"),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})

	b.summaryBus = awsevents.NewEventBus(s, jsii.String("SummaryBus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(lower + "-summaries"),
		Description:  jsii.String("orgwarden run summaries (one event per job run)"),
	})
}

// visibilitySeconds follows AWS's advice for SQS event sources: six times the
// function timeout, so a message is not redelivered while retries are still running.
func visibilitySeconds(fn config.Function) float64 {
	timeout, _ := config.ParseDuration(fn.Timeout) // validated
	return min(6*timeout, 12*time.Hour).Seconds()
}
