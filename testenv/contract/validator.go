package contract

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/orgwarden/orgwarden/shared/logging"
)

// Direction says which half of an exchange broke the contract.
type Direction string

const (
	Request  Direction = "request"
	Response Direction = "response"
)

// Violation is one way an exchange disagreed with the spec.
type Violation struct {
	OperationID string // empty when no operation matches the method and path
	Method      string
	Path        string
	Direction   Direction
	Status      int    // the status the server answered with (0 if the connection was dropped)
	Field       string // what was wrong: "query limit", "body /name", "/data/3/type", "header Retry-After", "status"
	Message     string
	// Rejected marks a request violation that the server refused with a non-2xx
	// status: the client broke the contract and the server enforced it. Tests that
	// send bad requests on purpose get these; they are not failures.
	Rejected bool
}

func (v Violation) String() string {
	op := v.OperationID
	if op == "" {
		op = "(no operation)"
	}
	s := fmt.Sprintf("%s %s %s: %s %d: %s: %s", op, v.Method, v.Path, v.Direction, v.Status, v.Field, v.Message)
	if v.Rejected {
		s += " (rejected by server)"
	}
	return s
}

// Validator checks every request and response passing through Middleware
// against a Spec and keeps the violations and the operations exercised.
// It is safe for concurrent use.
type Validator struct {
	spec     *Spec
	basePath string

	mu         sync.Mutex
	violations []Violation
	coverage   map[string]int
}

// Option configures a Validator.
type Option func(*Validator)

// WithBasePath sets the prefix under which the API is served (default "/v1").
func WithBasePath(p string) Option {
	return func(v *Validator) { v.basePath = strings.TrimSuffix(p, "/") }
}

// NewValidator returns a Validator for spec.
func NewValidator(spec *Spec, opts ...Option) *Validator {
	v := &Validator{spec: spec, basePath: DefaultBasePath, coverage: map[string]int{}}
	for _, o := range opts {
		o(v)
	}
	return v
}

// Violations returns every violation seen so far, in arrival order.
func (v *Validator) Violations() []Violation {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Violation(nil), v.violations...)
}

// Failures returns the violations a test should fail on: every response
// violation, and request violations the server accepted.
func (v *Validator) Failures() []Violation {
	var out []Violation
	for _, x := range v.Violations() {
		if !x.Rejected {
			out = append(out, x)
		}
	}
	return out
}

// Reset forgets violations and coverage.
func (v *Validator) Reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.violations = nil
	v.coverage = map[string]int{}
}

// Coverage returns how many requests reached each operationId.
func (v *Validator) Coverage() map[string]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[string]int, len(v.coverage))
	for k, n := range v.coverage {
		out[k] = n
	}
	return out
}

// Uncovered lists the given operationIds that no request has reached, sorted.
func (v *Validator) Uncovered(operationIDs []string) []string {
	cov := v.Coverage()
	var out []string
	for _, id := range operationIDs {
		if cov[id] == 0 {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func (v *Validator) record(vs ...Violation) {
	if len(vs) == 0 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.violations = append(v.violations, vs...)
}

// Middleware validates traffic to and from next. It buffers each response to
// validate it before passing it on; a handler that hijacks the connection
// (to simulate a reset) is passed through and its response is not validated.
func (v *Validator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			http.Error(w, "read request body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))

		ex := v.checkRequest(r, body)

		// A hijacked connection leaves no response to check; its request is
		// recorded before the handler can drop the connection, so a client
		// that sees the drop also sees the violations.
		rec := &recorder{under: w, header: http.Header{}, onHijack: func() { ex.finish(v, 0) }}
		next.ServeHTTP(rec, r)
		if rec.hijacked {
			return
		}
		if rec.status == 0 && r.Context().Err() != nil {
			ex.finish(v, 0) // the client left before any answer
			return
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		ex.finish(v, rec.status)
		if ex.input != nil {
			v.record(v.checkResponse(ex, rec)...)
		}
		for k, vals := range rec.header {
			w.Header()[k] = vals
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	})
}

// exchange carries what the request check learnt to the response check.
type exchange struct {
	op      string
	method  string
	path    string
	input   *openapi3filter.RequestValidationInput
	pending []Violation
}

func (ex *exchange) finish(v *Validator, status int) {
	for i := range ex.pending {
		ex.pending[i].Status = status
		ex.pending[i].Rejected = status >= 300 || status == 0
	}
	v.record(ex.pending...)
}

func (v *Validator) checkRequest(r *http.Request, body []byte) *exchange {
	ex := &exchange{method: r.Method, path: r.URL.Path}
	vr := r.Clone(r.Context())
	vr.Body = io.NopCloser(bytes.NewReader(body))
	// Route without the base path prefix mismatching: the spec's server is set to /v1.
	if v.basePath != DefaultBasePath {
		vr.URL.Path = DefaultBasePath + strings.TrimPrefix(r.URL.Path, v.basePath)
		vr.URL.RawPath = ""
	}
	route, params, err := v.spec.router.FindRoute(vr)
	if err != nil {
		msg := "no operation in the spec for this method and path"
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			msg = "the spec has this path but not this method"
		}
		ex.pending = append(ex.pending, v.violation(ex, Request, "path", msg))
		return ex
	}
	ex.op = route.Operation.OperationID
	v.mu.Lock()
	v.coverage[ex.op]++
	v.mu.Unlock()

	query, unknown := normalizeQuery(route, vr.URL.Query())
	vr.URL.RawQuery = query.Encode()
	for _, name := range unknown {
		ex.pending = append(ex.pending, v.violation(ex, Request, "query "+name, "parameter not in the spec for this operation"))
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    vr,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			MultiError:          true,
			SkipSettingDefaults: true,
			AuthenticationFunc:  bearerPresent,
		},
	}
	ex.input = input
	if err := openapi3filter.ValidateRequest(r.Context(), input); err != nil {
		for _, e := range flatten(err) {
			field, msg := describe(e)
			ex.pending = append(ex.pending, v.violation(ex, Request, field, msg))
		}
	}
	return ex
}

func (v *Validator) checkResponse(ex *exchange, rec *recorder) []Violation {
	route := ex.input.Route
	status := rec.status
	declared := route.Operation.Responses.Status(status) != nil || route.Operation.Responses.Default() != nil
	var out []Violation
	add := func(field, msg string) {
		x := v.violation(ex, Response, field, msg)
		x.Status = status
		out = append(out, x)
	}
	if status >= 200 && status < 300 && !declared {
		add("status", fmt.Sprintf("%d is not declared for this operation", status))
		return out
	}
	if !declared {
		// The spec declares few error statuses, but says every error body is an ErrorResponse.
		if v.spec.errorSchema != nil {
			for _, e := range flatten(validateJSON(v.spec.errorSchema, rec)) {
				field, msg := describe(e)
				add(field, msg)
			}
		}
		return out
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: ex.input,
		Status:                 status,
		Header:                 rec.header,
		Options:                &openapi3filter.Options{MultiError: true},
	}
	in.SetBodyBytes(rec.body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		for _, e := range flatten(err) {
			field, msg := describe(e)
			add(field, msg)
		}
	}
	return out
}

func validateJSON(schema *openapi3.SchemaRef, rec *recorder) error {
	if ct := rec.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("error body content type %q, want application/json", ct)
	}
	var value any
	if err := json.Unmarshal(rec.body.Bytes(), &value); err != nil {
		return fmt.Errorf("error body is not JSON: %w", err)
	}
	return schema.Value.VisitJSON(value, openapi3.MultiErrors(), openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse())
}

func (v *Validator) violation(ex *exchange, d Direction, field, msg string) Violation {
	return Violation{
		OperationID: ex.op,
		Method:      ex.method,
		Path:        ex.path,
		Direction:   d,
		Field:       logging.Redact(field),
		Message:     logging.Redact(msg),
	}
}

// bearerPresent checks the one security scheme the spec uses: an HTTP bearer
// token must be sent. Whether the token is valid is the server's business.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header.Get("Authorization")
	if !strings.HasPrefix(h, "Bearer ") || strings.TrimSpace(strings.TrimPrefix(h, "Bearer ")) == "" {
		return errors.New("missing bearer token")
	}
	return nil
}

// flatten unpacks kin-openapi's nested multi-errors into single problems.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	var me openapi3.MultiError
	if errors.As(err, &me) && len(me) > 0 {
		// errors.As finds the first MultiError in the chain; keep the wrapper's context.
		var out []error
		for _, e := range me {
			out = append(out, flattenWithin(err, e)...)
		}
		return out
	}
	return []error{err}
}

// flattenWithin keeps the request or response context of the outer error
// (which parameter, which header) for each inner error.
func flattenWithin(outer, inner error) []error {
	var out []error
	var re *openapi3filter.RequestError
	var rse *openapi3filter.ResponseError
	switch {
	case errors.As(outer, &re) && re.Err != nil:
		for _, e := range flatten(inner) {
			out = append(out, &openapi3filter.RequestError{Input: re.Input, Parameter: re.Parameter, RequestBody: re.RequestBody, Reason: re.Reason, Err: e})
		}
	case errors.As(outer, &rse) && rse.Err != nil:
		for _, e := range flatten(inner) {
			out = append(out, &openapi3filter.ResponseError{Input: rse.Input, Reason: rse.Reason, Err: e})
		}
	default:
		out = flatten(inner)
	}
	return out
}

// describe turns one kin-openapi error into a field and a message that never
// includes the offending value (which might be key material).
func describe(err error) (field, msg string) {
	var se *openapi3.SchemaError
	pointer := ""
	if errors.As(err, &se) {
		if p := se.JSONPointer(); len(p) > 0 {
			pointer = "/" + strings.Join(p, "/")
		}
		msg = se.Reason
		if msg == "" {
			msg = "does not match schema keyword " + se.SchemaField
		}
		pointer, msg = locate(pointer, msg)
	}
	var re *openapi3filter.RequestError
	var rse *openapi3filter.ResponseError
	var sre *openapi3filter.SecurityRequirementsError
	switch {
	case errors.As(err, &sre):
		return "header Authorization", "security requirement not met: bearer token missing"
	case errors.As(err, &re):
		switch {
		case re.Parameter != nil:
			field = re.Parameter.In + " " + re.Parameter.Name + pointer
		case re.RequestBody != nil:
			field = "body " + orRoot(pointer)
		default:
			field = "request"
		}
		if msg == "" {
			msg = re.Error()
		}
	case errors.As(err, &rse):
		if name, ok := headerName(rse.Reason); ok {
			field = "header " + name
		} else {
			field = "body " + orRoot(pointer)
		}
		if msg == "" {
			msg = rse.Error()
		}
	case se != nil:
		field = "body " + orRoot(pointer)
	default:
		field, msg = "body", err.Error()
	}
	return field, msg
}

// locate moves the location the JSON Schema 2020-12 validator writes into
// its messages ("at '/data/0': missing property 'id'") into the pointer.
func locate(pointer, msg string) (string, string) {
	if rest, ok := strings.CutPrefix(msg, "error at \""); ok {
		if i := strings.Index(rest, "\": "); i >= 0 {
			msg = rest[i+3:]
		}
	}
	if rest, ok := strings.CutPrefix(msg, "at '"); ok {
		if i := strings.Index(rest, "': "); i >= 0 {
			if pointer == "" {
				pointer = rest[:i]
			}
			msg = rest[i+3:]
		}
	}
	if name, ok := strings.CutPrefix(msg, "missing property '"); ok {
		pointer += "/" + strings.TrimSuffix(name, "'")
	}
	return pointer, msg
}

// headerName pulls X out of kin-openapi's `response header "X" ...` reasons.
func headerName(reason string) (string, bool) {
	rest, ok := strings.CutPrefix(reason, "response header ")
	if !ok {
		return "", false
	}
	return quotedName(rest), true
}

func orRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// quotedName pulls "X" out of kin-openapi's `... header "X" ...` reasons.
func quotedName(s string) string {
	i := strings.IndexByte(s, '"')
	if i < 0 {
		return s
	}
	j := strings.IndexByte(s[i+1:], '"')
	if j < 0 {
		return s
	}
	return s[i+1 : i+1+j]
}

// recorder buffers a response so it can be validated before it is sent.
type recorder struct {
	under    http.ResponseWriter
	header   http.Header
	body     bytes.Buffer
	status   int
	hijacked bool
	onHijack func()
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

// Hijack lets a handler drop the connection through the middleware.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := r.under.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("contract: underlying ResponseWriter cannot hijack")
	}
	conn, rw, err := hj.Hijack()
	if err == nil {
		r.hijacked = true
		r.onHijack()
	}
	return conn, rw, err
}
