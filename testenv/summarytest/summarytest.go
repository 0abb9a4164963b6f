// Package summarytest reads what summary.Publisher published, for tests of
// the functions that publish: the bounded event's orgwarden fields and the
// full report it links to.
package summarytest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/shared/summary"
)

// Meta is what orgwarden adds to every published summary.
type Meta struct {
	Function      string          `json:"function"`
	Changed       bool            `json:"changed"`
	Failed        bool            `json:"failed"`
	CapExceeded   bool            `json:"cap_exceeded"`
	Alerts        []string        `json:"alerts"`
	Report        *summary.Report `json:"report"`
	ReportError   string          `json:"report_error"`
	Truncated     bool            `json:"truncated"`
	LeftOut       int             `json:"left_out"`
	LeftOutByList map[string]int  `json:"left_out_by_list"`
	FieldsLeftOut []string        `json:"fields_left_out"`
}

// ParseMeta reads the orgwarden fields of a published summary.
func ParseMeta(detail []byte) (Meta, error) {
	var m Meta
	if err := json.Unmarshal(detail, &m); err != nil {
		return Meta{}, fmt.Errorf("published summary: %w", err)
	}
	return m, nil
}

// EntrySize is the size of a PutEvents entry carrying detail as EventBridge
// computes it (Time, when set, 14 bytes; Source, DetailType, Detail and
// Resources in UTF-8 bytes), for orgwarden's source and function.
func EntrySize(function string, detail []byte) int {
	return len(summary.Source) + len(summary.DetailType(function)) + len(detail)
}

// Get reads an s3://bucket/key object.
func Get(ctx context.Context, c *s3.Client, uri string) ([]byte, error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	bucket, key, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 {
		return nil, fmt.Errorf("not an s3:// URI: %q", uri)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", uri, err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// CSVRows parses a report's CSV into one map per row, by column name.
func CSVRows(b []byte) ([]map[string]string, error) {
	r := csv.NewReader(bytes.NewReader(b))
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("report CSV: %w", err)
	}
	if len(recs) == 0 || len(recs[0]) == 0 || recs[0][0] != "list" {
		return nil, fmt.Errorf("report CSV: no header starting with \"list\"")
	}
	rows := make([]map[string]string, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		m := make(map[string]string, len(rec))
		for i, c := range recs[0] {
			m[c] = rec[i]
		}
		rows = append(rows, m)
	}
	return rows, nil
}

// CountBy counts rows by list and, when col is not empty, by that column's
// value: key "list" or "list/value".
func CountBy(rows []map[string]string, col string) map[string]int {
	out := map[string]int{}
	for _, r := range rows {
		k := r["list"]
		if col != "" {
			k += "/" + r[col]
		}
		out[k]++
	}
	return out
}
