package journal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// PreviewDir is where, below the journal prefix, requests received while
// the function ran in dry run wait to be replayed (orgwarden replay). It
// sits under the journal prefix so the function's write access covers it,
// and outside the <yyyy>/ layout of records so restore never reads one.
const PreviewDir = "previews/"

// Preview states.
const (
	PreviewPending  = "pending"  // received in dry run; not yet replayed
	PreviewReplayed = "replayed" // replayed live; Replay says how
)

// Preview is a request the function received in dry run: kept so that it
// is not lost, and replayed, through the same handler, once the function is
// live.
type Preview struct {
	Version    int    `json:"version"`
	Type       string `json:"type"` // "preview"
	Key        string `json:"key"`
	Email      string `json:"email"`
	RequestKey string `json:"request_key"`
	State      string `json:"state"`
	// Body is the message as received, key material masked: replay parses
	// it exactly as the handler parsed it.
	Body        string    `json:"body"`
	MessageID   string    `json:"message_id"`
	SentAt      time.Time `json:"sent_at,omitzero"`
	FirstSeenAt time.Time `json:"first_seen_at"`
	LastSeenAt  time.Time `json:"last_seen_at"`
	Deliveries  int       `json:"deliveries"`
	// Outcome is what the dry run found (dry_run, not_found); Planned how
	// many items it would have removed.
	Outcome RunOutcome `json:"outcome"`
	Planned int        `json:"planned"`
	Replay  *Replay    `json:"replay,omitempty"`
	// Checksum: as Record.Checksum.
	Checksum string `json:"checksum,omitempty"`
}

// Replay is how a preview was replayed.
type Replay struct {
	At      time.Time  `json:"at"`
	RunID   string     `json:"run_id"`
	Outcome RunOutcome `json:"outcome"`
	Journal string     `json:"journal,omitempty"`
}

// PreviewKey is the key of the preview of a request: as Key, under
// <prefix>previews/, so deliveries of one request share one preview.
func PreviewKey(prefix string, requestedAt time.Time, email, requestKey string) string {
	return Key(prefix+PreviewDir, requestedAt, email, requestKey)
}

func sumPreview(p *Preview) (string, error) {
	c := *p
	c.Checksum = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("encode preview: %w", err)
	}
	return sha256Hex(b), nil
}

// SavePreview records one delivery of a request received in dry run: a new
// preview, or one more delivery of a known one (a replayed preview stays
// replayed). Concurrent writers are retried with If-Match.
func (s *Store) SavePreview(ctx context.Context, p Preview) error {
	for range maxConflicts {
		cur, etag, err := s.loadPreview(ctx, p.Key)
		if err != nil {
			return err
		}
		next := p
		next.Version, next.Type, next.State, next.Deliveries = Version, "preview", PreviewPending, 1
		next.FirstSeenAt = p.LastSeenAt
		if cur != nil {
			next = *cur
			next.LastSeenAt, next.Deliveries = p.LastSeenAt, cur.Deliveries+1
			next.Outcome, next.Planned = p.Outcome, p.Planned
		}
		err = s.putPreview(ctx, &next, etag)
		if err == nil || !isConflict(err) {
			return err
		}
	}
	return fmt.Errorf("write preview %s: %w", s.Location(p.Key), ErrConflict)
}

// MarkReplayed records a preview's replay, if nobody changed it since it
// was listed (etag).
func (s *Store) MarkReplayed(ctx context.Context, e PreviewEntry, r Replay) error {
	p := *e.Preview
	p.State, p.Replay = PreviewReplayed, &r
	return s.putPreview(ctx, &p, e.etag)
}

func (s *Store) putPreview(ctx context.Context, p *Preview, etag string) error {
	sum, err := sumPreview(p)
	if err != nil {
		return err
	}
	p.Checksum = sum
	body, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode preview: %w", err)
	}
	in := &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(p.Key), Body: bytes.NewReader(body),
		ContentType: aws.String("application/json"), Metadata: map[string]string{MetaChecksum: sum}}
	if etag == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(etag)
	}
	if _, err := s.S3.PutObject(ctx, in); err != nil {
		return fmt.Errorf("write preview %s: %w", s.Location(p.Key), err)
	}
	return nil
}

// loadPreview reads and verifies a preview; nil when there is none.
func (s *Store) loadPreview(ctx context.Context, key string) (*Preview, string, error) {
	obj, err := s.get(ctx, key, "preview")
	if err != nil || obj == nil {
		return nil, "", err
	}
	var p Preview
	if err := json.Unmarshal(obj.body, &p); err != nil || p.Type != "preview" || p.Version != Version {
		return nil, "", fmt.Errorf("read preview %s: %w: not an offboarding preview", s.Location(key), ErrUntrusted)
	}
	sum, err := sumPreview(&p)
	switch {
	case err != nil:
		return nil, "", err
	case p.Checksum == "" || sum != p.Checksum || metaValue(obj.meta, MetaChecksum) != sum:
		return nil, "", fmt.Errorf("read preview %s: %w: its checksum does not match (edited after it was written)", s.Location(key), ErrUntrusted)
	case p.Key != key:
		return nil, "", fmt.Errorf("read preview %s: %w: it is the preview of %s", s.Location(key), ErrUntrusted, p.Key)
	}
	return &p, obj.etag, nil
}

// PreviewEntry is a preview as listed, with what MarkReplayed needs.
type PreviewEntry struct {
	Preview *Preview
	// Err: the object under the previews prefix failed verification; it is
	// reported, never replayed.
	Err  error
	Key  string
	etag string
}

// Previews lists every preview under <prefix>previews/, oldest key first,
// each verified.
func (s *Store) Previews(ctx context.Context, prefix string) ([]PreviewEntry, error) {
	var out []PreviewEntry
	p := s3.NewListObjectsV2Paginator(s.S3, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(prefix + PreviewDir)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list previews in s3://%s/%s%s: %w", s.Bucket, prefix, PreviewDir, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if !strings.HasSuffix(key, ".json") {
				continue
			}
			pv, etag, err := s.loadPreview(ctx, key)
			if err == nil && pv == nil {
				continue // deleted since listed
			}
			out = append(out, PreviewEntry{Preview: pv, Err: err, Key: key, etag: etag})
		}
	}
	return out, nil
}
