package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsschedulertargets"
	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/infra/fnenv"
)

// scheduledJob is a function run on an EventBridge Scheduler schedule.
type scheduledJob struct {
	function string
	job      string
	schedule config.Schedule
}

func (b *builder) scheduledJobs() []scheduledJob {
	return []scheduledJob{
		{fnenv.KeyRotation, "keysweep", b.cfg.KeyRotation.Schedule},
		{fnenv.InviteCleanup, "invitecleanup", b.cfg.InviteCleanup.Schedule},
		{fnenv.AuditExport, "auditexport", b.cfg.AuditExport.Schedule},
		{fnenv.Inventory, "inventory", b.cfg.Inventory.Schedule},
	}
}

// schedules creates one schedule per scheduled job in a group of their own, so the
// Scheduler role's trust policy can name that group. Deliveries that still fail
// after the retries land in the schedule DLQ, which has an alarm.
func (b *builder) schedules() {
	s := b.stack
	lower := strings.ToLower(b.cfg.StackName)
	group := awsscheduler.NewScheduleGroup(s, jsii.String("ScheduleGroup"), &awsscheduler.ScheduleGroupProps{
		ScheduleGroupName: jsii.String(lower),
	})
	b.schedulerRoles = map[string]awsiam.Role{}
	for _, j := range b.scheduledJobs() {
		window := awsscheduler.TimeWindow_Off()
		if j.schedule.FlexibleWindowMinutes > 0 {
			window = awsscheduler.TimeWindow_Flexible(awscdk.Duration_Minutes(jsii.Number(float64(j.schedule.FlexibleWindowMinutes))))
		}
		// Our own role per schedule (the target would otherwise create one) so that
		// its trust is limited to this account's orgwarden schedule group.
		role := awsiam.NewRole(s, jsii.String(constructIDs[j.function]+"SchedulerRole"), &awsiam.RoleProps{
			Description: jsii.String("EventBridge Scheduler: start orgwarden " + j.job),
			AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
				Conditions: &map[string]any{"StringEquals": map[string]any{
					"aws:SourceAccount": *s.Account(),
					"aws:SourceArn":     *group.ScheduleGroupArn(),
				}},
			}),
		})
		b.schedulerRoles[j.function] = role
		// The target grants this role lambda:InvokeFunction on the function and
		// sqs:SendMessage on the schedule DLQ, nothing more.
		target := awsschedulertargets.NewLambdaInvoke(b.fns[j.function].fn, &awsschedulertargets.ScheduleTargetBaseProps{
			Role:            role,
			DeadLetterQueue: b.scheduleDLQ,
			// A run that could not start within the hour is superseded by the next one.
			MaxEventAge:   awscdk.Duration_Hours(jsii.Number(1)),
			RetryAttempts: jsii.Number(20),
			Input:         awsscheduler.ScheduleTargetInput_FromText(jsii.String(fnenv.ScheduleInput)),
		})
		schedule := awsscheduler.NewSchedule(s, jsii.String(constructIDs[j.function]+"Schedule"), &awsscheduler.ScheduleProps{
			ScheduleName:  jsii.String(lower + "-" + j.job),
			Description:   jsii.String("orgwarden " + j.job),
			ScheduleGroup: group,
			Schedule:      awsscheduler.ScheduleExpression_Expression(jsii.String(j.schedule.Expression), awscdk.TimeZone_Of(jsii.String(j.schedule.Timezone))),
			TimeWindow:    window,
			Enabled:       jsii.Bool(j.schedule.Enabled),
			Target:        target,
		})
		// The schedule names its group rather than referencing it.
		schedule.Node().AddDependency(group)
	}
}
