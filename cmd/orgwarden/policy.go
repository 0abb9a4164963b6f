package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/orgwarden/orgwarden/functions/policyguard/enforce"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/config"
)

// policyCommand is `orgwarden policy plan|apply|init`: the policy guard
// from a terminal. plan and apply read ORGWARDEN_POLICY as the function
// does; apply is `orgwarden run policyguard` (preview unless --apply).
func (c *cli) policyCommand() command {
	return command{"policy plan | apply | init: the drift from ORGWARDEN_POLICY, its remediation, a starting policy", c.policyCmd}
}

func (c *cli) policyCmd(ctx context.Context, args []string) error {
	usage := "policy plan [--output table|json|csv] | policy apply [--apply [--yes]] [--output ...] | policy init [--out FILE]"
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(c.stdout, "Usage: orgwarden "+usage)
		if len(args) == 0 {
			return fmt.Errorf("%w: name a subcommand (plan, apply, init)", errUsage)
		}
		return nil
	}
	switch args[0] {
	case "plan":
		return c.policyPlan(ctx, args[1:])
	case "apply":
		return c.runCmd(ctx, append([]string{enforce.Function}, args[1:]...))
	case "init":
		return c.policyInit(ctx, args[1:])
	}
	return fmt.Errorf("%w: unknown subcommand %q (plan, apply, init)", errUsage, args[0])
}

// policyPlan prints the findings, expected against actual per project. It
// only reads: the client is in dry-run mode whatever the environment says.
func (c *cli) policyPlan(ctx context.Context, args []string) error {
	fs := c.flags("policy plan", "policy plan [--output table|json|csv]")
	output := fs.String("output", "table", "table, json or csv")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch *output {
	case "table", "text", "json", "csv":
	default:
		return fmt.Errorf("%w: --output %q: want table, json or csv", errUsage, *output)
	}
	r := config.NewReader(c.env)
	cfg := enforce.ReadConfig(r)
	deps, err := app.Load(ctx, enforce.Function, r, app.Options{Out: c.stderr})
	if err != nil {
		return err
	}
	pol, err := enforce.LoadPolicy(ctx, cfg.PolicySource, nil)
	if deps.AWS != nil && deps.AWS.S3 != nil { // an s3:// policy needs it
		pol, err = enforce.LoadPolicy(ctx, cfg.PolicySource, deps.AWS.S3)
	}
	if err != nil {
		return err
	}
	client, err := deps.AdminClient(ctx, true)
	if err != nil {
		return err
	}
	plan, err := enforce.Evaluate(ctx, client, pol)
	if err != nil {
		return err
	}
	return writePlan(c.stdout, plan, *output)
}

func writePlan(w io.Writer, plan *enforce.Plan, output string) error {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		findings := plan.Findings
		if findings == nil {
			findings = []enforce.Finding{}
		}
		return enc.Encode(map[string]any{"projects_scanned": plan.Scanned, "projects_selected": len(plan.Projects), "findings": findings})
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"rule", "kind", "project_id", "project_name", "subject", "expected", "actual", "enforce", "remediable", "note"})
		for _, f := range plan.Findings {
			_ = cw.Write([]string{f.Rule, f.Kind, f.ProjectID, f.ProjectName, f.Subject, f.Expected, f.Actual, fmt.Sprint(f.Enforce), fmt.Sprint(f.Remediable), f.Note})
		}
		cw.Flush()
		return cw.Error()
	}
	projects, fixable := map[string]bool{}, 0
	for _, f := range plan.Findings {
		projects[orOrganization(f.ProjectID)] = true
		if f.Enforce && f.Remediable {
			fixable++
		}
	}
	if len(plan.Findings) == 0 {
		fmt.Fprintf(w, "No drift: %d projects scanned, %d selected; every rule holds.\n", plan.Scanned, len(plan.Projects))
		return nil
	}
	fmt.Fprintf(w, "%d findings in %d places (%d projects scanned, %d selected); %d would be remediated by `orgwarden policy apply --apply`.\n\n",
		len(plan.Findings), len(projects), plan.Scanned, len(plan.Projects), fixable)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tPROJECT\tSETTING\tSUBJECT\tEXPECTED\tACTUAL\tACTION")
	for _, f := range plan.Findings {
		where := f.ProjectName
		if where == "" {
			where = orOrganization(f.ProjectID)
		}
		action := "report"
		if f.Enforce && f.Remediable {
			action = "remediate"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t- %s\t+ %s\t%s\n", f.Rule, where, f.Kind, dash(f.Subject), f.Expected, f.Actual, action)
	}
	return tw.Flush()
}

func orOrganization(projectID string) string {
	if projectID == "" {
		return "(organization)"
	}
	return projectID
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// policyInit writes a report-only policy that describes the organization
// as it is, so a team starts with no drift and tightens rule by rule.
func (c *cli) policyInit(ctx context.Context, args []string) error {
	fs := c.flags("policy init", "policy init [--out FILE]")
	out := fs.String("out", "", "write the policy here (default: standard output); an existing file is refused")
	if err := parse(fs, args); err != nil {
		return err
	}
	deps, err := app.Load(ctx, enforce.Function, config.NewReader(c.env), app.Options{Out: c.stderr})
	if err != nil {
		return err
	}
	client, err := deps.AdminClient(ctx, true)
	if err != nil {
		return err
	}
	pol, err := enforce.Describe(ctx, client)
	if err != nil {
		return err
	}
	body, err := json.MarshalIndent(pol, "", "  ")
	if err != nil {
		return fmt.Errorf("encode policy: %w", err)
	}
	body = append(body, '\n')
	if *out == "" {
		_, err = c.stdout.Write(body)
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("policy init: %w", err)
	}
	if _, err := f.Write(body); err != nil {
		f.Close()
		return fmt.Errorf("policy init: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "wrote %s: a report-only policy of the organization as it is now\n", *out)
	return nil
}
