package export

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/checkpoint"
)

// Progress is a snapshot of a running job.
type Progress struct {
	Job     string // checkpoint.Incremental or checkpoint.Backfill
	Events  int64  // events written by this run so far
	Skipped int64  // events skipped as already exported
	Elapsed time.Duration
	Rate    float64 // events per second
	// Fraction is the share of the job's time range paged so far. The ETA
	// extrapolates this run's pace over the rest, assuming events are spread
	// evenly in time; 0 means unknown.
	Fraction float64
	ETA      time.Duration
	Done     bool
}

// String renders p for a terminal line.
func (p Progress) String() string {
	eta := "--"
	switch {
	case p.Done:
		eta = "done"
	case p.ETA > 0:
		eta = "~" + p.ETA.Round(time.Second).String()
	}
	return fmt.Sprintf("%s: %d events (%d already exported), %.0f events/s, %.1f%% of the range, ETA %s",
		p.Job, p.Events, p.Skipped, p.Rate, 100*p.Fraction, eta)
}

// progress tracks how far each slice of a job has paged.
type progress struct {
	r       *run
	kind    string
	start   time.Time
	base    int64 // r.added when the job started
	from    []int64
	to      []int64
	reach   []atomic.Int64
	initial float64
	stop    chan struct{}
	wg      sync.WaitGroup
}

func (r *run) startProgress(ctx context.Context, job *checkpoint.Job) *progress {
	p := &progress{r: r, kind: job.Kind, start: r.x.now(), base: r.added.Load(), stop: make(chan struct{})}
	n := len(job.Slices)
	p.from, p.to, p.reach = make([]int64, n), make([]int64, n), make([]atomic.Int64, n)
	for i, s := range job.Slices {
		p.from[i], p.to[i] = s.From, s.To
		switch {
		case s.Done:
			p.reach[i].Store(s.From)
		case s.After != "":
			p.reach[i].Store(s.Reached)
		default:
			p.reach[i].Store(s.To)
		}
	}
	p.initial = p.fraction()
	if r.req.Progress == nil {
		return p
	}
	every := r.req.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				r.req.Progress(p.snapshot(false))
			}
		}
	}()
	return p
}

// reached records that slice i has paged down to effective_at at.
func (p *progress) reached(i int, at int64) { p.reach[i].Store(at) }

func (p *progress) fraction() float64 {
	var total, done int64
	for i := range p.from {
		total += p.to[i] - p.from[i]
		done += p.to[i] - max(p.from[i], min(p.to[i], p.reach[i].Load()))
	}
	if total <= 0 {
		return 1
	}
	return float64(done) / float64(total)
}

func (p *progress) snapshot(done bool) Progress {
	s := Progress{
		Job:      p.kind,
		Events:   p.r.added.Load() - p.base,
		Skipped:  p.r.dups.Load(),
		Elapsed:  p.r.x.now().Sub(p.start),
		Fraction: p.fraction(),
		Done:     done,
	}
	if secs := s.Elapsed.Seconds(); secs > 0 {
		s.Rate = float64(s.Events) / secs
		if gained := s.Fraction - p.initial; gained > 0 && s.Fraction < 1 {
			s.ETA = time.Duration(float64(s.Elapsed) * (1 - s.Fraction) / gained)
		}
	}
	return s
}

// finish stops the ticker and reports once more.
func (p *progress) finish(complete bool) {
	close(p.stop)
	p.wg.Wait()
	if p.r.req.Progress != nil {
		p.r.req.Progress(p.snapshot(complete))
	}
}
