// Command keyrotation is the keyrotation Lambda function: Secrets Manager
// rotation of OpenAI keys, and the scheduled stale-key sweep. See package
// rotation.
package main

import (
	"context"

	"github.com/orgwarden/orgwarden/functions/keyrotation/rotation"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
	"github.com/orgwarden/orgwarden/shared/lambdamain"
)

func main() {
	lambdamain.Start(rotation.Function, func(ctx context.Context) (func(context.Context, rotation.Event) (*rotation.Result, error), error) {
		h, err := rotation.FromEnv(ctx, config.OSEnv(), app.Options{})
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
