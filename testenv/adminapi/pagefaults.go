package adminapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// PageMode is a way a list page goes wrong while staying spec-valid: every
// list's first_id and last_id are optional and nullable, and nothing in the
// spec promises that a cursor advances or that a list ends. A client must
// treat each as an incomplete answer, never as the end of the list.
type PageMode int

const (
	// PageNoCursor leaves first_id and last_id out of the page; has_more
	// and the items are unchanged.
	PageNoCursor PageMode = iota + 1
	// PageRepeat answers a request for a next page (one with after) with
	// the page the previous matching request got: the same items and the
	// same last_id, so a client following the cursor asks for the same
	// page again. A request without after is answered as it is.
	PageRepeat
	// PageEndless answers every request with an empty page, has_more true
	// and a last_id never given before: a cursor that never ends.
	PageEndless
)

func (m PageMode) String() string {
	switch m {
	case PageNoCursor:
		return "page-no-cursor"
	case PageRepeat:
		return "page-repeat"
	case PageEndless:
		return "page-endless"
	}
	return "page-mode-" + strconv.Itoa(int(m))
}

// PageFault makes the pages of the lists matching PathPattern misbehave.
type PageFault struct {
	// PathPattern is a path.Match pattern over the path below /v1, as in
	// Rule, for example "/organization/projects/*/api_keys".
	PathPattern string
	Mode        PageMode
	// Skip matching requests are answered normally first (Skip 1: the
	// first page is fine, the second is not).
	Skip int
	// Count is how many matching requests after Skip are affected; 0
	// means every one until ClearFaults.
	Count int
}

type pageRule struct {
	PageFault
	seen      int    // matching requests so far
	prevAfter string // after of the last request answered normally
	endless   int    // cursors handed out in PageEndless
}

// InjectPageFault queues a page fault. Page faults apply to GET requests
// that no status fault or rule has failed; the first matching one wins.
func (e *Emulator) InjectPageFault(f PageFault) error {
	switch f.Mode {
	case PageNoCursor, PageRepeat, PageEndless:
	default:
		return fmt.Errorf("inject page fault: unknown mode %d", f.Mode)
	}
	if f.Skip < 0 || f.Count < 0 {
		return fmt.Errorf("inject page fault: Skip and Count must not be negative")
	}
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.pages = append(e.faults.pages, &pageRule{PageFault: f})
	return nil
}

// pageDecision is what a page fault does to one request.
type pageDecision struct {
	mode   PageMode
	after  string // PageRepeat: the after to answer instead
	cursor string // PageEndless: the last_id to give
}

// decidePage picks the page fault for a GET of p (below /v1) with this after.
func (s *faultState) decidePage(p, after string) (pageDecision, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.pages {
		if !matchPath(r.PathPattern, p) {
			continue
		}
		r.seen++
		n := r.seen - r.Skip // 1 for the first affected request
		if n <= 0 || (r.Mode == PageRepeat && after == "") {
			r.prevAfter = after
			return pageDecision{}, false
		}
		if r.Count > 0 && n >= r.Count {
			s.pages = append(s.pages[:i], s.pages[i+1:]...)
		}
		d := pageDecision{mode: r.Mode}
		switch r.Mode {
		case PageRepeat:
			d.after = r.prevAfter
		case PageEndless:
			r.endless++
			d.cursor = fmt.Sprintf("endless-%d", r.endless)
		}
		return d, true
	}
	return pageDecision{}, false
}

// servePage answers a request under a page fault.
func (e *Emulator) servePage(w http.ResponseWriter, r *http.Request, idx int, d pageDecision) {
	e.log.update(idx, func(q *Request) { q.Fault = d.mode.String() })
	switch d.mode {
	case PageRepeat:
		q := r.URL.Query()
		if d.after == "" {
			q.Del("after")
		} else {
			q.Set("after", d.after)
		}
		r2 := r.Clone(r.Context())
		r2.URL.RawQuery = q.Encode()
		e.handle(w, r2, idx)
	case PageEndless:
		if _, aerr := e.authenticate(r); aerr != nil {
			writeError(w, aerr)
			return
		}
		writeJSON(w, http.StatusOK, listBody[struct{}]{Object: "list", Data: []struct{}{}, LastID: &d.cursor, HasMore: true})
	case PageNoCursor:
		rec := &captureWriter{header: http.Header{}}
		e.handle(rec, r, idx)
		body := rec.body.Bytes()
		if rec.status == http.StatusOK {
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(body, &doc); err == nil {
				delete(doc, "first_id")
				delete(doc, "last_id")
				if b, err := json.Marshal(doc); err == nil {
					body = b
				}
			}
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.status)
		_, _ = w.Write(body)
	}
}

// captureWriter keeps a response to rewrite before it is sent.
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *captureWriter) Header() http.Header { return w.header }
func (w *captureWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *captureWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// isGet reports a read of a list or an object.
func isGet(r *http.Request) bool { return strings.EqualFold(r.Method, http.MethodGet) }
