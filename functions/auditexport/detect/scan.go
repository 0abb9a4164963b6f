package detect

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/objects"
)

// readLines streams one data object's lines (gzip JSON Lines, one event
// each) to fn, and returns how many there were. Unlike objects.Read it
// neither hashes the object nor decodes every line: checking the export is
// verify's job, and detection decodes only the events a rule may want.
func readLines(ctx context.Context, client *s3.Client, bucket, key string, fn func(raw []byte) error) (int64, error) {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", key, objects.Classify(err))
	}
	defer out.Body.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(out.Body, 64<<10))
	if err != nil {
		return 0, fmt.Errorf("read %s: gzip: %w", key, err)
	}
	br := bufio.NewReaderSize(zr, 64<<10)
	var n int64
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
				if len(long) > objects.MaxLine {
					return n, fmt.Errorf("read %s: line %d longer than %d bytes", key, n+1, objects.MaxLine)
				}
			}
			line = long
		}
		if len(line) == 0 && errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return n, fmt.Errorf("read %s: line %d: %w", key, n+1, err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			continue
		}
		n++
		if err := fn(line); err != nil {
			return n, err
		}
	}
}

var typeKey = []byte(`"type":`)

// WantsRaw is Wants for an event's raw JSON, without decoding it: an event
// is wanted when any "type" member in it names a type some rule watches
// (the event's own type is one of them; the actor's and api_key's types,
// "session", "api_key", "user", "service_account", never name an event
// type), or when it may be an offboarded person's. False positives are
// decoded and dropped by the rules; there are no false negatives.
func (e *Engine) WantsRaw(raw []byte) bool {
	rest := raw
	for {
		i := bytes.Index(rest, typeKey)
		if i < 0 {
			break
		}
		rest = rest[i+len(typeKey):]
		v := bytes.TrimLeft(rest, " \t")
		if len(v) == 0 || v[0] != '"' {
			continue
		}
		end := bytes.IndexByte(v[1:], '"')
		if end < 0 {
			break
		}
		for _, ri := range e.byType[string(v[1:1+end])] {
			if e.mayMatch(&e.rules[ri], raw) {
				return true
			}
		}
		if bytes.IndexByte(v[1:1+end], '\\') >= 0 {
			return true // an escaped type: decode and see
		}
	}
	return e.Wants("", raw)
}
