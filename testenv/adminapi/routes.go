package adminapi

import (
	"net/http"
	"strings"
)

type handler func(c *call) (any, *apiError)

type route struct {
	method  string
	pattern []string // literal segments, "*" for an id
	h       handler
	write   bool
}

// projectsRoot is the first segment routes under /v1/projects/ are matched
// with (a name no /v1/organization/ path can have).
const projectsRoot = "@projects"

// routes are the operations under /v1/organization/ (and /v1/projects/,
// as projectsRoot/...). Paths and methods are
// the spec's; updates are POST on the item URL.
var routes = func() []route {
	r := func(method, pattern string, h handler) route {
		return route{method: method, pattern: strings.Split(pattern, "/"), h: h, write: method != http.MethodGet}
	}
	get, post, del := http.MethodGet, http.MethodPost, http.MethodDelete
	return []route{
		r(get, "users", listUsers),
		r(get, "users/*", getUser),
		r(post, "users/*", updateUser),
		r(del, "users/*", deleteUser),

		r(get, "invites", listInvites),
		r(post, "invites", createInvite),
		r(get, "invites/*", getInvite),
		r(del, "invites/*", deleteInvite),

		r(get, "projects", listProjects),
		r(post, "projects", createProject),
		r(get, "projects/*", getProject),
		r(post, "projects/*", updateProject),
		r(post, "projects/*/archive", archiveProject),

		r(get, "projects/*/users", listProjectUsers),
		r(post, "projects/*/users", addProjectUser),
		r(get, "projects/*/users/*", getProjectUser),
		r(post, "projects/*/users/*", updateProjectUser),
		r(del, "projects/*/users/*", deleteProjectUser),

		r(get, "projects/*/service_accounts", listServiceAccounts),
		r(post, "projects/*/service_accounts", createServiceAccount),
		r(get, "projects/*/service_accounts/*", getServiceAccount),
		r(post, "projects/*/service_accounts/*", updateServiceAccount),
		r(del, "projects/*/service_accounts/*", deleteServiceAccount),
		r(post, "projects/*/service_accounts/*/api_keys", createServiceAccountKey),

		r(get, "projects/*/api_keys", listProjectKeys),
		r(get, "projects/*/api_keys/*", getProjectKey),
		r(del, "projects/*/api_keys/*", deleteProjectKey),

		r(get, "projects/*/rate_limits", listRateLimits),
		r(post, "projects/*/rate_limits/*", updateRateLimit),

		r(get, "projects/*/model_permissions", getModelPerms),
		r(post, "projects/*/model_permissions", setModelPerms),
		r(del, "projects/*/model_permissions", deleteModelPerms),

		r(get, "projects/*/data_retention", getProjectRetention),
		r(post, "projects/*/data_retention", setProjectRetention),
		r(get, "data_retention", getOrgRetention),
		r(post, "data_retention", setOrgRetention),

		r(get, "projects/*/spend_alerts", listProjectAlerts),
		r(post, "projects/*/spend_alerts", createProjectAlert),
		r(get, "projects/*/spend_alerts/*", getProjectAlert),
		r(post, "projects/*/spend_alerts/*", updateProjectAlert),
		r(del, "projects/*/spend_alerts/*", deleteProjectAlert),
		r(get, "spend_alerts", listOrgAlerts),
		r(post, "spend_alerts", createOrgAlert),
		r(get, "spend_alerts/*", getOrgAlert),
		r(post, "spend_alerts/*", updateOrgAlert),
		r(del, "spend_alerts/*", deleteOrgAlert),

		r(get, "projects/*/hosted_tool_permissions", getHostedTools),
		r(post, "projects/*/hosted_tool_permissions", setHostedTools),
		r(get, "projects/*/spend_limit", getProjectLimit),
		r(post, "projects/*/spend_limit", setProjectLimit),
		r(del, "projects/*/spend_limit", deleteProjectLimit),
		r(get, "spend_limit", getOrgLimit),
		r(post, "spend_limit", setOrgLimit),
		r(del, "spend_limit", deleteOrgLimit),

		r(get, "admin_api_keys", listAdminKeys),
		r(post, "admin_api_keys", createAdminKey),
		r(get, "admin_api_keys/*", getAdminKey),
		r(del, "admin_api_keys/*", deleteAdminKey),

		r(get, "audit_logs", listAuditLogs),

		r(get, "certificates", listOrgCertificates),
		r(post, "certificates", uploadCertificate),
		r(post, "certificates/activate", activateOrgCertificates),
		r(post, "certificates/deactivate", deactivateOrgCertificates),
		r(get, "certificates/*", getCertificate),
		r(post, "certificates/*", modifyCertificate),
		r(del, "certificates/*", deleteCertificate),
		r(get, "projects/*/certificates", listProjectCertificates),
		r(post, "projects/*/certificates/activate", activateProjectCertificates),
		r(post, "projects/*/certificates/deactivate", deactivateProjectCertificates),

		r(get, "roles", listRoles),
		r(post, "roles", createRole),
		r(get, "roles/*", getRole),
		r(post, "roles/*", updateRole),
		r(del, "roles/*", deleteRole),
		r(get, "users/*/roles", listUserRoles),
		r(post, "users/*/roles", assignUserRole),
		r(get, "users/*/roles/*", getUserRole),
		r(del, "users/*/roles/*", unassignUserRole),

		r(get, "groups", listGroups),
		r(post, "groups", createGroup),
		r(get, "groups/*", getGroup),
		r(post, "groups/*", updateGroup),
		r(del, "groups/*", deleteGroup),
		r(get, "groups/*/users", listGroupUsers),
		r(post, "groups/*/users", addGroupUser),
		r(get, "groups/*/users/*", getGroupUser),
		r(del, "groups/*/users/*", removeGroupUser),
		r(get, "groups/*/roles", listGroupRoles),
		r(post, "groups/*/roles", assignGroupRole),
		r(get, "groups/*/roles/*", getGroupRole),
		r(del, "groups/*/roles/*", unassignGroupRole),
		r(get, "projects/*/groups", listProjectGroups),
		r(post, "projects/*/groups", addProjectGroup),
		r(get, "projects/*/groups/*", getProjectGroup),
		r(del, "projects/*/groups/*", removeProjectGroup),

		// The spec's project RBAC paths, /v1/projects/..., without /organization.
		r(get, projectsRoot+"/*/roles", listProjectRoles),
		r(post, projectsRoot+"/*/roles", createProjectRole),
		r(get, projectsRoot+"/*/roles/*", getProjectRole),
		r(post, projectsRoot+"/*/roles/*", updateProjectRole),
		r(del, projectsRoot+"/*/roles/*", deleteProjectRole),
		r(get, projectsRoot+"/*/users/*/roles", listProjectAssignments(false)),
		r(post, projectsRoot+"/*/users/*/roles", assignProjectRole(false)),
		r(get, projectsRoot+"/*/users/*/roles/*", getProjectAssignment(false)),
		r(del, projectsRoot+"/*/users/*/roles/*", unassignProjectRole(false)),
		r(get, projectsRoot+"/*/groups/*/roles", listProjectAssignments(true)),
		r(post, projectsRoot+"/*/groups/*/roles", assignProjectRole(true)),
		r(get, projectsRoot+"/*/groups/*/roles/*", getProjectAssignment(true)),
		r(del, projectsRoot+"/*/groups/*/roles/*", unassignProjectRole(true)),

		r(get, "usage/completions", usageHandler(epCompletions)),
		r(get, "usage/embeddings", usageHandler(epEmbeddings)),
		r(get, "usage/moderations", usageHandler(epModerations)),
		r(get, "usage/images", usageHandler(epImages)),
		r(get, "usage/audio_speeches", usageHandler(epSpeeches)),
		r(get, "usage/audio_transcriptions", usageHandler(epTranscriptions)),
		r(get, "usage/vector_stores", usageHandler(epVectorStores)),
		r(get, "usage/code_interpreter_sessions", usageHandler(epCodeInterpreter)),
		r(get, "usage/file_search_calls", usageHandler(epFileSearch)),
		r(get, "usage/web_search_calls", usageHandler(epWebSearch)),
		r(get, "costs", listCosts),
	}
}()

func match(method string, segs []string) (route, []string, bool) {
	for _, rt := range routes {
		if rt.method != method || len(rt.pattern) != len(segs) {
			continue
		}
		var params []string
		ok := true
		for i, p := range rt.pattern {
			switch {
			case p == "*" && segs[i] != "":
				params = append(params, segs[i])
			case p != segs[i]:
				ok = false
			}
			if !ok {
				break
			}
		}
		if ok {
			return rt, params, true
		}
	}
	return route{}, nil, false
}
