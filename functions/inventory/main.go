// Command inventory is the inventory Lambda function: a daily point-in-time
// snapshot of the organization into the audit bucket. See package snapshot.
package main

import (
	"context"

	"github.com/orgwarden/orgwarden/functions/inventory/snapshot"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/lambdamain"
)

func main() {
	lambdamain.Start(snapshot.Function, func(ctx context.Context) (func(context.Context, snapshot.Event) (snapshot.Result, error), error) {
		h, err := snapshot.FromEnv(ctx, config.OSEnv(), app.Options{})
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
