package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/orgwarden/orgwarden/functions/auditexport/detect"
	"github.com/orgwarden/orgwarden/functions/auditexport/export"
	"github.com/orgwarden/orgwarden/shared/awsconfig"
	"github.com/orgwarden/orgwarden/shared/config"
)

// detectCommand is `orgwarden detect`: the detection rules run over the
// exported history (a backtest: nothing is written or published).
func (c *cli) detectCommand() command {
	return command{"run the detection rules over the exported audit history (backtest; writes nothing)", c.detectCmd}
}

func (c *cli) detectCmd(ctx context.Context, args []string) error {
	r := config.NewReader(c.env)
	dcfg := detect.ReadConfig(r)
	fs := c.flags("detect", "detect --since DATE [--until DATE] [--bucket BUCKET] [--prefix PREFIX] [--org ORG_ID] [--rule ID]... [--output table|json|csv]")
	since := fs.String("since", "", "evaluate events from this date (2025-01-01), RFC 3339 time or unix seconds (required)")
	until := fs.String("until", "", "up to this time (default now)")
	bucket := fs.String("bucket", r.String("ORGWARDEN_AUDIT_BUCKET", ""), "the export's bucket (default $ORGWARDEN_AUDIT_BUCKET)")
	prefix := fs.String("prefix", r.String("ORGWARDEN_AUDIT_PREFIX", export.DefaultPrefix), "the export's key prefix")
	org := fs.String("org", r.String("ORGWARDEN_ORG_ID", ""), "the organization (default $ORGWARDEN_ORG_ID)")
	output := fs.String("output", "table", "table, json or csv")
	var only stringList
	fs.Var(&only, "rule", "run only this rule (repeatable; default every rule)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case *since == "":
		return fmt.Errorf("%w: --since is required", errUsage)
	case *bucket == "":
		return fmt.Errorf("%w: --bucket (or ORGWARDEN_AUDIT_BUCKET) is required", errUsage)
	case *org == "":
		return fmt.Errorf("%w: --org (or ORGWARDEN_ORG_ID) is required", errUsage)
	case *output != "table" && *output != "json" && *output != "csv":
		return fmt.Errorf("%w: --output %q: want table, json or csv", errUsage, *output)
	}
	req, err := export.EventOptions{Since: *since, Until: *until}.Request()
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	var rules []detect.Rule
	for _, id := range only {
		rule, ok := detect.RuleByID(id)
		if !ok {
			return fmt.Errorf("%w: --rule %q: no such rule", errUsage, id)
		}
		rules = append(rules, rule)
	}
	clients, err := awsconfig.Load(ctx, c.env)
	if err != nil {
		return err
	}
	res, err := detect.Backtest(ctx, clients.S3, detect.BacktestOptions{
		Bucket: *bucket, Prefix: *prefix, OrgID: *org, Since: req.Since, Until: req.Until, Rules: rules, Config: dcfg,
	})
	if err != nil {
		return err
	}
	return writeFindings(c.stdout, *output, res)
}

func writeFindings(w io.Writer, output string, res detect.BacktestResult) error {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"id", "rule", "severity", "first_event_at", "last_event_at", "actor", "actor_email", "ip", "events", "event_ids"})
		for _, f := range res.Findings {
			_ = cw.Write([]string{f.ID, f.Rule, string(f.Severity), f.First, f.Last, f.Actor, f.Email, f.IP,
				fmt.Sprint(len(f.EventIDs)), strings.Join(f.EventIDs, " ")})
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LAST EVENT\tSEVERITY\tRULE\tACTOR\tEVENTS\tFINDING")
	for _, f := range res.Findings {
		actor := f.Actor
		if f.Email != "" {
			actor += " <" + f.Email + ">"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", f.Last, f.Severity, f.Rule, cell(actor), len(f.EventIDs), f.ID)
	}
	_ = tw.Flush()
	_, err := fmt.Fprintf(w, "%d findings in %d events (%d objects)\n", len(res.Findings), res.Events, res.Objects)
	return err
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
