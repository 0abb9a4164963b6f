// Command policyguard is the policyguard Lambda function: a scheduled
// comparison of the organization with a declared policy, remediating what
// enforced rules require. See package enforce.
package main

import (
	"context"

	"github.com/orgwarden/orgwarden/functions/policyguard/enforce"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/lambdamain"
	"github.com/orgwarden/orgwarden/shared/sweep"
)

func main() {
	lambdamain.Start(enforce.Function, func(ctx context.Context) (func(context.Context, sweep.ScheduleEvent) (*enforce.Summary, error), error) {
		h, err := enforce.FromEnv(ctx, config.OSEnv(), app.Options{})
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
