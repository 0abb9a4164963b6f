package adminapi

// Wire shapes, field for field as the spec's schemas. Pointers without
// omitempty are required-and-nullable fields (rendered as null); omitempty
// marks optional fields.

type listBody[T any] struct {
	Object  string  `json:"object"`
	Data    []T     `json:"data"`
	FirstID *string `json:"first_id"`
	LastID  *string `json:"last_id"`
	HasMore bool    `json:"has_more"`
}

// listOf renders a page of entries, each by body. first_id and last_id are
// the entries' collection ids: the cursors the collection resolves.
func listOf[T, B any](page []entry[T], hasMore bool, body func(T) B) listBody[B] {
	b := listBody[B]{Object: "list", Data: make([]B, len(page)), HasMore: hasMore}
	for i, e := range page {
		b.Data[i] = body(e.v)
	}
	if n := len(page); n > 0 {
		b.FirstID, b.LastID = &page[0].id, &page[n-1].id
	}
	return b
}

// listPage answers a list operation from items: the page after the
// request's after cursor, keeping what keep accepts (nil: everything).
// limit and desc are already parsed, so each list checks its parameters in
// its own order.
func listPage[T, B any](c *call, items *collection[T], limit int, desc bool, keep func(T) bool, body func(T) B) (any, *apiError) {
	after := c.q.get("after")
	page, more, err := items.page(after, limit, desc, keep)
	if err != nil {
		return nil, unknownCursor("after", after)
	}
	return listOf(page, more, body), nil
}

// listPageBefore is listPage for the lists that also take before (rate
// limits, spend alerts): before applies when after is absent.
func listPageBefore[T, B any](c *call, items *collection[T], limit int, desc bool, body func(T) B) (any, *apiError) {
	before := c.q.get("before")
	if before == "" || c.q.get("after") != "" {
		return listPage(c, items, limit, desc, nil, body)
	}
	page, more, err := items.pageBefore(before, limit, desc, nil)
	if err != nil {
		return nil, unknownCursor("before", before)
	}
	return listOf(page, more, body), nil
}

type deletedBody struct {
	Object  string `json:"object"`
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

type userBody struct {
	Object           string            `json:"object"`
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Email            string            `json:"email"`
	Role             string            `json:"role"`
	AddedAt          int64             `json:"added_at"`
	TechnicalLevel   *string           `json:"technical_level,omitempty"`
	DeveloperPersona *string           `json:"developer_persona,omitempty"`
	Projects         *userProjectsBody `json:"projects,omitempty"`
}

// userProjectsBody is the spec's optional `projects` of a user: the active
// projects the user belongs to, with their project role.
type userProjectsBody struct {
	Object string            `json:"object"`
	Data   []userProjectBody `json:"data"`
}

type userProjectBody struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// userBody renders a user. The caller holds e.mu.
func (e *Emulator) userBody(u *user) userBody {
	b := userBody{Object: "organization.user", ID: u.id, Name: u.name, Email: u.email, Role: u.role, AddedAt: u.addedAt,
		TechnicalLevel: u.technicalLevel, DeveloperPersona: u.developerPersona}
	if e.userProjects {
		b.Projects = &userProjectsBody{Object: "list", Data: []userProjectBody{}}
		for p := range e.projects.all() {
			if p.archived() {
				continue
			}
			if pu, ok := p.users.get(u.id); ok {
				b.Projects.Data = append(b.Projects.Data, userProjectBody{ID: p.id, Name: p.name, Role: pu.role})
			}
		}
	}
	return b
}

type inviteProjectBody struct {
	ID   string `json:"id"`
	Role string `json:"role"`
}

type inviteBody struct {
	Object     string              `json:"object"`
	ID         string              `json:"id"`
	Email      string              `json:"email"`
	Role       string              `json:"role"`
	Status     string              `json:"status"`
	CreatedAt  int64               `json:"created_at"`
	ExpiresAt  *int64              `json:"expires_at"`
	AcceptedAt *int64              `json:"accepted_at"`
	Projects   []inviteProjectBody `json:"projects"`
}

func (i *invite) body(now int64) inviteBody {
	b := inviteBody{Object: "organization.invite", ID: i.id, Email: i.email, Role: i.role, Status: i.status(now),
		CreatedAt: i.createdAt, ExpiresAt: nullable(i.expiresAt), AcceptedAt: nullable(i.acceptedAt), Projects: []inviteProjectBody{}}
	for _, p := range i.projects {
		b.Projects = append(b.Projects, inviteProjectBody(p))
	}
	return b
}

type projectBody struct {
	ID            string  `json:"id"`
	Object        string  `json:"object"`
	Name          string  `json:"name"`
	CreatedAt     int64   `json:"created_at"`
	ArchivedAt    *int64  `json:"archived_at"`
	Status        string  `json:"status"`
	ExternalKeyID *string `json:"external_key_id,omitempty"`
	Residency     string  `json:"residency,omitempty"`
}

func (p *project) body() projectBody {
	return projectBody{ID: p.id, Object: "organization.project", Name: p.name, CreatedAt: p.createdAt,
		ArchivedAt: nullable(p.archivedAt), Status: p.status(), ExternalKeyID: p.externalKeyID, Residency: p.residency}
}

type projectUserBody struct {
	Object  string `json:"object"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	Role    string `json:"role"`
	AddedAt int64  `json:"added_at"`
}

type serviceAccountBody struct {
	Object    string `json:"object"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	CreatedAt int64  `json:"created_at"`
}

func (s *serviceAccount) body() serviceAccountBody {
	return serviceAccountBody{Object: "organization.project.service_account", ID: s.id, Name: s.name, Role: s.role, CreatedAt: s.createdAt}
}

// saKeyBody is ProjectServiceAccountApiKey and ServiceAccountApiKeyBody: the one time a value is shown.
type saKeyBody struct {
	Object    string `json:"object"`
	Value     string `json:"value"`
	Name      string `json:"name"`
	CreatedAt int64  `json:"created_at"`
	ID        string `json:"id"`
}

func (k *projectKey) saKeyBody() *saKeyBody {
	return &saKeyBody{Object: "organization.project.service_account.api_key", Value: k.secret, Name: k.name, CreatedAt: k.createdAt, ID: k.id}
}

type serviceAccountCreateBody struct {
	serviceAccountBody
	APIKey *saKeyBody `json:"api_key"`
}

type keyOwnerUserBody struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	CreatedAt int64  `json:"created_at"`
	Role      string `json:"role"`
}

type keyOwnerSABody struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt int64  `json:"created_at"`
	Role      string `json:"role"`
}

type keyOwnerBody struct {
	Type           string            `json:"type,omitempty"`
	User           *keyOwnerUserBody `json:"user,omitempty"`
	ServiceAccount *keyOwnerSABody   `json:"service_account,omitempty"`
}

type projectKeyBody struct {
	Object             string       `json:"object"`
	RedactedValue      string       `json:"redacted_value"`
	Name               string       `json:"name"`
	CreatedAt          int64        `json:"created_at"`
	LastUsedAt         *nullInt     `json:"last_used_at,omitempty"` // required; omitted only by a Shape
	ID                 string       `json:"id"`
	OwnerProjectAccess string       `json:"owner_project_access"`
	Owner              keyOwnerBody `json:"owner"`
}

type adminOwnerBody struct {
	Type      string `json:"type,omitempty"`
	Object    string `json:"object"`
	ID        string `json:"id,omitempty"`
	Name      string `json:"name"`
	CreatedAt int64  `json:"created_at"`
	Role      string `json:"role"`
}

type adminKeyBody struct {
	Object        string         `json:"object"`
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	RedactedValue string         `json:"redacted_value"`
	CreatedAt     int64          `json:"created_at"`
	ExpiresAt     *int64         `json:"expires_at"`
	LastUsedAt    *nullInt       `json:"last_used_at,omitempty"`
	Owner         adminOwnerBody `json:"owner"`
}

type adminKeyCreateBody struct {
	adminKeyBody
	Value string `json:"value"`
}

func (k *adminKey) body() adminKeyBody {
	b := adminKeyBody{Object: "organization.admin_api_key", ID: k.id, Name: k.name, RedactedValue: redact(k.secret),
		CreatedAt: k.createdAt, ExpiresAt: nullable(k.expiresAt), LastUsedAt: lastUsed(k.lastUsedAt.Load(), k.shape.OmitLastUsedAt),
		Owner: adminOwnerBody{Type: "user", Object: "organization.user", ID: k.owner.id, Name: k.owner.name, CreatedAt: k.owner.createdAt, Role: "owner"}}
	k.shape.admin(&b)
	return b
}

type rateLimitBody struct {
	Object                      string `json:"object"`
	ID                          string `json:"id"`
	Model                       string `json:"model"`
	MaxRequestsPer1Minute       int64  `json:"max_requests_per_1_minute"`
	MaxTokensPer1Minute         int64  `json:"max_tokens_per_1_minute"`
	MaxImagesPer1Minute         *int64 `json:"max_images_per_1_minute,omitempty"`
	MaxAudioMegabytesPer1Minute *int64 `json:"max_audio_megabytes_per_1_minute,omitempty"`
	MaxRequestsPer1Day          *int64 `json:"max_requests_per_1_day,omitempty"`
	Batch1DayMaxInputTokens     *int64 `json:"batch_1_day_max_input_tokens,omitempty"`
}

func (r *rateLimit) body() rateLimitBody {
	return rateLimitBody{Object: "project.rate_limit", ID: r.id, Model: r.model,
		MaxRequestsPer1Minute: r.maxRequestsPer1Minute, MaxTokensPer1Minute: r.maxTokensPer1Minute,
		MaxImagesPer1Minute: r.maxImagesPer1Minute, MaxAudioMegabytesPer1Minute: r.maxAudioMegabytesPer1Minute,
		MaxRequestsPer1Day: r.maxRequestsPer1Day, Batch1DayMaxInputTokens: r.batch1DayMaxInputTokens}
}

type channelBody struct {
	Type          string   `json:"type"`
	Recipients    []string `json:"recipients"`
	SubjectPrefix *string  `json:"subject_prefix"`
}

type spendAlertBody struct {
	ID                  string      `json:"id"`
	Object              string      `json:"object"`
	ThresholdAmount     int64       `json:"threshold_amount"`
	Currency            string      `json:"currency"`
	Interval            string      `json:"interval"`
	NotificationChannel channelBody `json:"notification_channel"`
}

func (a *spendAlert) body(object string) spendAlertBody {
	return spendAlertBody{ID: a.id, Object: object, ThresholdAmount: a.thresholdAmount, Currency: a.currency, Interval: a.interval,
		NotificationChannel: channelBody{Type: "email", Recipients: append([]string{}, a.recipients...), SubjectPrefix: a.subjectPrefix}}
}

type modelPermsBody struct {
	Object   string   `json:"object"`
	Mode     string   `json:"mode"`
	ModelIDs []string `json:"model_ids"`
}

type retentionBody struct {
	Object string `json:"object"`
	Type   string `json:"type"`
}

func nullable(v int64) *int64 {
	if v == 0 {
		return nil
	}
	return &v
}
