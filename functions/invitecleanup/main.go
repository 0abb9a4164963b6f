// Command invitecleanup is the invitecleanup Lambda function: a scheduled
// deletion of stale and expired invites. See package cleanup.
package main

import (
	"context"

	"github.com/orgwarden/orgwarden/functions/invitecleanup/cleanup"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/lambdamain"
	"github.com/orgwarden/orgwarden/shared/sweep"
)

func main() {
	lambdamain.Start(cleanup.Function, func(ctx context.Context) (func(context.Context, sweep.ScheduleEvent) (*cleanup.Summary, error), error) {
		h, err := cleanup.FromEnv(ctx, config.OSEnv(), app.Options{})
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
