// Package sweep is the plan-then-apply flow of orgwarden's scheduled
// cleanups (stale keys, stale invites).
//
// Selection adds candidates to a Plan; the Plan asks the guard about every
// candidate as it is added, so whatever the guard refuses never enters the
// list of deletions. The cap is checked on the whole plan before anything is
// applied, and applying calls each deletion through the admin client. The
// dry run differs only there: a dry-run client records the deletion instead
// of sending it. Preview and real run therefore share one selection path, and
// what a preview lists is exactly what the real run deletes.
package sweep

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/guard"
)

// Candidate is something selection found.
type Candidate struct {
	// Subject is what would be changed, as the guard sees it.
	Subject guard.Subject
	// Also are further subjects that must all be allowed for the candidate
	// to be, e.g. the keys that die with a service account.
	Also []guard.Subject
	// Reason says why it was selected; it becomes the change's reason.
	Reason string
	// ReportOnly candidates are listed, never deleted (configuration does
	// not allow deleting them).
	ReportOnly bool
	// Delete deletes it. It is called at most once, and only when the
	// candidate is allowed, not report-only, and the plan is within the cap.
	Delete func(ctx context.Context, reason string) (adminclient.Outcome, error) `json:"-"`
}

// Entry is one line of a run's summary.
type Entry struct {
	Kind      string `json:"kind"`
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	ProjectID string `json:"project_id,omitempty"`
	// Reason is why it was selected, or for a skipped entry why the guard
	// refused it.
	Reason  string              `json:"reason"`
	Outcome adminclient.Outcome `json:"outcome,omitempty"`
	Error   string              `json:"error,omitempty"`
}

// Outcome values of entries beyond adminclient's.
const (
	// Held marks a deletion that was planned but not attempted because the
	// plan exceeded the cap.
	Held adminclient.Outcome = "held_cap_exceeded"
	// Reported marks a report-only entry.
	Reported adminclient.Outcome = "reported"
	// Skipped marks an entry the guard refused.
	Skipped adminclient.Outcome = "skipped"
)

func entryOf(s guard.Subject, reason string) Entry {
	return Entry{Kind: s.Kind, ID: s.ID, Name: s.Name, Email: s.Email, ProjectID: s.ProjectID, Reason: reason}
}

// Plan collects candidates. It is safe for concurrent use, so selection can
// run per project in parallel.
type Plan struct {
	rules guard.Rules

	mu        sync.Mutex
	deletions []Candidate
	reports   []Entry
	skipped   []Entry
}

// NewPlan returns an empty plan that checks candidates against rules.
func NewPlan(rules guard.Rules) *Plan { return &Plan{rules: rules} }

// Add files c as a deletion, a report or a skip. It returns the guard's
// verdict.
func (p *Plan) Add(c Candidate) guard.Verdict {
	v := p.rules.Check(c.Subject)
	for _, s := range c.Also {
		if !v.Allowed {
			break
		}
		if v = p.rules.Check(s); !v.Allowed {
			v.Reason = fmt.Sprintf("%s %s: %s", s.Kind, s.ID, v.Reason)
		}
	}
	if v.Allowed && !c.ReportOnly && c.Delete != nil && !p.rules.Confirmed.Covers(c.Subject) {
		v = guard.Verdict{Reason: fmt.Sprintf("%s %s: was not in the plan confirmed before this run", c.Subject.Kind, c.Subject.ID)}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case !v.Allowed:
		e := entryOf(c.Subject, v.Reason)
		e.Outcome = Skipped
		p.skipped = append(p.skipped, e)
	case c.ReportOnly || c.Delete == nil:
		e := entryOf(c.Subject, c.Reason)
		e.Outcome = Reported
		p.reports = append(p.reports, e)
	default:
		p.deletions = append(p.deletions, c)
	}
	return v
}

// Skip files something selection itself decided to leave alone (e.g. a key
// a managed secret still uses), so the summary says why it was not touched.
func (p *Plan) Skip(s guard.Subject, why string) {
	e := entryOf(s, why)
	e.Outcome = Skipped
	p.mu.Lock()
	p.skipped = append(p.skipped, e)
	p.mu.Unlock()
}

// Result is what applying a plan did.
type Result struct {
	// Deletions lists every planned deletion with its outcome: done,
	// already_done, dry_run, failed, or held_cap_exceeded.
	Deletions []Entry `json:"deletions"`
	Reports   []Entry `json:"reported"`
	Skipped   []Entry `json:"skipped"`
	// CapExceeded says the plan was larger than the cap, so nothing was
	// deleted.
	CapExceeded bool   `json:"cap_exceeded"`
	Cap         int    `json:"cap"`
	CapError    string `json:"cap_error,omitempty"`
}

// Count returns the number of deletions with one of the given outcomes.
func (r Result) Count(outcomes ...adminclient.Outcome) int {
	n := 0
	for _, e := range r.Deletions {
		if slices.Contains(outcomes, e.Outcome) {
			n++
		}
	}
	return n
}

// Failed returns the number of deletions that failed.
func (r Result) Failed() int { return r.Count(adminclient.Failed) }

// Tally is what a run's deletions came to, as its summary counts and
// metrics carry them.
type Tally struct {
	// Done were deleted by this run (never in a dry run).
	Done int
	// Reported were planned and not carried out: listed by a dry run, or
	// held because the plan exceeded the cap.
	Reported int
	Failed   int
}

// TallyOf counts the outcomes of deletion entries. An already_done entry
// counts as none of them.
func TallyOf(deletions ...[]Entry) Tally {
	var t Tally
	for _, es := range deletions {
		for _, e := range es {
			switch e.Outcome {
			case adminclient.Done:
				t.Done++
			case adminclient.Planned, Held:
				t.Reported++
			case adminclient.Failed:
				t.Failed++
			}
		}
	}
	return t
}

func compareSubjects(a, b guard.Subject) int {
	return cmp.Or(cmp.Compare(a.ProjectID, b.ProjectID), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
}

// Apply checks the cap and, within it, calls every deletion with at most
// concurrency calls at a time (at least 1). Above the cap it deletes nothing
// (guard.CheckCap): every deletion is listed as held. Entries are sorted by
// project, kind and id, so a preview and the real run list one plan in one
// order however selection was parallelised. Apply does not
// stop at a failed deletion: each one is independent, and a failure is
// reported in its entry.
func (p *Plan) Apply(ctx context.Context, maxDeletions, concurrency int) Result {
	p.mu.Lock()
	deletions := slices.Clone(p.deletions)
	res := Result{Reports: slices.Clone(p.reports), Skipped: slices.Clone(p.skipped), Cap: maxDeletions}
	p.mu.Unlock()
	slices.SortStableFunc(deletions, func(a, b Candidate) int { return compareSubjects(a.Subject, b.Subject) })
	for _, es := range [][]Entry{res.Reports, res.Skipped} {
		slices.SortStableFunc(es, func(a, b Entry) int {
			return compareSubjects(guard.Subject{ProjectID: a.ProjectID, Kind: a.Kind, ID: a.ID}, guard.Subject{ProjectID: b.ProjectID, Kind: b.Kind, ID: b.ID})
		})
	}

	res.Deletions = make([]Entry, len(deletions))
	for i, c := range deletions {
		res.Deletions[i] = entryOf(c.Subject, c.Reason)
	}
	if err := guard.CheckCap(len(deletions), maxDeletions); err != nil {
		res.CapExceeded, res.CapError = true, err.Error()
		for i := range res.Deletions {
			res.Deletions[i].Outcome = Held
		}
		return res
	}

	sem := make(chan struct{}, max(1, concurrency))
	var wg sync.WaitGroup
	for i, c := range deletions {
		if ctx.Err() != nil {
			res.Deletions[i].Outcome, res.Deletions[i].Error = adminclient.Failed, ctx.Err().Error()
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			outcome, err := c.Delete(ctx, c.Reason)
			res.Deletions[i].Outcome = outcome
			if err != nil {
				res.Deletions[i].Outcome, res.Deletions[i].Error = adminclient.Failed, err.Error()
			}
		}()
	}
	wg.Wait()
	return res
}
