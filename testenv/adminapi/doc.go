// Package emulator is a stateful, in-memory OpenAI Admin API organization:
// an http.Handler serving /v1/organization/* as ../shared/openapi/openai-admin.yaml
// describes it. It is the ground truth for the functions' tests, the demo and
// the benchmarks.
//
// Without a Seed the organization holds one owner (owner@example.com), the
// default project and one admin key (AdminKey). SmallSeed is the demo
// organization and LargeSeed the benchmark one (NamedSeed for flags).
//
// Use it in-process (adminapitest.New serves it on loopback and validates all
// traffic against the spec) or standalone behind http.Server. Clients use
// <server>/v1 as base URL and an admin key as bearer token:
//
//	emu, _ := emulator.New(emulator.Options{Seed: ptr(emulator.SmallSeed(1))})
//	srv := httptest.NewServer(emu)
//	client := openai.NewClient(option.WithBaseURL(srv.URL+"/v1"), option.WithAdminAPIKey(emu.AdminKey()))
//
// # What it serves
//
// Users (list with emails/emails[] filter, get, update role, delete),
// invites (list, create, get, delete), projects (list with include_archived,
// create, get, update, archive), project users, project service accounts
// (with their keys), project API keys (list with owner_project_access, get,
// delete), admin API keys (list with order, create, get, delete), audit logs
// (every filter of the spec), project rate limits, model permissions, data
// retention (project and organization) and spend alerts (organization and
// project), certificates (organization and project: upload, get with
// include=content, rename, delete, activate, deactivate), roles, user and
// group role assignments, groups and their users, project groups, project
// roles and project user and group role assignments (the spec's
// /v1/projects/... paths, without /organization), the ten usage endpoints
// and costs. Every success is 200 with the spec's schema.
// Other paths answer 404 "Invalid URL" (TestServedOperations counts them).
//
// Usage and costs are computed per request from usage streams laid out at
// seed time (a few keys of each project with their models, storage and
// sessions per project; see usage.go), so buckets exist for the last 120
// days of the seed whatever the clock, and every filter and group_by of the
// spec applies. Buckets are aligned to their width in UTC (a start_time in
// mid-day gives that day's whole bucket); the bucket holding now counts
// only its elapsed part. Results not grouped by a dimension carry it as
// null. next_page is an opaque cursor (page_...); limit defaults and
// maxima are the spec's per width (costs: 1d only, 7 default, 180 max).
// Costs are the usage priced into line items ("gpt-4o, input", "vector
// store storage", ...), with quantity and quantity_unit when grouped by
// line_item.
//
// Roles, groups and their assignments are the "next" lists ({data,
// has_more, next}, after=<next>). See handlers_access.go and
// handlers_certificates.go for what the spec leaves open.
//
// Lists are in creation order (admin keys and spend alerts also take
// order=desc); limit is 1..100 (default 20; rate limits 100), anything else
// is 400. after is the id of the last item seen; an id deleted since still
// works as a cursor (the list continues where it was), an id never seen in
// that list is 400 with param "after". Audit logs are newest first
// (effective_at descending, ties by insertion, later first); after moves to
// older events and before to newer ones; has_more says whether more exist
// in the direction of travel. effective_at[gt|gte|lt|lte] are parsed from
// the bracket form clients send.
//
// # Errors
//
// Errors have OpenAI's shape {"error":{"message","type","param","code"}}
// with all four keys: 400 for bad parameters and refused operations, 401 for
// a missing, unknown, deleted or expired bearer key, 403 for a project or
// service-account key (sk-proj-, sk-svcacct-) on these admin endpoints, 404
// for unknown ids. Messages never contain key values.
//
// # Semantics the spec leaves open, as chosen here
//
//   - Deleting an organization user removes their project memberships but not
//     their project API keys: those stay and list as owner_project_access
//     "inactive", so an offboarding that forgot to revoke keys is visible.
//     Their admin keys stay valid.
//   - Removing or demoting the last organization owner is refused (400).
//     A user's role is owner or reader (the User schema's values; the
//     update's prose says "owner or member", which is refused). role_id
//     (custom roles) is not emulated and refused.
//   - owner_project_access: a user's key is active while the user is in the
//     organization and the project; a service account's while its role is
//     not "none"; no key of an archived project is active. Without the
//     parameter, only active keys are listed (the spec's "membership-based
//     visibility rules ... may exclude some enabled keys").
//   - Deleting a key owned by a service account is 400, as the spec says
//     (SDK v3.96's comment claims otherwise); delete the service account,
//     which deletes its keys.
//   - Deleting an accepted invite is 400. A pending invite past expires_at
//     (created_at + Options.InviteTTL, default 30 days) reads as expired and
//     can still be deleted. Inviting a current member, or an address with a
//     pending invite, is 400. Omitted invite projects mean the default
//     project as member; [] means none.
//   - Archived projects refuse every change and every project-user and
//     service-account call (400), as "archived projects have no users and no
//     service accounts"; their keys and settings can still be read. The
//     default project cannot be modified or archived (400).
//   - Users can be added to a project only if they are organization members
//     (400 otherwise), once (400 if already in it).
//   - User objects carry the spec's optional `projects`: the active projects
//     the user belongs to, with the project role. Options.OmitUserProjects
//     leaves it out, as an API that does not fill it would.
//   - Admin keys created through the API are bearer credentials at once and
//     stop working when deleted; any key may delete any key, itself
//     included. Each authenticated request sets the key's last_used_at.
//   - Model permissions with no policy read as an empty deny_list; the
//     organization's data retention starts as modified_abuse_monitoring,
//     projects' as organization_default.
//
// # Audit events
//
// Every mutation appends the event the real API would: invite.sent,
// invite.deleted, user.updated and user.deleted (organization and project
// membership alike), user.added (project membership), project.created,
// project.updated, project.archived, service_account.created, .updated and
// .deleted, api_key.created (service-account keys and admin keys) and
// api_key.deleted, rate_limit.updated, certificate.created, .updated and
// .deleted, certificates.activated and .deactivated, group.created,
// .updated and .deleted, role.created, .updated and .deleted, and
// role.assignment.created and .deleted (user and group roles, project
// groups). Group membership changes have no non-tenant event type and
// record none. AcceptInvite records invite.accepted
// and user.added with the invitee's session as actor. The spec has no event
// types for model permissions, data retention or spend alerts, so those
// record none. The actor is {"type":"api_key","api_key":{"id":<admin key
// id>,"type":"user","user":{"id","email"}}} for the admin key used, so
// actor_ids=<admin key id> finds a run's changes. The project is the one in
// the path for project-scoped calls and the default project for
// organization-level ones. Events are stored compactly and rendered per page;
// events given to AppendAuditEvent keep their exact bytes.
//
// # Faults and the request log
//
// Faults (random, by seed) and Rules (targeted, next N matching requests)
// inject 429s (Retry-After in whole seconds >= 1 and Retry-After-Ms), 5xx,
// latency and connection resets. They are decided before the request takes
// effect, unless after-commit is asked for. Every request is logged
// (Requests, MutatingRequests, CountRequests).
//
// # Ids and keys
//
// Ids look like the API's: user-…, invite-…, proj_…, svc_acct_…, key_…,
// alert_…, audit_log-…_yyyymmdd, rl-<model>. Key values are sk-admin-…,
// sk-proj-…, sk-svcacct-… from a seeded generator; lists show them redacted
// as sk-admin...abcd. IssuedSecrets returns every value ever issued.
package adminapi
