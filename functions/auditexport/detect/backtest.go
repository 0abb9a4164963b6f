package detect

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/layout"
	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
)

// BacktestOptions say which exported history to run the rules over.
type BacktestOptions struct {
	Bucket, Prefix, OrgID string
	// Since and Until bound the events' effective_at (unix seconds,
	// [Since, Until)); Until 0 is now.
	Since, Until int64
	// Rules default to the shipped ones.
	Rules []Rule
	// Config supplies allowed domains, protected projects and the
	// offboarding journal, as the function reads them.
	Config Config
}

// BacktestResult is what a backtest found.
type BacktestResult struct {
	Findings []Finding `json:"findings"`
	Events   int64     `json:"events_evaluated"`
	Objects  int       `json:"objects_read"`
}

// Backtest runs the rules over the exported history in [Since, Until):
// every data object in the day partitions of the range, events outside it
// skipped, all evaluated together from an empty state. Nothing is written
// or published: it shows what a rule would have raised, before it is
// switched on. Objects the export did not write (flagged as foreign by
// verify) are read too, as they sit in the same partitions: run verify
// first.
func Backtest(ctx context.Context, client *s3.Client, o BacktestOptions) (BacktestResult, error) {
	res := BacktestResult{Findings: []Finding{}}
	l, err := layout.New(o.Prefix, o.OrgID)
	if err != nil {
		return res, err
	}
	rules := o.Rules
	if rules == nil {
		rules = Rules
	}
	if err := Validate(rules); err != nil {
		return res, err
	}
	until := o.Until
	if until == 0 {
		until = time.Now().Unix() + 1
	}
	if until <= o.Since {
		return res, fmt.Errorf("until %s is not after since %s", unixTime(until), unixTime(o.Since))
	}
	st := &State{}
	st.init()
	env := Env{AllowedDomains: o.Config.AllowedDomains, ProtectedProjects: o.Config.ProtectedProjects, Offboarded: map[string]int64{}}
	if o.Config.JournalBucket != "" {
		if err := loadJournal(ctx, client, o.Config.JournalBucket, o.Config.JournalPrefix, st.Journal); err != nil {
			return res, err
		}
		for _, p := range st.Journal {
			for _, who := range []string{p.UserID, strings.ToLower(p.Email)} {
				if who != "" && p.At > 0 {
					env.Offboarded[who] = p.At
				}
			}
		}
	}
	engine := NewEngine(rules, env)
	data := objects.NewStore(client, o.Bucket, objects.Options{})
	var evs []Event
	for day := time.Unix(o.Since, 0).UTC().Truncate(24 * time.Hour); day.Unix() < until; day = day.Add(24 * time.Hour) {
		keys, err := listKeys(ctx, client, o.Bucket, l.DayPrefix(day.Unix()))
		if err != nil {
			return res, err
		}
		for _, key := range keys {
			if _, ok := l.ParseDataKey(key); !ok {
				continue
			}
			res.Objects++
			if _, err := data.Read(ctx, key, func(line objects.Line) error {
				if line.EffectiveAt < o.Since || line.EffectiveAt >= until {
					return nil
				}
				res.Events++
				if !engine.Wants(line.Type, line.Raw) {
					return nil
				}
				ev, err := ParseEvent(line.Raw)
				if err != nil {
					return err
				}
				evs = append(evs, ev)
				return nil
			}); err != nil {
				return res, err
			}
		}
	}
	// One batch: the engine orders it by time, so windows form as they
	// would have, run after run.
	for _, f := range engine.Evaluate(st, evs, time.Now()) {
		f.OrgID = o.OrgID
		f.DetectedAt = ""
		res.Findings = append(res.Findings, f)
	}
	slices.SortStableFunc(res.Findings, func(a, b Finding) int { return strings.Compare(a.Last, b.Last) })
	return res, nil
}

func listKeys(ctx context.Context, client *s3.Client, bucket, prefix string) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	return out, nil
}
