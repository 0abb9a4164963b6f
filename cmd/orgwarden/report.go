package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/sweep"
)

// report is what a deleting job's run comes to, for people (text, table)
// and pipelines (json, csv). It is rendered from the job's own summary, so
// it says nothing the summary does not.
type report struct {
	Job    string
	Target target
	DryRun bool
	RunID  string
	// Scanned says what the run looked at ("42 invites").
	Scanned string
	// Items are everything the run found: to delete, deleted, report only,
	// skipped, held by the cap, failed.
	Items       []item
	CapExceeded bool
	CapError    string
	Errors      []string
	// Summary is the job's own summary: the JSON output.
	Summary any
}

// item is one line of the plan.
type item struct {
	Action string `json:"action"`
	Kind   string `json:"kind"`
	ID     string `json:"id"`
	Name   string `json:"name"`
	Why    string `json:"why"`
	Error  string `json:"error,omitempty"`
}

// Actions, in the order the report lists them.
const (
	actWouldDelete = "would delete"
	actDeleted     = "deleted"
	actGone        = "already gone"
	actFailed      = "failed"
	actHeld        = "held (cap)"
	actReportOnly  = "report only"
	actSkipped     = "skipped"
)

var actionOrder = []string{actWouldDelete, actDeleted, actGone, actFailed, actHeld, actReportOnly, actSkipped}

// itemsOf turns sweep entries into report items.
func itemsOf(entries []sweep.Entry) []item {
	out := make([]item, 0, len(entries))
	for _, e := range entries {
		name := e.Name
		if name == "" {
			name = e.Email
		}
		out = append(out, item{Action: actionOf(e.Outcome), Kind: e.Kind, ID: e.ID, Name: name, Why: e.Reason, Error: e.Error})
	}
	return out
}

func actionOf(outcome adminclient.Outcome) string {
	switch outcome {
	case adminclient.Planned:
		return actWouldDelete
	case adminclient.Done:
		return actDeleted
	case adminclient.AlreadyDone:
		return actGone
	case adminclient.Failed:
		return actFailed
	case sweep.Held:
		return actHeld
	case sweep.Reported:
		return actReportOnly
	case sweep.Skipped:
		return actSkipped
	}
	return string(outcome)
}

// planned returns the items a real run would delete.
func (r *report) planned() []item {
	var out []item
	for _, it := range r.Items {
		if it.Action == actWouldDelete || it.Action == actHeld {
			out = append(out, it)
		}
	}
	return out
}

// counts returns how many items have each action; they add up to
// len(r.Items).
func (r *report) counts() map[string]int {
	n := map[string]int{}
	for _, it := range r.Items {
		n[it.Action]++
	}
	return n
}

func (r *report) write(w io.Writer, output string) error {
	switch output {
	case "json":
		return r.writeJSON(w)
	case "csv":
		return writeCSV(w, r.Items)
	case "table":
		writeTable(w, r.Items)
		return nil
	}
	r.writeText(w)
	return nil
}

// writeText is the report for a person at a terminal.
func (r *report) writeText(w io.Writer) {
	mode := "applied"
	if r.DryRun {
		mode = "preview, nothing changed"
	}
	fmt.Fprintf(w, "%s on organization %s (%s): %s, run %s\n", r.Job, r.Target.Organization, r.Target.BaseURL, mode, r.RunID)
	if r.Scanned != "" {
		fmt.Fprintf(w, "Scanned %s.\n", r.Scanned)
	}
	counts := r.counts()
	var parts []string
	for _, a := range actionOrder {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[a], a))
		}
	}
	if len(r.Items) == 0 {
		fmt.Fprintln(w, "Found nothing to act on.")
	} else {
		fmt.Fprintf(w, "Found %d: %s.\n\n", len(r.Items), strings.Join(parts, ", "))
		writeTable(w, r.Items)
	}
	if r.CapExceeded {
		fmt.Fprintf(w, "\nNothing was deleted: %s\n", r.CapError)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "\nError: %s\n", e)
	}
	if r.DryRun && counts[actWouldDelete] > 0 {
		fmt.Fprintf(w, "\nTo delete them: orgwarden run %s --apply\n", r.Job)
	}
}

func writeTable(w io.Writer, items []item) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ACTION\tKIND\tID\tNAME\tWHY")
	for _, it := range items {
		why := it.Why
		if it.Error != "" {
			why += " (error: " + it.Error + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", it.Action, it.Kind, it.ID, cell(it.Name), cell(why))
	}
	_ = tw.Flush()
}

func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.NewReplacer("\t", " ", "\n", " ").Replace(s)
}

func writeCSV(w io.Writer, items []item) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"action", "kind", "id", "name", "why", "error"})
	for _, it := range items {
		_ = cw.Write([]string{it.Action, it.Kind, it.ID, it.Name, it.Why, it.Error})
	}
	cw.Flush()
	return cw.Error()
}

// writeJSON writes the job's summary as its Lambda publishes it, led by the
// organization and base URL, with every list present ([] when empty).
func (r *report) writeJSON(w io.Writer) error {
	head, err := json.Marshal(r.Target)
	if err != nil {
		return err
	}
	body, err := json.Marshal(withEmptySlices(r.Summary))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.Write(head[:len(head)-1])
	if b := bytes.TrimSpace(body); len(b) > 2 && b[0] == '{' {
		buf.WriteByte(',')
		buf.Write(b[1:])
	} else {
		buf.WriteString(`,"summary":`)
		buf.Write(body)
		buf.WriteByte('}')
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// withEmptySlices returns a copy of v in which every nil slice reachable
// through structs and pointers is empty, so it encodes as [] rather than
// null: a pipeline's `.items | length` must not fail on an empty run.
func withEmptySlices(v any) any {
	if v == nil {
		return nil
	}
	rv := reflect.ValueOf(v)
	cp := reflect.New(rv.Type()).Elem()
	cp.Set(rv)
	fill(cp)
	return cp.Interface()
}

func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			e := reflect.New(v.Elem().Type())
			e.Elem().Set(v.Elem())
			fill(e.Elem())
			v.Set(e)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.CanSet() {
				fill(f)
			}
		}
	case reflect.Slice:
		if v.IsNil() {
			if v.CanSet() {
				v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			}
			return
		}
		cp := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		reflect.Copy(cp, v)
		for i := 0; i < cp.Len(); i++ {
			fill(cp.Index(i))
		}
		v.Set(cp)
	}
}
