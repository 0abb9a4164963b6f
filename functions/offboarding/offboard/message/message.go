// Package message parses the offboarding requests that arrive on the
// offboarding queue. HR systems deliver them in several envelopes: the
// request itself (raw), an EventBridge event carrying it in detail, an SNS
// notification carrying either in Message, and Okta's own System Log event
// user.lifecycle.deactivate from an EventBridge partner event source.
//
// Parsing is strict. A request that would act on the wrong person, or that
// a typo turned from a dry run into a real one ("dryrun": true), must be
// rejected with a reason a human can act on, not guessed at: unknown fields,
// duplicate fields, wrong types and malformed emails are all errors.
package message

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/orgwarden/orgwarden/shared/logging"
)

// Limits on what a request may carry. SQS bodies are at most 1 MiB.
const (
	MaxBodyBytes  = 1 << 20
	maxEmail      = 254
	maxLocalPart  = 64
	maxUserID     = 128
	maxTicket     = 128
	maxReason     = 1024
	maxNesting    = 3 // SNS carrying an EventBridge event carrying a request
	oktaEventType = "user.lifecycle.deactivate"
)

// Kind says which shape carried the person's identity.
type Kind string

// Kinds of request.
const (
	KindRaw  Kind = "raw"  // orgwarden's own request format
	KindOkta Kind = "okta" // Okta System Log user.lifecycle.deactivate
)

// Request is one validated offboarding request.
type Request struct {
	// Email is the person's email as given, trimmed. Compare it with
	// strings.EqualFold or use NormalizedEmail.
	Email string `json:"email"`
	// UserID, when given, must be the id of the organization user with
	// Email; a mismatch is refused rather than resolved.
	UserID      string    `json:"user_id,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Ticket      string    `json:"ticket,omitempty"`
	RequestedAt time.Time `json:"requested_at,omitzero"`
	DryRun      bool      `json:"dry_run,omitempty"`

	Kind Kind `json:"kind"`
	// Via lists the envelopes around the request, outermost first, e.g.
	// ["sns", "eventbridge"]; empty for a raw body.
	Via []string `json:"via,omitempty"`
	// EventID is the id the source gave the event (Okta's uuid), stable
	// across redeliveries and duplicates of the same event.
	EventID string `json:"event_id,omitempty"`
}

// NormalizedEmail is the email in lower case: the Admin API compares
// emails without regard to case.
func (r Request) NormalizedEmail() string { return strings.ToLower(r.Email) }

// RequestKey identifies this request among the person's offboardings: the
// ticket when there is one, else the source's event id, else a digest of
// who and when. Redeliveries and duplicates of one request share it.
func (r Request) RequestKey() string {
	switch {
	case r.Ticket != "":
		return slug(r.Ticket)
	case r.EventID != "":
		return slug(r.EventID)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", r.NormalizedEmail(), r.UserID)
	if !r.RequestedAt.IsZero() {
		h.Write([]byte(r.RequestedAt.UTC().Format(time.RFC3339Nano)))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// slug keeps a request key readable in an S3 key: lower-case letters,
// digits, '.', '_' and '-'. When that loses information, a digest of the
// original keeps distinct tickets apart.
func slug(s string) string {
	var b strings.Builder
	lossy := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteByte('-')
			lossy = true
		}
	}
	out := b.String()
	if len(out) > 64 {
		out, lossy = out[:64], true
	}
	if lossy || out == "" || strings.Trim(out, ".") == "" {
		sum := sha256.Sum256([]byte(s))
		out += "-" + hex.EncodeToString(sum[:4])
	}
	return out
}

// Error is a request that can never succeed as sent. Reason says why, for
// the dead-letter queue and the summary; it never contains key material.
type Error struct {
	Reason string
}

func (e *Error) Error() string { return "bad offboarding request: " + e.Reason }

// IsBadInput reports whether err is a parse error.
func IsBadInput(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

func bad(format string, args ...any) error {
	return &Error{Reason: logging.Redact(fmt.Sprintf(format, args...))}
}

// Parse reads one message body.
func Parse(body []byte) (Request, error) {
	if len(body) > MaxBodyBytes {
		return Request{}, bad("body is %d bytes, more than %d", len(body), MaxBodyBytes)
	}
	if !utf8.Valid(body) {
		return Request{}, bad("body is not valid UTF-8")
	}
	return parse(body, nil)
}

func parse(body []byte, via []string) (Request, error) {
	if len(via) > maxNesting {
		return Request{}, bad("envelopes nested more than %d deep (%s)", maxNesting, strings.Join(via, " > "))
	}
	obj, err := decodeObject(body)
	if err != nil {
		return Request{}, bad("%s", err)
	}
	switch {
	case obj.has("Type") && obj.has("Message") && (obj.has("TopicArn") || obj.has("MessageId")):
		return parseSNS(obj, via)
	case obj.has("detail-type") && obj.has("detail") && obj.has("source"):
		return parseEventBridge(obj, via)
	}
	return parseRaw(obj, via, "")
}

// parseSNS unwraps an SNS notification (a subscription without raw
// message delivery). Signature checks are SNS's and SQS's business: the
// queue policy decides who may send.
func parseSNS(obj object, via []string) (Request, error) {
	via = append(via, "sns")
	typ, err := obj.str("Type")
	if err != nil {
		return Request{}, bad("SNS envelope: %s", err)
	}
	if typ != "Notification" {
		return Request{}, bad("SNS message of type %q is not an offboarding request (want Notification)", typ)
	}
	msg, err := obj.str("Message")
	if err != nil {
		return Request{}, bad("SNS envelope: %s", err)
	}
	return parse([]byte(msg), via)
}

// parseEventBridge unwraps an EventBridge event: Okta's System Log events
// from a partner event source, or an orgwarden request in detail.
func parseEventBridge(obj object, via []string) (Request, error) {
	via = append(via, "eventbridge")
	source, err := obj.str("source")
	if err != nil {
		return Request{}, bad("EventBridge envelope: %s", err)
	}
	detail, err := decodeObject(obj["detail"])
	if err != nil {
		return Request{}, bad("EventBridge detail: %s", err)
	}
	if strings.HasPrefix(source, "aws.partner/okta.com") || detail.has("eventType") {
		return parseOkta(detail, via)
	}
	return parseRaw(detail, via, "EventBridge detail: ")
}

// rawFields are the fields of orgwarden's own request format.
var rawFields = map[string]bool{
	"email": true, "user_id": true, "reason": true, "ticket": true,
	"requested_at": true, "dry_run": true, "metadata": true,
}

func parseRaw(obj object, via []string, where string) (Request, error) {
	for name := range obj {
		if !rawFields[name] {
			return Request{}, bad("%sunknown field %q (known: email, user_id, reason, ticket, requested_at, dry_run, metadata)", where, name)
		}
	}
	req := Request{Kind: KindRaw, Via: via}
	if !obj.has("email") || obj.isNull("email") {
		return Request{}, bad("%semail is required", where)
	}
	var err error
	if req.Email, err = obj.str("email"); err != nil {
		return Request{}, bad("%s%s", where, err)
	}
	if req.Email, err = validEmail(req.Email); err != nil {
		return Request{}, bad("%s%s", where, err)
	}
	if req.UserID, err = obj.optStr("user_id", maxUserID); err != nil {
		return Request{}, bad("%s%s", where, err)
	}
	if req.UserID != "" && strings.ContainsFunc(req.UserID, func(r rune) bool { return unicode.IsSpace(r) || r == '/' }) {
		return Request{}, bad("%suser_id %q contains spaces or slashes", where, req.UserID)
	}
	if req.Reason, err = obj.optStr("reason", maxReason); err != nil {
		return Request{}, bad("%s%s", where, err)
	}
	if req.Ticket, err = obj.optStr("ticket", maxTicket); err != nil {
		return Request{}, bad("%s%s", where, err)
	}
	at, err := obj.optStr("requested_at", 64)
	if err != nil {
		return Request{}, bad("%s%s", where, err)
	}
	if at != "" {
		if req.RequestedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return Request{}, bad("%srequested_at %q is not an RFC 3339 time (e.g. 2026-11-23T10:15:00Z)", where, at)
		}
	}
	if obj.has("dry_run") && !obj.isNull("dry_run") {
		if err := json.Unmarshal(obj["dry_run"], &req.DryRun); err != nil {
			return Request{}, bad("%sdry_run must be true or false", where)
		}
	}
	if obj.has("metadata") && !obj.isNull("metadata") {
		if _, err := decodeObject(obj["metadata"]); err != nil {
			return Request{}, bad("%smetadata must be an object", where)
		}
	}
	return req, nil
}

// oktaEvent is the part of an Okta System Log LogEvent that matters here.
// Other fields are Okta's and are ignored.
type oktaEvent struct {
	UUID           string       `json:"uuid"`
	EventType      string       `json:"eventType"`
	Published      string       `json:"published"`
	DisplayMessage string       `json:"displayMessage"`
	Outcome        *oktaOutcome `json:"outcome"`
	Target         []oktaTarget `json:"target"`
}

type oktaOutcome struct {
	Result string `json:"result"`
	Reason string `json:"reason"`
}

type oktaTarget struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
	DisplayName string `json:"displayName"`
}

// parseOkta reads user.lifecycle.deactivate: the person is the one target
// of type User, identified by alternateId (their Okta login, an email).
func parseOkta(detail object, via []string) (Request, error) {
	raw, _ := json.Marshal(detail)
	var ev oktaEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Request{}, bad("Okta event: %s", describeJSONError(err))
	}
	if ev.EventType != oktaEventType {
		return Request{}, bad("Okta event type %q is not an offboarding signal (want %s)", ev.EventType, oktaEventType)
	}
	if ev.Outcome != nil && ev.Outcome.Result != "" && ev.Outcome.Result != "SUCCESS" {
		return Request{}, bad("Okta reports the deactivation's outcome as %q, not SUCCESS", ev.Outcome.Result)
	}
	var users []oktaTarget
	for _, t := range ev.Target {
		if t.Type == "User" {
			users = append(users, t)
		}
	}
	if len(users) != 1 {
		return Request{}, bad("Okta event names %d targets of type User, want exactly 1", len(users))
	}
	email, err := validEmail(users[0].AlternateID)
	if err != nil {
		return Request{}, bad("Okta target alternateId: %s", err)
	}
	if ev.UUID == "" {
		return Request{}, bad("Okta event has no uuid")
	}
	req := Request{Email: email, Kind: KindOkta, Via: via, EventID: ev.UUID,
		Reason: "Okta user.lifecycle.deactivate"}
	if msg := printable(ev.DisplayMessage); msg != "" {
		req.Reason += ": " + truncate(msg, maxReason/2)
	}
	if ev.Published != "" {
		if req.RequestedAt, err = time.Parse(time.RFC3339Nano, ev.Published); err != nil {
			return Request{}, bad("Okta published %q is not an RFC 3339 time", ev.Published)
		}
	}
	return req, nil
}

// validEmail accepts the dot-atom addresses directories issue
// (local@domain.tld) and nothing looser: no display names, comments,
// quoted local parts or IP-literal domains.
func validEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errors.New("email is empty")
	case len(s) > maxEmail:
		return "", fmt.Errorf("email is longer than %d characters", maxEmail)
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || strings.Contains(domain, "@") {
		return "", fmt.Errorf("email %q must contain exactly one @", s)
	}
	if local == "" || len(local) > maxLocalPart || strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return "", fmt.Errorf("email %q has an invalid local part", s)
	}
	for _, r := range local {
		if !(isAlnum(r) || strings.ContainsRune("!#$%&'*+/=?^_`{|}~.-", r)) {
			return "", fmt.Errorf("email %q has an invalid character %q in its local part", s, r)
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "", fmt.Errorf("email %q needs a domain with a dot", s)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return "", fmt.Errorf("email %q has an invalid domain", s)
		}
		for _, r := range l {
			if !isAlnum(r) && r != '-' {
				return "", fmt.Errorf("email %q has an invalid character %q in its domain", s, r)
			}
		}
	}
	if tld := labels[len(labels)-1]; strings.ContainsFunc(tld, func(r rune) bool { return r >= '0' && r <= '9' }) && !strings.HasPrefix(tld, "xn--") {
		return "", fmt.Errorf("email %q has a numeric top-level domain", s)
	}
	return s, nil
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// printable replaces control characters with spaces and trims the result.
func printable(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// object is a JSON object's members, undecoded.
type object map[string]json.RawMessage

func (o object) has(name string) bool { _, ok := o[name]; return ok }

func (o object) isNull(name string) bool {
	return bytes.Equal(bytes.TrimSpace(o[name]), []byte("null"))
}

// str reads a required string member.
func (o object) str(name string) (string, error) {
	var s string
	if err := json.Unmarshal(o[name], &s); err != nil || !o.has(name) {
		return "", fmt.Errorf("%s must be a string", name)
	}
	return s, nil
}

// optStr reads an optional string member (absent or null is ""), at most
// max bytes, without control characters.
func (o object) optStr(name string, max int) (string, error) {
	if !o.has(name) || o.isNull(name) {
		return "", nil
	}
	s, err := o.str(name)
	if err != nil {
		return "", err
	}
	s = strings.TrimSpace(s)
	if len(s) > max {
		return "", fmt.Errorf("%s is longer than %d bytes", name, max)
	}
	if strings.ContainsFunc(s, unicode.IsControl) {
		return "", fmt.Errorf("%s contains control characters", name)
	}
	return s, nil
}

// decodeObject decodes one JSON object, refusing duplicate member names
// (encoding/json would silently keep the last: {"dry_run": true,
// "dry_run": false} must not be guessed at) and trailing data.
func decodeObject(b []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not JSON: %s", describeJSONError(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	obj := object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not JSON: %s", describeJSONError(err))
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("not JSON: %s", describeJSONError(err))
		}
		if obj.has(name) {
			return nil, fmt.Errorf("field %q appears twice", name)
		}
		obj[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("not JSON: %s", describeJSONError(err))
	}
	if rest := bytes.TrimSpace(b[dec.InputOffset():]); len(rest) > 0 {
		return nil, errors.New("trailing data after the JSON object")
	}
	return obj, nil
}

// describeJSONError keeps encoding/json's message but not the offending
// input, which may be anything.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf("%s has the wrong type (%s, want %s)", typ.Field, typ.Value, typ.Type)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return err.Error()
}
