// Package metrics writes CloudWatch Embedded Metric Format (EMF) records.
//
// A Lambda function's stdout goes to CloudWatch Logs, which turns EMF lines
// into metrics without any API call, so publishing costs no latency and
// needs no IAM permission. See
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every orgwarden metric.
const Namespace = "Orgwarden"

// Unit is a CloudWatch unit.
type Unit string

// Units orgwarden uses.
const (
	Count        Unit = "Count"
	Seconds      Unit = "Seconds"
	Milliseconds Unit = "Milliseconds"
	Bytes        Unit = "Bytes"
)

// Dim is one extra dimension beyond Function, e.g. {"Kind", "transient"}.
type Dim struct{ Name, Value string }

// Recorder accumulates metrics for one run and writes them with Flush.
// It is safe for concurrent use.
type Recorder struct {
	w        io.Writer
	function string
	now      func() time.Time

	mu     sync.Mutex
	series map[string]*series // by dimension-set key
}

type series struct {
	dims   []Dim
	values map[string]float64
	units  map[string]Unit
	order  []string
}

// New returns a recorder for function that writes to w (stdout in Lambda).
func New(w io.Writer, function string) *Recorder {
	return &Recorder{w: w, function: function, now: time.Now, series: map[string]*series{}}
}

// Add adds v to the named metric (a counter within this run).
func (r *Recorder) Add(name string, v float64, unit Unit, dims ...Dim) {
	r.update(name, unit, dims, func(old float64) float64 { return old + v })
}

// Set records the named metric's value, replacing an earlier one.
func (r *Recorder) Set(name string, v float64, unit Unit, dims ...Dim) {
	r.update(name, unit, dims, func(float64) float64 { return v })
}

// Count is Add with unit Count.
func (r *Recorder) Count(name string, v int, dims ...Dim) { r.Add(name, float64(v), Count, dims...) }

func (r *Recorder) update(name string, unit Unit, dims []Dim, f func(float64) float64) {
	if r == nil {
		return
	}
	key := dimKey(dims)
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.series[key]
	if s == nil {
		s = &series{dims: append([]Dim(nil), dims...), values: map[string]float64{}, units: map[string]Unit{}}
		r.series[key] = s
	}
	if _, ok := s.values[name]; !ok {
		s.order = append(s.order, name)
	}
	s.values[name] = f(s.values[name])
	s.units[name] = unit
}

// Limits of the EMF specification. A document beyond them is dropped by
// CloudWatch without an error anywhere, so the alarms would go blind:
// Flush splits a dimension set's metrics over several lines, and refuses
// (with an error, writing the rest) a series it cannot make valid.
const (
	maxMetricsPerDirective = 100
	maxDimensions          = 30
	maxNameBytes           = 255 // metric and dimension names
	maxDimValueBytes       = 1024
	maxLineBytes           = 256 * 1024 // a CloudWatch Logs event
)

// Flush writes the metrics of each dimension set on one EMF line (more
// when a set has more than 100 metrics) and forgets what it wrote.
func (r *Recorder) Flush() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]string, 0, len(r.series))
	for k := range r.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ts := r.now().UnixMilli()
	var errs []error
	for _, k := range keys {
		s := r.series[k]
		if err := r.check(s); err != nil {
			errs = append(errs, err)
			continue
		}
		for names := range slices.Chunk(s.order, maxMetricsPerDirective) {
			line, err := r.encode(s, names, ts)
			if err == nil && len(line) > maxLineBytes {
				err = fmt.Errorf("metrics line of %d bytes exceeds CloudWatch Logs' %d", len(line), maxLineBytes)
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if _, err := r.w.Write(line); err != nil {
				return fmt.Errorf("write metrics: %w", err)
			}
		}
	}
	r.series = map[string]*series{}
	return errors.Join(errs...)
}

// check refuses a series CloudWatch would drop.
func (r *Recorder) check(s *series) error {
	if len(s.dims)+1 > maxDimensions {
		return fmt.Errorf("metrics %v: %d dimensions, at most %d", s.order, len(s.dims)+1, maxDimensions)
	}
	for _, d := range s.dims {
		if d.Name == "" || len(d.Name) > maxNameBytes || d.Value == "" || len(d.Value) > maxDimValueBytes {
			return fmt.Errorf("metrics %v: dimension %.64q=%.64q: names are 1 to %d bytes, values 1 to %d", s.order, d.Name, d.Value, maxNameBytes, maxDimValueBytes)
		}
	}
	for _, name := range s.order {
		if name == "" || len(name) > maxNameBytes {
			return fmt.Errorf("metric name %.64q: 1 to %d bytes", name, maxNameBytes)
		}
	}
	return nil
}

type metricDef struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

type directive struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
}

func (r *Recorder) encode(s *series, names []string, ts int64) ([]byte, error) {
	dimNames := []string{"Function"}
	doc := map[string]any{"Function": r.function}
	for _, d := range s.dims {
		dimNames = append(dimNames, d.Name)
		doc[d.Name] = d.Value
	}
	defs := make([]metricDef, 0, len(names))
	for _, name := range names {
		defs = append(defs, metricDef{Name: name, Unit: s.units[name]})
		doc[name] = s.values[name]
	}
	doc["_aws"] = map[string]any{
		"Timestamp": ts,
		"CloudWatchMetrics": []directive{{
			Namespace:  Namespace,
			Dimensions: [][]string{dimNames},
			Metrics:    defs,
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode metrics: %w", err)
	}
	return append(b, '\n'), nil
}

func dimKey(dims []Dim) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = d.Name + "=" + d.Value
	}
	return strings.Join(parts, "\x00")
}
