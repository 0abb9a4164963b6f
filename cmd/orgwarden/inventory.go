package main

import (
	"context"
	"encoding/json"
	"io"

	"github.com/orgwarden/orgwarden/functions/inventory/snapshot"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
)

// inventoryFunction is the inventory Lambda as the CLI sees it. It changes
// nothing in the organization: `orgwarden run inventory` takes today's
// snapshot (there is no preview to make).
func inventoryFunction() lambdaFunction {
	return lambdaFunction{
		name:  snapshot.Function,
		about: "writes a point-in-time snapshot of the organization to the audit bucket (schedule, daily)",
		handler: func(ctx context.Context, env config.Lookup, out io.Writer) (any, error) {
			h, err := snapshot.FromEnv(ctx, env, app.Options{Out: out})
			if err != nil {
				return nil, err
			}
			return h.Handle, nil
		},
		run: runInventory,
	}
}

// runInventory is `orgwarden run inventory`: one snapshot, its summary as
// JSON on stdout, logs on stderr.
func runInventory(ctx context.Context, env config.Lookup, args []string, stdout, stderr io.Writer) error {
	c := &cli{stdout: stdout, stderr: stderr, env: env}
	fs := c.flags("run inventory", "run inventory")
	if err := parse(fs, args); err != nil {
		return err
	}
	h, err := snapshot.FromEnv(ctx, env, app.Options{Out: stderr})
	if err != nil {
		return err
	}
	res, err := h.Run(ctx)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if eerr := enc.Encode(res); eerr != nil && err == nil {
		err = eerr
	}
	return err
}
