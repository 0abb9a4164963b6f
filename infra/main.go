// Command infra is orgwarden's CDK app (cdk.json: "go run ./infra"). Run it through
// `make synth`, `make diff` or `make deploy`; see infra/README.md.
//
// Configuration comes from CDK context: -c orgwarden.configFile=path.json, an
// "orgwarden" object in cdk.json, or one field at a time with
// -c orgwarden.<field>=value (infra/config).
package main

import (
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"

	"github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/infra/stack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		jsii.Close()
		os.Exit(1)
	}
	jsii.Close()
}

func run() error {
	// The CDK CLI sets CDK_OUTDIR; a bare `go run ./infra` would otherwise
	// synthesize into a temporary directory and print nothing useful.
	outdir := ""
	if os.Getenv("CDK_OUTDIR") == "" {
		outdir = "cdk.out"
	}
	app := stack.NewApp(outdir)

	ctx, ok := app.Node().GetAllContext(nil).(map[string]any)
	if !ok {
		return fmt.Errorf("reading CDK context: unexpected type")
	}
	cfg, err := config.FromContext(ctx)
	if err != nil {
		return err
	}
	if _, err := stack.New(app, cfg); err != nil {
		return err
	}
	app.Synth(nil)
	if outdir != "" {
		fmt.Fprintf(os.Stderr, "infra: cloud assembly written to %s/ (use `make synth` for the CLI's checks)\n", outdir)
	}
	return nil
}
