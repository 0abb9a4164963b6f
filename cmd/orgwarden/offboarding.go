package main

import (
	"context"
	"io"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
)

// offboardingFunction is the offboarding Lambda as the CLI sees it.
func offboardingFunction() lambdaFunction {
	return lambdaFunction{
		name:  offboard.Function,
		about: "removes a departing person's keys, memberships, invites and membership (SQS: HR events)",
		handler: func(ctx context.Context, env config.Lookup, out io.Writer) (any, error) {
			h, err := offboard.FromEnv(ctx, env, app.Options{Out: out})
			if err != nil {
				return nil, err
			}
			return h.Handle, nil
		},
		deleting: offboardingJob,
	}
}
