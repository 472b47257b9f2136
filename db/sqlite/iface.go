package sqlite

import "studio/domain"

// The SQLite store is every piece of the store: the whole (Store, Tx) and
// the part each service declares beside it.
var (
	_ domain.Store                = (*DB)(nil)
	_ domain.Tx                   = (*writeTx)(nil)
	_ domain.ProjectsStore        = (*DB)(nil)
	_ domain.ServiceAccountsStore = (*DB)(nil)
	_ domain.MembersStore         = (*DB)(nil)
	_ domain.SupportStore         = (*DB)(nil)
	_ domain.HygieneStore         = (*DB)(nil)
	_ domain.AuditLogStore        = (*DB)(nil)
	_ domain.APIAuthStore         = (*DB)(nil)
)
