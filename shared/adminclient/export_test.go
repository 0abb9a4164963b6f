package adminclient

// SetNextListPageSize makes the "next" lists (groups, roles, assignments,
// project groups) page n at a time until the returned func restores them.
func SetNextListPageSize(n int) (restore func()) {
	rbac, pg := rbacPageSize, projectGroupPageSize
	rbacPageSize, projectGroupPageSize = n, n
	return func() { rbacPageSize, projectGroupPageSize = rbac, pg }
}
