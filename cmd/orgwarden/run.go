package main

import (
	"context"
	"fmt"
)

// runCmd runs one job once with the configuration its Lambda uses.
func (c *cli) runCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fs := c.flags("run", "run JOB [--dry-run | --apply [--yes]] [--output text|table|json|csv] [job flags]   (orgwarden run JOB --help for the job's flags)")
		fs.Usage()
		if len(args) == 0 {
			return fmt.Errorf("%w: name a job", errUsage)
		}
		return nil
	}
	fn, err := lookupFunction(args[0])
	if err != nil {
		return err
	}
	if fn.deleting != nil {
		return c.runDeleting(ctx, fn.name, fn.deleting(), args[1:])
	}
	return fn.run(ctx, c.env, args[1:], c.stdout, c.stderr)
}
