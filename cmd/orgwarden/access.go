package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/orgwarden/orgwarden/functions/inventory/review"
	"github.com/orgwarden/orgwarden/functions/inventory/snapshot"
	"github.com/orgwarden/orgwarden/shared/awsconfig"
	"github.com/orgwarden/orgwarden/shared/config"
)

// reportCommand is `orgwarden report access`: the point-in-time access
// review the inventory's snapshots answer.
func (c *cli) reportCommand() command {
	return command{"report access --as-of DATE: who held which role where on that day, from the inventory", c.reportCmd}
}

func (c *cli) reportCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "access" {
		fs := c.flags("report", "report access --as-of DATE [--project P] [--since DATE] [--output table|json|csv|markdown] [--out DIR]")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fs.Usage()
			return nil
		}
		return fmt.Errorf("%w: report takes a kind of report: access", errUsage)
	}
	r := config.NewReader(c.env)
	fs := c.flags("report access", "report access --as-of DATE [--project P] [--since DATE] [--output table|json|csv|markdown] [--out DIR] [--bucket B] [--org ORG] [--prefix P]")
	asOf := fs.String("as-of", "", "the day to review (YYYY-MM-DD); the newest snapshot on or before it is read")
	since := fs.String("since", "", "count changes from the snapshot on or before this day (default: the snapshot before the one read)")
	project := fs.String("project", "", "only this project (and its members' organization roles)")
	output := fs.String("output", "table", "what to print: table (or text), json, csv or markdown")
	out := fs.String("out", ".", "directory for access-review-<org>-<date>.csv and .md (\"\" writes none)")
	bucket := fs.String("bucket", r.String("ORGWARDEN_AUDIT_BUCKET", ""), "the inventory's bucket (default $ORGWARDEN_AUDIT_BUCKET)")
	org := fs.String("org", r.String("ORGWARDEN_ORG_ID", ""), "the organization (default $ORGWARDEN_ORG_ID)")
	prefix := fs.String("prefix", r.String("ORGWARDEN_INVENTORY_PREFIX", snapshot.DefaultPrefix), "the inventory's key prefix")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	day := func(flag, v string) (time.Time, error) {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: --%s %q: want YYYY-MM-DD", errUsage, flag, v)
		}
		return t, nil
	}
	if *output == "text" { // every other report's name for what a person reads
		*output = "table"
	}
	switch {
	case *asOf == "":
		return fmt.Errorf("%w: --as-of is required", errUsage)
	case *bucket == "" || *org == "":
		return fmt.Errorf("%w: --bucket and --org are required (or ORGWARDEN_AUDIT_BUCKET and ORGWARDEN_ORG_ID)", errUsage)
	case !strings.Contains("table json csv markdown", *output) || *output == "":
		return fmt.Errorf("%w: --output %q: want table, json, csv or markdown", errUsage, *output)
	}
	// The whole day: a snapshot taken at any time that day counts.
	at, err := day("as-of", *asOf)
	if err != nil {
		return err
	}
	opts := review.Options{AsOf: at.Add(24*time.Hour - time.Second), Project: *project}
	if *since != "" {
		if opts.Since, err = day("since", *since); err != nil {
			return err
		}
	}
	clients, err := awsconfig.Load(ctx, c.env)
	if err != nil {
		return err
	}
	rev, err := review.Build(ctx, snapshot.S3Store{Client: clients.S3, Bucket: *bucket},
		snapshot.Layout{Prefix: strings.Trim(*prefix, "/"), OrgID: *org}, opts)
	if err != nil {
		return err
	}
	if *out != "" {
		base := filepath.Join(*out, fmt.Sprintf("access-review-%s-%s", rev.OrgID, rev.AsOf))
		for ext, render := range map[string]func(io.Writer, *review.Review) error{".csv": writeAccessCSV, ".md": writeAccessMarkdown} {
			var b bytes.Buffer
			if err := render(&b, rev); err != nil {
				return err
			}
			if err := os.WriteFile(base+ext, b.Bytes(), 0o644); err != nil {
				return fmt.Errorf("write %s: %w", base+ext, err)
			}
		}
		fmt.Fprintf(c.stderr, "wrote %s.csv and %s.md\n", base, base)
	}
	switch *output {
	case "json":
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rev)
	case "csv":
		return writeAccessCSV(c.stdout, rev)
	case "markdown":
		return writeAccessMarkdown(c.stdout, rev)
	}
	return writeAccessTable(c.stdout, rev)
}

// accessSection is one table of the review, rendered the same way in
// every format.
type accessSection struct {
	title  string
	header []string
	rows   [][]string
}

func accessSections(r *review.Review) []accessSection {
	never := func(s string) string {
		if s == "" {
			return "never"
		}
		return s
	}
	var s []accessSection
	a := accessSection{title: "Roles", header: []string{"project", "project name", "email", "name", "role", "since"}}
	for _, x := range r.Access {
		a.rows = append(a.rows, []string{orOrg(x.ProjectID), x.ProjectName, x.Email, x.Name, x.Role, x.Since})
	}
	k := accessSection{title: "API keys", header: []string{"project", "key", "name", "redacted", "owner type", "owner", "created", "last used"}}
	for _, x := range r.Keys {
		k.rows = append(k.rows, []string{x.ProjectID, x.KeyID, x.Name, x.Redacted, x.OwnerType, x.Owner, x.CreatedAt, never(x.LastUsedAt)})
	}
	sa := accessSection{title: "Service accounts", header: []string{"project", "id", "name", "role", "created", "keys"}}
	for _, x := range r.ServiceAccounts {
		sa.rows = append(sa.rows, []string{x.ProjectID, x.ID, x.Name, x.Role, x.CreatedAt, fmt.Sprint(x.Keys)})
	}
	in := accessSection{title: "Pending invites", header: []string{"id", "email", "role", "projects", "created", "expires"}}
	for _, x := range r.Invites {
		in.rows = append(in.rows, []string{x.ID, x.Email, x.Role, x.Projects, x.CreatedAt, x.ExpiresAt})
	}
	ch := accessSection{title: "Changes since " + orNone(r.Since), header: []string{"change", "project", "subject", "before", "after"}}
	for _, x := range r.Changes {
		ch.rows = append(ch.rows, []string{string(x.Kind), orOrg(x.ProjectID), x.Subject, x.Before, x.After})
	}
	return append(s, a, k, sa, in, ch)
}

func orOrg(p string) string {
	if p == "" {
		return "(organization)"
	}
	return p
}

func orNone(s string) string {
	if s == "" {
		return "(no earlier snapshot)"
	}
	return s
}

func accessTitle(r *review.Review) string {
	t := fmt.Sprintf("Access review of %s as of %s (snapshot %s)", r.OrgID, r.AsOf, r.Snapshot)
	if r.Project != "" {
		t += ", project " + r.Project
	}
	return t
}

func writeAccessTable(w io.Writer, r *review.Review) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, accessTitle(r))
	for _, s := range accessSections(r) {
		fmt.Fprintf(tw, "\n%s (%d)\n", s.title, len(s.rows))
		fmt.Fprintln(tw, strings.ToUpper(strings.Join(s.header, "\t")))
		for _, row := range s.rows {
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
	}
	return tw.Flush()
}

// writeAccessCSV writes one CSV: a section column, then the section's
// columns (each section's header row first).
func writeAccessCSV(w io.Writer, r *review.Review) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"section", "org_id", "as_of", "snapshot", "since"})
	_ = cw.Write([]string{"review", r.OrgID, r.AsOf, r.Snapshot, r.Since})
	for _, s := range accessSections(r) {
		_ = cw.Write(append([]string{"section"}, s.header...))
		for _, row := range s.rows {
			_ = cw.Write(append([]string{s.title}, row...))
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeAccessMarkdown(w io.Writer, r *review.Review) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", accessTitle(r))
	cell := func(s string) string { return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s) }
	for _, s := range accessSections(r) {
		fmt.Fprintf(&b, "\n## %s (%d)\n\n| %s |\n|%s\n", s.title, len(s.rows), strings.Join(s.header, " | "), strings.Repeat("---|", len(s.header)))
		for _, row := range s.rows {
			cells := make([]string, len(row))
			for i, v := range row {
				cells[i] = cell(v)
			}
			fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
