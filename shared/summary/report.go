package summary

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ObjectPutter stores the full report; *s3.Client is one.
type ObjectPutter interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Report is where a run's full report was written.
type Report struct {
	JSON string `json:"json"` // s3://bucket/key.json
	CSV  string `json:"csv"`  // s3://bucket/key.csv
}

// reportKey names a run's report: by function and day, so a lifecycle rule
// or an auditor can find a day's runs, then by run id. Offboarding publishes
// one summary per message under one run id, so a digest of the content
// keeps two messages' reports apart (and makes a retry of the same summary
// write the same object).
func reportKey(prefix, function, runID string, at time.Time, full []byte) string {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if runID == "" {
		runID = "run"
	}
	sum := sha256.Sum256(full)
	return fmt.Sprintf("%s%s/%s/%s-%s", prefix, function, at.UTC().Format("2006/01/02"), runID, hex.EncodeToString(sum[:6]))
}

// writeReport stores the full summary as JSON and its lists as CSV.
func (p *Publisher) writeReport(ctx context.Context, key string, full []byte, tree *object) (Report, error) {
	table, err := csvOf(ownFields(tree))
	if err != nil {
		return Report{}, err
	}
	files := []struct {
		ext, contentType string
		body             []byte
	}{
		{".json", "application/json", full},
		{".csv", "text/csv; charset=utf-8", table},
	}
	for _, f := range files {
		if _, err := p.Reports.PutObject(ctx, &s3.PutObjectInput{
			Bucket:      aws.String(p.ReportBucket),
			Key:         aws.String(key + f.ext),
			Body:        bytes.NewReader(f.body),
			ContentType: aws.String(f.contentType),
		}); err != nil {
			return Report{}, fmt.Errorf("write report s3://%s/%s%s: %w", p.ReportBucket, key, f.ext, err)
		}
	}
	return Report{JSON: "s3://" + p.ReportBucket + "/" + key + ".json", CSV: "s3://" + p.ReportBucket + "/" + key + ".csv"}, nil
}

// CSV flattens the lists of a summary, given as JSON, into one table, as
// the full report's CSV does (see csvOf).
func CSV(summaryJSON []byte) ([]byte, error) {
	tree, err := parse(summaryJSON)
	if err != nil {
		return nil, fmt.Errorf("summary CSV: %w", err)
	}
	return csvOf(tree)
}

// csvOf flattens the lists of a summary (any JSON document) into one table:
// one row per item, the first column naming the list it came from
// ("keys.deletions"), then the union of the items' fields in the order they
// first appear. Lists of plain values (errors) fill a "value" column. A
// field that is itself an object or a list is written as JSON in its cell.
// Scalars outside lists (counts, thresholds) are in the JSON report.
func csvOf(tree any) ([]byte, error) {
	var f flattener
	f.walk(tree, "")
	if f.scalars {
		f.column("value")
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	header := append([]string{"list"}, f.columns...)
	if err := w.Write(header); err != nil {
		return nil, err
	}
	for _, r := range f.rows {
		rec := make([]string, len(header))
		rec[0] = r.list
		for i, c := range f.columns {
			if v, ok := r.cells[c]; ok {
				rec[i+1] = cell(v)
			}
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

type row struct {
	list  string
	cells map[string]any
}

type flattener struct {
	columns []string
	seen    map[string]bool
	rows    []row
	scalars bool
}

func (f *flattener) column(c string) {
	if f.seen == nil {
		f.seen = map[string]bool{}
	}
	if !f.seen[c] {
		f.seen[c] = true
		f.columns = append(f.columns, c)
	}
}

func (f *flattener) walk(v any, path string) {
	switch x := v.(type) {
	case *object:
		for _, k := range x.keys {
			f.walk(x.vals[k], join(path, k))
		}
	case []any:
		for _, e := range x {
			switch item := e.(type) {
			case *object:
				for _, k := range item.keys {
					f.column(k)
				}
				f.rows = append(f.rows, row{list: path, cells: item.vals})
			default:
				f.scalars = true
				f.rows = append(f.rows, row{list: path, cells: map[string]any{"value": item}})
			}
		}
	}
}

// cell renders a value for a spreadsheet. Names and reasons come from the
// organization (anyone can name a key "=HYPERLINK(…)"), so a text cell that
// a spreadsheet would run as a formula is prefixed with a quote.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if x != "" && strings.ContainsRune("=+-@\t\r", rune(x[0])) {
			return "'" + x
		}
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
