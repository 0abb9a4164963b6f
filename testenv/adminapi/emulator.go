package adminapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi/internal/auditlog"
)

// Invite statuses.
const (
	InvitePending  = "pending"
	InviteAccepted = "accepted"
	InviteExpired  = "expired"
)

// Options configures an Emulator. The zero value is a small valid
// organization: one owner, the default project and one admin key.
type Options struct {
	// AdminKeys are admin key values (sk-admin-...) accepted as bearer
	// credentials from the start. When empty, New issues one; see AdminKey.
	AdminKeys []string
	// Seed, when set, fills the organization (see SmallSeed, LargeSeed).
	Seed *Seed
	// RandomSeed drives ids and key values made at run time. 0 means 1.
	RandomSeed uint64
	// Clock is the time source; default time.Now. AdvanceClock moves it on.
	Clock func() time.Time
	// Faults are injected from the first request; SetFaults changes them later.
	Faults Faults
	// InviteTTL is how long an invite stays pending; default 30 days.
	InviteTTL time.Duration
	// Logger receives one debug line per request (no key material). Default: discard.
	Logger *slog.Logger
	// OmitUserProjects leaves out the user object's optional `projects`
	// list, as an API that does not fill it would, so tests can exercise a
	// client's fallback (listing every project's members).
	OmitUserProjects bool
}

// DefaultInviteTTL is how long invites stay pending unless Options say otherwise.
const DefaultInviteTTL = 30 * 24 * time.Hour

// Emulator is an in-memory OpenAI Admin API organization served over HTTP.
// It is safe for concurrent use.
type Emulator struct {
	mu    sync.RWMutex
	clock *clock
	ids   *idSource
	seq   uint64

	users        *collection[*user]
	usersByEmail map[string]string // lower-cased email -> user id
	invites      *collection[*invite]
	projects     *collection[*project]
	defaultProj  string
	adminKeys    *collection[*adminKey]
	creds        map[string]credential
	issued       []string
	audit        *auditlog.Store
	orgAlerts    *collection[*spendAlert]
	orgRetention string
	inviteTTL    time.Duration
	firstAdmin   string
	userProjects bool // fill User.projects

	usage     [nUsageEndpoints][]usageStream // seeded usage by endpoint, computed per request (usage.go)
	certs     *collection[*certificate]
	groups    *collection[*group]
	roles     *collection[*role]
	userRoles map[string]*collection[*assignment] // direct role assignments by user id

	faults *faultState
	log    *requestLog
	logger *slog.Logger

	// orgSpendLimit is the organization's hard spend limit (nil: none).
	orgSpendLimit *spendLimit
}

// New builds an emulator from opts.
func New(opts Options) (*Emulator, error) {
	rs := opts.RandomSeed
	if rs == 0 {
		rs = 1
	}
	if err := opts.Faults.validate(); err != nil {
		return nil, fmt.Errorf("new emulator: %w", err)
	}
	e := &Emulator{
		clock:        newClock(opts.Clock),
		ids:          newIDSource(rs),
		users:        newCollection[*user](),
		usersByEmail: map[string]string{},
		invites:      newCollection[*invite](),
		projects:     newCollection[*project](),
		adminKeys:    newCollection[*adminKey](),
		creds:        map[string]credential{},
		audit:        auditlog.New(rs),
		orgAlerts:    newCollection[*spendAlert](),
		certs:        newCollection[*certificate](),
		groups:       newCollection[*group](),
		roles:        newCollection[*role](),
		userRoles:    map[string]*collection[*assignment]{},
		orgRetention: "modified_abuse_monitoring",
		inviteTTL:    opts.InviteTTL,
		userProjects: !opts.OmitUserProjects,
		faults:       newFaultState(opts.Faults, rs),
		log:          &requestLog{},
		logger:       opts.Logger,
	}
	if e.inviteTTL <= 0 {
		e.inviteTTL = DefaultInviteTTL
	}
	if e.logger == nil {
		e.logger = logging.Discard()
	}
	e.addPredefinedRoles(e.now())
	if opts.Seed != nil {
		if err := e.seed(*opts.Seed); err != nil {
			return nil, fmt.Errorf("new emulator: seed: %w", err)
		}
	} else {
		e.minimal()
	}
	owner := e.firstOwner()
	for _, v := range opts.AdminKeys {
		if !strings.HasPrefix(v, adminKeyPrefix) {
			return nil, errors.New("new emulator: admin keys must start with " + adminKeyPrefix)
		}
		if _, dup := e.creds[v]; dup {
			return nil, errors.New("new emulator: admin key given twice")
		}
		e.addAdminKey("Admin key", v, e.now(), 0, owner)
	}
	if len(opts.AdminKeys) == 0 {
		e.firstAdmin = e.addAdminKey("orgwarden emulator", e.ids.secret(adminKeyPrefix), e.now(), 0, owner).secret
	} else {
		e.firstAdmin = opts.AdminKeys[0]
	}
	return e, nil
}

// minimal creates the organization every emulator has without a seed.
func (e *Emulator) minimal() {
	now := e.now()
	u := e.putUser(&user{id: e.ids.userID(), name: "Org Owner", email: "owner@example.com", role: "owner", addedAt: now})
	p := e.putProject(newProject(e.ids.projectID(), "Default project", now))
	p.isDefault = true
	e.defaultProj = p.id
	e.putProjectUser(p, &projectUser{userID: u.id, role: "owner", addedAt: now})
}

func (e *Emulator) nextSeq() uint64 { e.seq++; return e.seq }

func (e *Emulator) now() int64 { return e.clock.now().Unix() }

func (e *Emulator) putUser(u *user) *user {
	e.users.add(e.nextSeq(), u.id, u)
	e.usersByEmail[strings.ToLower(u.email)] = u.id
	return u
}

func (e *Emulator) putProject(p *project) *project {
	e.projects.add(e.nextSeq(), p.id, p)
	return p
}

func (e *Emulator) putProjectUser(p *project, pu *projectUser) {
	p.users.add(e.nextSeq(), pu.userID, pu)
}

func (e *Emulator) firstOwner() adminKeyOwner {
	for u := range e.users.all() {
		if u.role == "owner" {
			return adminKeyOwner{id: u.id, name: u.name, email: u.email, createdAt: u.addedAt}
		}
	}
	return adminKeyOwner{id: "user-emulator", name: "Emulator", email: "emulator@example.com", createdAt: e.now()}
}

func (e *Emulator) addAdminKey(name, secret string, createdAt, expiresAt int64, owner adminKeyOwner) *adminKey {
	k := &adminKey{id: e.ids.keyID(), name: name, secret: secret, createdAt: createdAt, expiresAt: expiresAt, owner: owner}
	e.adminKeys.add(e.nextSeq(), k.id, k)
	e.creds[secret] = credential{kind: credAdmin, keyID: k.id}
	e.issued = append(e.issued, secret)
	return k
}

// AdminKey returns the first admin key value (from Options.AdminKeys, or the
// one New issued). It is key material: never log it.
func (e *Emulator) AdminKey() string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.firstAdmin
}

// DefaultProjectID is the organization's default project.
func (e *Emulator) DefaultProjectID() string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.defaultProj
}

// ServeHTTP serves /v1/organization/*.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mutating := r.Method != http.MethodGet && r.Method != http.MethodHead
	idx := e.log.begin(Request{Time: e.clock.now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Mutating: mutating})
	setStatus := func(code int) { e.log.update(idx, func(q *Request) { q.Status = code }) }
	sw := &statusWriter{ResponseWriter: w, onStatus: setStatus}
	defer func() {
		e.logger.Debug("emulator request", "method", r.Method, "path", r.URL.Path, "status", sw.status)
	}()

	f := e.faults.decide(r.Method, strings.TrimPrefix(r.URL.Path, "/v1"), mutating)
	if f.latency > 0 {
		t := time.NewTimer(f.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if f.kind == faultNone {
		if isGet(r) {
			if d, ok := e.faults.decidePage(strings.TrimPrefix(r.URL.Path, "/v1"), r.URL.Query().Get("after")); ok {
				e.servePage(sw, r, idx, d)
				return
			}
		}
		e.handle(sw, r, idx)
		return
	}
	e.log.update(idx, func(q *Request) { q.Fault = f.name() })
	if f.afterCommit {
		// Apply the request for real, then lose the answer.
		discard := &bufferWriter{header: http.Header{}}
		e.handle(discard, r, idx)
		committed := discard.status >= 200 && discard.status < 300
		e.log.update(idx, func(q *Request) { q.Committed = committed })
	}
	if f.kind == faultReset {
		setStatus(0)
		reset(w) // w, not sw: the reset must reach the connection to hijack it
		return
	}
	f.apply(sw)
}

// handle authenticates and routes one request.
func (e *Emulator) handle(w http.ResponseWriter, r *http.Request, idx int) {
	c := &call{e: e, r: r, q: query(r.URL.Query())}
	key, aerr := e.authenticate(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	c.key = key
	e.log.update(idx, func(q *Request) { q.KeyID = key.id })

	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/organization/")
	if !ok {
		// The spec's project RBAC operations live under /v1/projects/.
		if rest, ok = strings.CutPrefix(r.URL.Path, "/v1/projects/"); ok {
			rest = projectsRoot + "/" + rest
		}
	}
	if !ok {
		writeError(w, invalidURL(r))
		return
	}
	rt, params, found := match(r.Method, strings.Split(strings.TrimSuffix(rest, "/"), "/"))
	if !found {
		writeError(w, invalidURL(r))
		return
	}
	c.params = params
	if rt.write {
		e.mu.Lock()
		defer e.mu.Unlock()
	} else {
		e.mu.RLock()
		defer e.mu.RUnlock()
	}
	c.now = e.now()
	v, herr := rt.h(c)
	if herr != nil {
		writeError(w, herr)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func invalidURL(r *http.Request) *apiError {
	return &apiError{status: http.StatusNotFound, typ: "invalid_request_error", message: fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path)}
}

// authenticate resolves the bearer key: 401 when missing or unknown, 403 for
// project and service-account keys, which cannot call admin endpoints.
func (e *Emulator) authenticate(r *http.Request) (*adminKey, *apiError) {
	h := r.Header.Get("Authorization")
	secret, ok := strings.CutPrefix(h, "Bearer ")
	secret = strings.TrimSpace(secret)
	if !ok || secret == "" {
		return nil, errNoAuth
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	cred, ok := e.creds[secret]
	if !ok {
		return nil, errBadKey
	}
	if cred.kind != credAdmin {
		return nil, errNotAdmin
	}
	k, ok := e.adminKeys.get(cred.keyID)
	if !ok {
		return nil, errBadKey
	}
	now := e.now()
	if k.expiresAt != 0 && now >= k.expiresAt {
		return nil, errBadKey
	}
	k.lastUsedAt.Store(now)
	return k, nil
}

// call is one routed request.
type call struct {
	e      *Emulator
	r      *http.Request
	q      query
	params []string
	key    *adminKey
	now    int64
}

// statusWriter records the status in the request log before the answer
// leaves, so the log is complete when the client has its response.
type statusWriter struct {
	http.ResponseWriter
	status   int
	onStatus func(int)
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.onStatus(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// bufferWriter swallows a response whose connection is about to be dropped.
type bufferWriter struct {
	header http.Header
	status int
}

func (w *bufferWriter) Header() http.Header { return w.header }
func (w *bufferWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *bufferWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(b), nil
}
